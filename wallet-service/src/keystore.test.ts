import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMnemonic } from '@tanglewatt/ledger';
import { describe, expect, it } from 'vitest';
import { KeystoreError } from './errors.js';
import { backupKeystore, initKeystore, KDF_COST, readKeystore, writeKeystore } from './keystore.js';

const file = async () => join(await mkdtemp(join(tmpdir(), 'keystore-')), 'keystore.json');
const password = 'correct horse battery';

describe('keystore', () => {
  it('round-trips the mnemonic and stores it only encrypted, mode 0600', async () => {
    const f = await file();
    const mnemonic = generateMnemonic();
    await writeKeystore(f, mnemonic, password);
    expect(await readKeystore(f, password)).toBe(mnemonic);
    const text = await readFile(f, 'utf8');
    for (const word of mnemonic.split(' ')) expect(text).not.toContain(` ${word} `);
    expect(text).not.toContain(mnemonic.split(' ').slice(0, 3).join(' '));
    expect((await stat(f)).mode & 0o777).toBe(0o600);
  });

  it('refuses a wrong password and a tampered file with one line', async () => {
    const f = await file();
    await writeKeystore(f, generateMnemonic(), password);
    await expect(readKeystore(f, 'wrong password!')).rejects.toMatchObject({ code: 'KEYSTORE_BAD_PASSWORD' });
    const parsed = JSON.parse(await readFile(f, 'utf8'));
    parsed.ciphertext = `${parsed.ciphertext.slice(0, -2)}${parsed.ciphertext.endsWith('00') ? '01' : '00'}`;
    await writeFile(f, JSON.stringify(parsed));
    await expect(readKeystore(f, password)).rejects.toThrow(/wrong password \(or the file was altered\)/);
  });

  it('names the fix for a missing file, a short password and an invalid mnemonic', async () => {
    const f = await file();
    await expect(readKeystore(f, 'x')).rejects.toThrow(/create it with "wallet-service init"/);
    await expect(writeKeystore(f, generateMnemonic(), 'short')).rejects.toThrow(
      /^password: at least 8 characters$/,
    );
    await expect(writeKeystore(f, 'not a mnemonic', 'long enough')).rejects.toThrow(/^mnemonic: /);
    await expect(readKeystore(f, 'x')).rejects.toBeInstanceOf(KeystoreError);
  });

  it('never replaces an existing keystore, and leaves no temp file behind', async () => {
    const f = await file();
    const first = generateMnemonic();
    await writeKeystore(f, first, password);
    const error = await writeKeystore(f, generateMnemonic(), password).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEYSTORE_EXISTS' });
    expect((error as Error).message).toContain(f);
    expect((error as Error).message).toContain('--force');
    expect((error as Error).message).not.toContain('\n');
    expect(await readKeystore(f, password)).toBe(first);
    expect(await readdir(join(f, '..'))).toEqual(['keystore.json']);
  });

  it('says in one line that a keystore cannot be written where its directory is missing', async () => {
    const f = join(await file(), '..', 'no-such-dir', 'keystore.json');
    await expect(writeKeystore(f, generateMnemonic(), password)).rejects.toMatchObject({
      code: 'KEYSTORE_UNWRITABLE',
      message: expect.stringMatching(
        /^cannot write keystore .*: the directory .* does not exist: create it first \(ENOENT\)$/,
      ),
    });
  });
});

describe('init', () => {
  it('refuses a second init on the same file and keeps the first mnemonic', async () => {
    const f = await file();
    const first = generateMnemonic();
    await initKeystore(f, first, password);
    await expect(initKeystore(f, generateMnemonic(), password)).rejects.toMatchObject({
      code: 'KEYSTORE_EXISTS',
    });
    expect(await readKeystore(f, password)).toBe(first);
    expect(await readdir(join(f, '..'))).toEqual(['keystore.json']);
  });

  it('with force, moves the old keystore to a timestamped 0600 backup that still opens to the first mnemonic', async () => {
    const f = await file();
    const first = generateMnemonic();
    const second = generateMnemonic();
    await initKeystore(f, first, password);
    const now = new Date('2026-12-01T10:20:30.456Z');
    const { backup } = await initKeystore(f, second, 'another password', { force: true, now });
    expect(backup).toBe(`${f}.2026-12-01T10:20:30.456Z.bak`);
    expect((await stat(backup!)).mode & 0o777).toBe(0o600);
    expect(await readKeystore(backup!, password)).toBe(first);
    expect(await readKeystore(f, 'another password')).toBe(second);
  });

  it('with force and bad input, changes nothing', async () => {
    const f = await file();
    const first = generateMnemonic();
    await initKeystore(f, first, password);
    await expect(initKeystore(f, 'not a mnemonic', password, { force: true })).rejects.toThrow(/^mnemonic: /);
    await expect(initKeystore(f, generateMnemonic(), 'short', { force: true })).rejects.toThrow(
      /^password: /,
    );
    expect(await readdir(join(f, '..'))).toEqual(['keystore.json']);
    expect(await readKeystore(f, password)).toBe(first);
  });

  it('backs up only a file that exists', async () => {
    await expect(backupKeystore(await file())).rejects.toMatchObject({ code: 'KEYSTORE_MISSING' });
  });
});

describe('KDF parameters on read', () => {
  const fixture = new URL('./fixtures/keystore-n15-development.json', import.meta.url);

  it('opens a keystore written before these checks, at N=2^15 (the development mnemonic)', async () => {
    const profile = JSON.parse(
      await readFile(new URL('../../hornet-config/profiles/development.json', import.meta.url), 'utf8'),
    );
    const text = await readFile(fixture, 'utf8');
    expect(JSON.parse(text).kdf.N).toBe(2 ** 15);
    expect(await readKeystore(fixture.pathname, 'development only')).toBe(profile.genesis.mnemonic);
  });

  it('writes new keystores at the chosen cost, 32 MiB of memory', async () => {
    const f = await file();
    await writeKeystore(f, generateMnemonic(), password);
    const { kdf } = JSON.parse(await readFile(f, 'utf8'));
    expect({ N: kdf.N, r: kdf.r, p: kdf.p }).toEqual(KDF_COST);
    expect(128 * kdf.N * kdf.r).toBeLessThanOrEqual(64 * 2 ** 20);
  });

  // biome-ignore lint/suspicious/noExplicitAny: tampering reaches into any field of the parsed file
  const tampered: [string, (k: Record<string, any>) => void, RegExp][] = [
    ['N=2', (k) => (k.kdf.N = 2), /kdf\.N: must be a power of two from 2\^14 to 2\^20$/],
    ['N=2^30', (k) => (k.kdf.N = 2 ** 30), /kdf\.N: must be a power of two from 2\^14 to 2\^20$/],
    ['N=2^21', (k) => (k.kdf.N = 2 ** 21), /kdf\.N: must be a power of two/],
    ['N=2^13', (k) => (k.kdf.N = 2 ** 13), /kdf\.N: must be a power of two/],
    ['N not a power of two', (k) => (k.kdf.N = 3 * 2 ** 14), /kdf\.N: must be a power of two/],
    ['N a string', (k) => (k.kdf.N = '32768'), /kdf\.N: must be a power of two/],
    ['r=1', (k) => (k.kdf.r = 1), /kdf\.r: must be 8$/],
    ['p=4', (k) => (k.kdf.p = 4), /kdf\.p: must be 1$/],
    ['another KDF', (k) => (k.kdf.name = 'pbkdf2'), /kdf\.name: must be "scrypt"$/],
    ['an 8-byte salt', (k) => (k.kdf.salt = k.kdf.salt.slice(0, 16)), /kdf\.salt: must be 16 bytes/],
    ['a 16-byte iv', (k) => (k.cipher.iv = `${k.cipher.iv}00000000`), /cipher\.iv: must be 12 bytes/],
    ['a 4-byte tag', (k) => (k.cipher.tag = k.cipher.tag.slice(0, 8)), /cipher\.tag: must be 16 bytes/],
    ['another cipher', (k) => (k.cipher.name = 'aes-128-cbc'), /cipher\.name: must be "aes-256-gcm"$/],
    ['no kdf', (k) => delete k.kdf, /kdf: must be an object$/],
    ['an unknown field', (k) => (k.kdf.maxmem = 2 ** 40), /kdf: .*maxmem/],
    ['version 2', (k) => (k.version = 2), /version: must be 1$/],
  ];
  it.each(tampered)('refuses %s in one line, before deriving a key', async (_, change, message) => {
    const f = await file();
    const keystore = JSON.parse(await readFile(fixture, 'utf8'));
    change(keystore);
    await writeFile(f, JSON.stringify(keystore));
    const error = await readKeystore(f, 'development only').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEYSTORE_INVALID' });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(f);
    expect((error as Error).message).not.toContain('\n');
  });
});
