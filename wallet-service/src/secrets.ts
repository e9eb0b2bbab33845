import { readFileSync, statSync } from 'node:fs';
import { SecretError } from './errors.js';

/**
 * A secret from an environment variable or a file only its owner can read. A file readable by group or
 * others is refused: the secret would already be exposed.
 */
export function readSecret(what: string, source: { env?: string; file?: string }): string {
  if (source.env && process.env[source.env]) return process.env[source.env]!.trim();
  if (source.file) {
    let mode: number;
    try {
      mode = statSync(source.file).mode;
    } catch {
      throw new SecretError(`${what}: file ${source.file} cannot be read: create it with mode 0600`);
    }
    if ((mode & 0o077) !== 0) {
      throw new SecretError(
        `${what}: file ${source.file} is readable by others: run chmod 600 ${source.file}`,
      );
    }
    const value = readFileSync(source.file, 'utf8').trim();
    if (!value) throw new SecretError(`${what}: file ${source.file} is empty`);
    return value;
  }
  throw new SecretError(
    `${what}: not set: set ${source.env ? `the environment variable ${source.env}` : 'it'}${source.file ? ` or write it to ${source.file} (mode 0600)` : ''}`,
  );
}
