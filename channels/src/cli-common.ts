/** What the channels CLI's commands share: key arguments, key files, and resolving a meter's DID. */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { fromHex } from './node.js';

export const hex32 = (what: string) => (value: string) => {
  try {
    return fromHex(value, 32, what);
  } catch {
    throw new InvalidArgumentError(`${what}: 32 bytes as hex`);
  }
};

export function collectPublicKey(value: string, previous: Uint8Array[] = []): Uint8Array[] {
  return [...previous, hex32('public key')(value)];
}

export function collectEpochKey(
  value: string,
  previous: [number, Uint8Array][] = [],
): [number, Uint8Array][] {
  const [epoch, key] = value.split(':');
  if (!epoch || !key || !/^[0-9]+$/.test(epoch)) throw new InvalidArgumentError('epoch key: <epoch>:<hex>');
  return [...previous, [Number(epoch), hex32('epoch key')(key)]];
}

/** A key file: the secret key as 64 hex digits, or `keygen`'s JSON (its secretKey). */
export function readKeyFile(file: string, what = 'X25519', option = '--key-file'): Uint8Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new InvalidArgumentError(
      `${option} ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
  let hex = text;
  if (text.startsWith('{')) {
    try {
      hex = String((JSON.parse(text) as { secretKey?: unknown }).secretKey ?? '');
    } catch {
      hex = '';
    }
  }
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(hex))
    throw new InvalidArgumentError(
      `${option} ${file}: holds no ${what} secret key (64 hex digits, or the JSON keygen prints)`,
    );
  return fromHex(hex.replace(/^0x/, '').toLowerCase(), 32, 'reader key');
}
