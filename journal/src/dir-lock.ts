import { randomUUID } from 'node:crypto';
import { link, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DataDirLockedError } from './errors.js';
import { syncDir } from './files.js';

/**
 * One writer per data dir. The lock file names its holder's pid and boot: a lock left by kill -9 or by
 * the previous boot (pids repeat after a reboot) is stale and taken over; a live holder's lock is
 * refused, in another process and in this one alike.
 */

interface LockContent {
  pid: number;
  bootId: string;
  /** Unique per acquisition, so a holder can tell its own lock from a successor's. */
  token: string;
  since: string;
}

export interface DirLockOptions {
  /** Lock file name inside the data dir. */
  file: string;
  /** Who holds it, for the refusal message: "a wallet-service", "a meter-agent". */
  holderName: string;
  /** What to set instead, for the refusal message (e.g. "give this one another dataDir"). */
  hint?: string;
}

/** Lock files this process holds now: a second acquisition in the same process is refused too. */
const heldHere = new Set<string>();

let cachedBootId: string | undefined;
async function bootId(): Promise<string> {
  cachedBootId ??= (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
  return cachedBootId;
}

/** Whether a process with this pid exists (EPERM: it does, owned by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(file: string): Promise<LockContent | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<LockContent>;
    return typeof parsed.pid === 'number' ? (parsed as LockContent) : undefined;
  } catch {
    return undefined; // missing, or half-written by a holder that died before it finished
  }
}

/** Takes the lock; resolves to its release. Throws DataDirLockedError naming a live holder. */
export async function acquireDirLock(dataDir: string, options: DirLockOptions): Promise<() => Promise<void>> {
  const file = join(dataDir, options.file);
  const refuse = (pid: number | undefined) =>
    new DataDirLockedError(
      `another ${options.holderName}${pid !== undefined ? ` (pid ${pid})` : ''} is using ${dataDir}: stop it first${options.hint ? `, or ${options.hint}` : ''}`,
      pid,
    );
  if (heldHere.has(file)) throw refuse(process.pid);
  const me: LockContent = {
    pid: process.pid,
    bootId: await bootId(),
    token: randomUUID(),
    since: new Date().toISOString(),
  };
  // The content is complete on disk before the name appears (link fails when the name exists), so a
  // reader never sees a half-written lock of a live holder.
  const temp = join(dirname(file), `.${options.file}.${me.token}`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(JSON.stringify(me));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(temp, file);
        await syncDir(dataDir);
        heldHere.add(file);
        return async () => {
          heldHere.delete(file);
          // Only remove the lock if it is still ours.
          if ((await readLock(file))?.token === me.token) await rm(file, { force: true });
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readLock(file);
      const live = holder !== undefined && holder.bootId === me.bootId && processAlive(holder.pid);
      if (live && holder.pid !== process.pid) throw refuse(holder.pid);
      // Stale: move it aside under a name of our own, then check that what we moved is the stale lock we
      // judged. If a competitor replaced it meanwhile, put the competitor's lock back and give way.
      const aside = `${file}.stale.${me.token}`;
      try {
        await rename(file, aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      const moved = await readLock(aside);
      if (moved && holder && moved.token !== holder.token) {
        await link(aside, file).catch(() => undefined);
        await rm(aside, { force: true });
        throw refuse(moved.pid);
      }
      await rm(aside, { force: true });
    }
    throw new DataDirLockedError(
      `cannot take the lock ${file}: remove it if nothing runs on ${dataDir}`,
      undefined,
    );
  } finally {
    await rm(temp, { force: true });
  }
}

/** The holder named in a data dir's lock file, if the lock is held by a live process. */
export async function dirLockHolder(dataDir: string, file: string): Promise<number | undefined> {
  const holder = await readLock(join(dataDir, file));
  if (!holder) return undefined;
  return holder.bootId === (await bootId()) && processAlive(holder.pid) ? holder.pid : undefined;
}
