import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCallback } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { assertValidMnemonic } from '@tanglewatt/ledger';

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/** scrypt cost: 2^15 × 8 × 128 B = 32 MiB and about 0.1–0.3 s on a Raspberry Pi 4. */
const KDF = { N: 2 ** 15, r: 8, p: 1 };

interface KeystoreFile {
  version: 1;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: { name: 'aes-256-gcm'; iv: string; tag: string };
  ciphertext: string;
}

export class KeystoreError extends Error {
  override name = 'KeystoreError';
  constructor(
    readonly code: 'KEYSTORE_MISSING' | 'KEYSTORE_BAD_PASSWORD' | 'KEYSTORE_INVALID' | 'KEYSTORE_EXISTS',
    message: string,
  ) {
    super(message);
  }
}

async function deriveKey(
  password: string,
  salt: Buffer,
  kdf: { N: number; r: number; p: number },
): Promise<Buffer> {
  return scrypt(password, salt, 32, { ...kdf, maxmem: 128 * kdf.N * kdf.r * 2 });
}

/** Encrypts the mnemonic under a key derived from the password and writes it (mode 0600). */
export async function writeKeystore(file: string, mnemonic: string, password: string): Promise<void> {
  assertValidMnemonic(mnemonic);
  if (password.length < 8) throw new KeystoreError('KEYSTORE_INVALID', 'password: at least 8 characters');
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await deriveKey(password, salt, KDF);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(mnemonic, 'utf8'), cipher.final()]);
  const content: KeystoreFile = {
    version: 1,
    kdf: { name: 'scrypt', ...KDF, salt: salt.toString('hex') },
    cipher: { name: 'aes-256-gcm', iv: iv.toString('hex'), tag: cipher.getAuthTag().toString('hex') },
    ciphertext: ciphertext.toString('hex'),
  };
  const temp = `${file}.tmp`;
  await writeFile(temp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: 'wx' }).catch(
    (error) => {
      throw new KeystoreError(
        'KEYSTORE_EXISTS',
        `${temp} exists (an interrupted write?): remove it and try again (${error.code})`,
      );
    },
  );
  await rename(temp, file);
}

/** Decrypts the mnemonic; a wrong password and a tampered file both fail authentication. */
export async function readKeystore(file: string, password: string): Promise<string> {
  let parsed: KeystoreFile;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as KeystoreFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KeystoreError(
        'KEYSTORE_MISSING',
        `keystore ${file} does not exist: create it with "wallet-service init"`,
      );
    }
    throw new KeystoreError('KEYSTORE_INVALID', `keystore ${file} is not a keystore file`);
  }
  if (parsed.version !== 1 || parsed.kdf?.name !== 'scrypt' || parsed.cipher?.name !== 'aes-256-gcm') {
    throw new KeystoreError('KEYSTORE_INVALID', `keystore ${file}: unknown format`);
  }
  const key = await deriveKey(password, Buffer.from(parsed.kdf.salt, 'hex'), parsed.kdf);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parsed.cipher.iv, 'hex'));
  decipher.setAuthTag(Buffer.from(parsed.cipher.tag, 'hex'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(parsed.ciphertext, 'hex')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new KeystoreError(
      'KEYSTORE_BAD_PASSWORD',
      `keystore ${file}: wrong password (or the file was altered)`,
    );
  }
}
