import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMnemonic } from '@tanglewatt/ledger';
import { describe, expect, it } from 'vitest';
import { KeystoreError, readKeystore, writeKeystore } from './keystore.js';

const file = async () => join(await mkdtemp(join(tmpdir(), 'keystore-')), 'keystore.json');

describe('keystore', () => {
  it('round-trips the mnemonic and stores it only encrypted, mode 0600', async () => {
    const f = await file();
    const mnemonic = generateMnemonic();
    await writeKeystore(f, mnemonic, 'correct horse battery');
    expect(await readKeystore(f, 'correct horse battery')).toBe(mnemonic);
    const text = await readFile(f, 'utf8');
    for (const word of mnemonic.split(' ')) expect(text).not.toContain(` ${word} `);
    expect(text).not.toContain(mnemonic.split(' ').slice(0, 3).join(' '));
    expect((await stat(f)).mode & 0o777).toBe(0o600);
  });

  it('refuses a wrong password and a tampered file with one line', async () => {
    const f = await file();
    await writeKeystore(f, generateMnemonic(), 'correct horse battery');
    await expect(readKeystore(f, 'wrong password!')).rejects.toMatchObject({ code: 'KEYSTORE_BAD_PASSWORD' });
    const parsed = JSON.parse(await readFile(f, 'utf8'));
    parsed.ciphertext = `${parsed.ciphertext.slice(0, -2)}${parsed.ciphertext.endsWith('00') ? '01' : '00'}`;
    await writeFile(f, JSON.stringify(parsed));
    await expect(readKeystore(f, 'correct horse battery')).rejects.toThrow(
      /wrong password \(or the file was altered\)/,
    );
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
});
