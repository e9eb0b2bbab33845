import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeployError } from './errors.js';
import { processStartTime } from './processes.js';
import { claimDataDir } from './system.js';

describe('claimDataDir', () => {
  const owner = (dir: string) => join(dir, 'owner.json');

  it('refuses a data dir another live run owns, with one line naming its pid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'system-'));
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const pid = other.pid!;
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
      await writeFile(owner(dir), JSON.stringify({ pid, argv0, startTime: processStartTime(pid) }));
      const error = await claimDataDir(dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeployError);
      expect((error as DeployError).code).toBe('ALREADY_RUNNING');
      expect((error as DeployError).message).toContain(`pid ${pid}`);
      expect((error as DeployError).message).not.toContain('\n');
      expect(JSON.parse(await readFile(owner(dir), 'utf8')).pid).toBe(pid);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over the record of a run that is gone, or of a PID now used by another program', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'system-'));
    const gone = spawn('true', { stdio: 'ignore' });
    await new Promise((resolve) => gone.once('exit', resolve));
    await writeFile(owner(dir), JSON.stringify({ pid: gone.pid, argv0: 'true' }));
    const release = await claimDataDir(dir);
    expect(JSON.parse(await readFile(owner(dir), 'utf8')).pid).toBe(process.pid);
    await release();

    // A live PID running something else than the recorded program is not the owner.
    await writeFile(owner(dir), JSON.stringify({ pid: process.ppid, argv0: '/no/such/program' }));
    await claimDataDir(dir);
    expect(JSON.parse(await readFile(owner(dir), 'utf8')).pid).toBe(process.pid);
  });

  it('is released on a clean stop', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'system-'));
    const release = await claimDataDir(dir);
    expect(existsSync(owner(dir))).toBe(true);
    await release();
    expect(existsSync(owner(dir))).toBe(false);
  });
});
