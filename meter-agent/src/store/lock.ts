import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MeterAgentError } from '../errors.js';

interface LockContent {
  pid: number;
  bootId: string;
}

async function bootId(): Promise<string> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One agent per data dir. The lock names the holder's pid and boot: a lock left by kill -9 or by the
 * previous boot (pids repeat after a reboot) is stale and taken over.
 */
export async function acquireLock(dataDir: string): Promise<() => Promise<void>> {
  const file = join(dataDir, 'agent.lock');
  const me: LockContent = { pid: process.pid, bootId: await bootId() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(JSON.stringify(me));
      await handle.close();
      return async () => {
        await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: LockContent | undefined;
    try {
      holder = JSON.parse(await readFile(file, 'utf8')) as LockContent;
    } catch {
      holder = undefined; // half-written by a holder that died: stale
    }
    const held = holder && holder.pid !== me.pid && holder.bootId === me.bootId && alive(holder.pid);
    if (held)
      throw new MeterAgentError(
        'DATA_DIR_LOCKED',
        `another meter-agent (pid ${holder?.pid}) is using ${dataDir}: stop it first, or give this one another dataDir`,
      );
    await rm(file, { force: true });
  }
  throw new MeterAgentError('DATA_DIR_LOCKED', `cannot take the lock ${file}: remove it if no agent runs`);
}
