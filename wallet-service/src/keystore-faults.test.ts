import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMnemonic } from '@tanglewatt/ledger';
import { describe, expect, it } from 'vitest';
import { initKeystore, type KeystoreDisk, nodeDisk, readKeystore, writeKeystore } from './keystore.js';

const password = 'correct horse battery';

/** An errno error as the kernel reports it. */
const errno = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

/** The real disk, but `operation` fails with `code` when `when` matches its first argument. */
function failing(
  operation: keyof KeystoreDisk,
  code: string,
  when: (path: string) => boolean = () => true,
): KeystoreDisk {
  return {
    ...nodeDisk,
    [operation]: async (path: string, ...rest: unknown[]) => {
      if (when(path)) {
        // A full disk has taken part of the data before it says so.
        if (operation === 'createFile') await writeFile(path, String(rest[0]).slice(0, 40), { mode: 0o600 });
        throw errno(code);
      }
      return (nodeDisk[operation] as (...args: unknown[]) => Promise<void>)(path, ...rest);
    },
  };
}

async function dir(): Promise<{ dir: string; file: string }> {
  const d = await mkdtemp(join(tmpdir(), 'keystore-faults-'));
  return { dir: d, file: join(d, 'keystore.json') };
}

describe('keystore writes under disk faults', () => {
  it('a disk that fills during the write leaves no keystore and no temp file, and says so in one line', async () => {
    const { dir: d, file } = await dir();
    const error = await writeKeystore(
      file,
      generateMnemonic(),
      password,
      failing('createFile', 'ENOSPC'),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEYSTORE_UNWRITABLE' });
    expect((error as Error).message).toMatch(
      /^cannot write keystore .*keystore\.json: the disk holding .* is full \(ENOSPC\)$/,
    );
    expect(await readdir(d)).toEqual([]);
  });

  it('a file system without hard links is named in the error, and nothing is left behind', async () => {
    const { dir: d, file } = await dir();
    await expect(writeKeystore(file, generateMnemonic(), password, failing('link', 'EPERM'))).rejects.toThrow(
      /has no hard links: keep the keystore on a Linux file system such as ext4 \(EPERM\)$/,
    );
    expect(await readdir(d)).toEqual([]);
  });

  it('init --force whose backup link fails changes nothing', async () => {
    const { dir: d, file } = await dir();
    const first = generateMnemonic();
    await initKeystore(file, first, password);
    const disk = failing('link', 'ENOSPC', (path) => path === file);
    await expect(
      initKeystore(file, generateMnemonic(), password, { force: true, disk }),
    ).rejects.toMatchObject({
      code: 'KEYSTORE_UNWRITABLE',
    });
    expect(await readdir(d)).toEqual(['keystore.json']);
    expect(await readKeystore(file, password)).toBe(first);
  });

  it('init --force that cannot remove the old name keeps the old key under both names and writes nothing new', async () => {
    const { dir: d, file } = await dir();
    const first = generateMnemonic();
    await initKeystore(file, first, password);
    const disk = failing('unlink', 'EIO', (path) => path === file);
    const now = new Date('2026-12-01T00:00:00.000Z');
    const error = await initKeystore(file, generateMnemonic(), password, { force: true, now, disk }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'KEYSTORE_UNWRITABLE' });
    expect((error as Error).message).toContain(`it is now also at ${file}.2026-12-01T00:00:00.000Z.bak`);
    expect((await readdir(d)).sort()).toEqual([
      'keystore.json',
      'keystore.json.2026-12-01T00:00:00.000Z.bak',
    ]);
    expect(await readKeystore(file, password)).toBe(first);
    expect(await readKeystore(`${file}.2026-12-01T00:00:00.000Z.bak`, password)).toBe(first);
  });
});
