import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCallback } from 'node:crypto';
import { chmod, link, open, readFile, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { syncDir } from '@tanglewatt/journal';
import { assertValidMnemonic } from '@tanglewatt/ledger';
import { z } from 'zod';
import { KeystoreError } from './errors.js';

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/**
 * scrypt cost of new keystores: 128 × N × r = 32 MiB, and about one second on a Raspberry Pi 3
 * (tests/bench/wallet-service/keystore-kdf.ts; the README's "Keys" paragraph has the figures).
 */
export const KDF_COST = { N: 2 ** 15, r: 8, p: 1 } as const;

/** What a keystore may ask of the KDF when read: anything else is a damaged or doctored file. */
export const KDF_LIMITS = { minLog2N: 14, maxLog2N: 20, r: 8, p: 1 } as const;

const hexBytes = (bytes: number) => {
  const allowed = `${bytes} bytes as lowercase hex`;
  return z.string({ error: allowed }).regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), allowed);
};
const costN = `a power of two from 2^${KDF_LIMITS.minLog2N} to 2^${KDF_LIMITS.maxLog2N}`;

/** An object's own wrong type reads "must be an object"; its other issues keep zod's words. */
const objectError = {
  error: (issue: { code: string }) => (issue.code === 'invalid_type' ? 'an object' : undefined),
};

const keystoreFileSchema = z.strictObject(
  {
    version: z.literal(1, { error: '1' }),
    kdf: z.strictObject(
      {
        name: z.literal('scrypt', { error: '"scrypt"' }),
        N: z
          .number({ error: costN })
          .refine(
            (n) =>
              Number.isInteger(n) &&
              n >= 2 ** KDF_LIMITS.minLog2N &&
              n <= 2 ** KDF_LIMITS.maxLog2N &&
              (n & (n - 1)) === 0,
            costN,
          ),
        r: z.literal(KDF_LIMITS.r, { error: String(KDF_LIMITS.r) }),
        p: z.literal(KDF_LIMITS.p, { error: String(KDF_LIMITS.p) }),
        salt: hexBytes(16),
      },
      objectError,
    ),
    cipher: z.strictObject(
      {
        name: z.literal('aes-256-gcm', { error: '"aes-256-gcm"' }),
        iv: hexBytes(12),
        tag: hexBytes(16),
      },
      objectError,
    ),
    // A 24-word mnemonic is at most 24 × 8 letters and 23 spaces.
    ciphertext: z
      .string({ error: '1 to 512 bytes as lowercase hex' })
      .regex(/^(?:[0-9a-f]{2}){1,512}$/, '1 to 512 bytes as lowercase hex'),
  },
  objectError,
);

type KeystoreFile = z.infer<typeof keystoreFileSchema>;

/** The keystore's key from its password: scrypt with the given cost, 32 bytes (what the KDF benchmark times). */
export async function deriveKeystoreKey(
  password: string,
  salt: Buffer,
  kdf: { N: number; r: number; p: number },
): Promise<Buffer> {
  return scrypt(password, salt, 32, { ...kdf, maxmem: 128 * kdf.N * kdf.r * 2 });
}

/** The checks writeKeystore makes before it touches the disk, for callers that must fail before changing anything. */
export function checkKeystoreInputs(mnemonic: string, password: string): void {
  try {
    assertValidMnemonic(mnemonic);
  } catch {
    // The ledger's message is already one line without the words; keep it a keystore error for the CLI.
    throw new KeystoreError('KEYSTORE_INVALID', 'mnemonic: must be a valid 24-word BIP-39 English mnemonic');
  }
  if (password.length < 8) throw new KeystoreError('KEYSTORE_INVALID', 'password: at least 8 characters');
}

/** The file operations a keystore write makes: the real disk, or one that fails on cue in tests. */
export interface KeystoreDisk {
  /** Creates `file` with `mode` (failing if the name exists), writes `text`, fsyncs and closes it. */
  createFile(file: string, text: string, mode: number): Promise<void>;
  link(existing: string, name: string): Promise<void>;
  unlink(file: string): Promise<void>;
  chmod(file: string, mode: number): Promise<void>;
  syncDirectory(dir: string): Promise<void>;
}

export const nodeDisk: KeystoreDisk = {
  async createFile(file, text, mode) {
    const handle = await open(file, 'wx', mode);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  link,
  unlink,
  chmod,
  syncDirectory: syncDir,
};

function unwritable(file: string, error: unknown): KeystoreError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  const hint =
    code === 'ENOENT'
      ? `the directory ${dirname(file)} does not exist: create it first`
      : code === 'EACCES'
        ? `no permission to write in ${dirname(file)}`
        : code === 'ENOSPC' || code === 'EDQUOT'
          ? `the disk holding ${dirname(file)} is full`
          : code === 'EPERM' || code === 'ENOTSUP'
            ? `the file system of ${dirname(file)} has no hard links: keep the keystore on a Linux file system such as ext4`
            : (error as Error).message;
  return new KeystoreError('KEYSTORE_UNWRITABLE', `cannot write keystore ${file}: ${hint} (${code})`);
}

/**
 * Writes `text` as a new file, never replacing one: the whole content goes to a temp file first (fsynced),
 * which is then hard-linked under the final name — link(2) fails if that name exists — and the directory
 * is fsynced, so after a crash the file is either absent or complete.
 */
async function writeNewFile(file: string, text: string, disk: KeystoreDisk): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await disk.createFile(temp, text, 0o600).catch((error: unknown) => {
      throw unwritable(file, error);
    });
    await disk.link(temp, file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') throw existsError(file);
      throw unwritable(file, error);
    });
  } finally {
    await disk.unlink(temp).catch(() => undefined);
  }
  await disk.syncDirectory(dirname(file));
}

function existsError(file: string): KeystoreError {
  return new KeystoreError(
    'KEYSTORE_EXISTS',
    `keystore ${file} already exists: refusing to replace its mnemonic; to replace it anyway, run init with --force (the old file is kept as ${basename(file)}.<time>.bak)`,
  );
}

/** Encrypts the mnemonic under a key derived from the password and writes it as a new file (mode 0600). */
export async function writeKeystore(
  file: string,
  mnemonic: string,
  password: string,
  disk: KeystoreDisk = nodeDisk,
): Promise<void> {
  checkKeystoreInputs(mnemonic, password);
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await deriveKeystoreKey(password, salt, KDF_COST);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(mnemonic, 'utf8'), cipher.final()]);
  const content: KeystoreFile = {
    version: 1,
    kdf: { name: 'scrypt', ...KDF_COST, salt: salt.toString('hex') },
    cipher: { name: 'aes-256-gcm', iv: iv.toString('hex'), tag: cipher.getAuthTag().toString('hex') },
    ciphertext: ciphertext.toString('hex'),
  };
  await writeNewFile(file, `${JSON.stringify(content, null, 2)}\n`, disk);
}

export async function keystoreExists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw unwritable(file, error);
    },
  );
}

/**
 * Moves an existing keystore aside to `<file>.<ISO time>.bak` (mode 0600) and returns that path. The backup
 * name is linked before the old name is removed, so the key is under one name or both at every moment.
 */
export async function backupKeystore(file: string, now = new Date(), disk = nodeDisk): Promise<string> {
  const backup = `${file}.${now.toISOString()}.bak`;
  try {
    await disk.link(file, backup);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw missingError(file);
    throw unwritable(backup, error);
  }
  try {
    await disk.chmod(backup, 0o600);
    await disk.unlink(file);
  } catch (error) {
    throw new KeystoreError(
      'KEYSTORE_UNWRITABLE',
      `cannot move keystore ${file} aside: it is now also at ${backup}; nothing else changed (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  await disk.syncDirectory(dirname(file));
  return backup;
}

/**
 * A new keystore at `file`. An existing one is refused, or with `force` first moved to a backup, whose path is
 * returned. Bad input is refused before anything on disk changes.
 */
export async function initKeystore(
  file: string,
  mnemonic: string,
  password: string,
  options: { force?: boolean; now?: Date; disk?: KeystoreDisk } = {},
): Promise<{ backup?: string }> {
  checkKeystoreInputs(mnemonic, password);
  let backup: string | undefined;
  if (await keystoreExists(file)) {
    if (!options.force) throw existsError(file);
    backup = await backupKeystore(file, options.now, options.disk);
  }
  await writeKeystore(file, mnemonic, password, options.disk);
  return backup ? { backup } : {};
}

function missingError(file: string): KeystoreError {
  return new KeystoreError(
    'KEYSTORE_MISSING',
    `keystore ${file} does not exist: create it with "wallet-service init"`,
  );
}

/** Reads and checks a keystore file; a KDF cost or field outside the allowed set is refused before any work. */
async function readKeystoreFile(file: string): Promise<KeystoreFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw missingError(file);
    throw new KeystoreError('KEYSTORE_INVALID', `keystore ${file} is not a keystore file`);
  }
  const parsed = keystoreFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new KeystoreError(
      'KEYSTORE_INVALID',
      `keystore ${file}: ${issue.path.join('.') || '(root)'}: ${issue.code === 'unrecognized_keys' ? issue.message : `must be ${issue.message}`}`,
    );
  }
  return parsed.data;
}

/** Decrypts the mnemonic; a wrong password and a tampered file both fail authentication. */
export async function readKeystore(file: string, password: string): Promise<string> {
  const parsed = await readKeystoreFile(file);
  const key = await deriveKeystoreKey(password, Buffer.from(parsed.kdf.salt, 'hex'), parsed.kdf);
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
