import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireDirLock, dirLockHolder } from './dir-lock.js';
import { DataDirLockedError } from './errors.js';

const holderScript = fileURLToPath(new URL('./fixtures/hold-lock.ts', import.meta.url));
const options = { file: 'test.lock', holderName: 'test holder' };
const dir = () => mkdtemp(join(tmpdir(), 'dir-lock-'));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** Starts a process that tries to take the lock; resolves with its first line ("held" or an error code). */
function holder(dataDir: string): Promise<{ child: ChildProcess; said: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', holderScript, dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve({ child, said: out.trim() });
    });
    child.once('exit', (code) => {
      if (!out.includes('\n')) reject(new Error(`holder exited ${code} without a word`));
    });
  });
}

describe('data dir lock', () => {
  it('refuses a second holder in the same process until the first releases', async () => {
    const d = await dir();
    const release = await acquireDirLock(d, options);
    await expect(acquireDirLock(d, options)).rejects.toBeInstanceOf(DataDirLockedError);
    await release();
    const again = await acquireDirLock(d, options);
    await again();
    expect(await readdir(d)).toEqual([]);
  });

  it('refuses while another live process holds it, naming its pid', { timeout: 60_000 }, async () => {
    const d = await dir();
    const { child, said } = await holder(d);
    expect(said).toBe('held');
    expect(await dirLockHolder(d, 'test.lock')).toBe(child.pid);
    const refusal = await acquireDirLock(d, options).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(DataDirLockedError);
    expect((refusal as Error).message).toBe(
      `another test holder (pid ${child.pid}) is using ${d}: stop it first`,
    );
  });

  it('takes over a lock left by a holder killed with SIGKILL', { timeout: 60_000 }, async () => {
    const d = await dir();
    const { child } = await holder(d);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const release = await acquireDirLock(d, options);
    expect(JSON.parse(await readFile(join(d, 'test.lock'), 'utf8')).pid).toBe(process.pid);
    await release();
  });

  it('takes over a lock written in another boot, and a half-written one', async () => {
    const d = await dir();
    await writeFile(join(d, 'test.lock'), JSON.stringify({ pid: process.ppid, bootId: 'an-earlier-boot' }));
    await (await acquireDirLock(d, options))();
    await writeFile(join(d, 'test.lock'), '{"pid":');
    await (await acquireDirLock(d, options))();
  });

  it('of several processes racing for one stale lock, exactly one wins', { timeout: 120_000 }, async () => {
    const d = await dir();
    const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
    for (let round = 0; round < 3; round++) {
      await writeFile(join(d, 'test.lock'), JSON.stringify({ pid: 2 ** 22 + 7, bootId: boot, token: 'old' }));
      const results = await Promise.all([holder(d), holder(d), holder(d), holder(d)]);
      expect(results.filter((r) => r.said === 'held')).toHaveLength(1);
      expect(results.filter((r) => r.said === 'DATA_DIR_LOCKED')).toHaveLength(3);
      for (const r of results) r.child.kill('SIGKILL');
      await Promise.all(
        results.map((r) => r.child.exitCode === null && new Promise((res) => r.child.once('exit', res))),
      );
    }
  });
});
