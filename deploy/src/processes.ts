import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { DeployError } from './errors.js';

export interface ManagedProcess {
  name: string;
  pid: number;
  binary: string;
  logFile: string;
  /** When the kernel started it (clock ticks since boot, /proc/<pid>/stat field 22): tells a reused PID apart. */
  startTime?: number;
}

function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses: state is field 3.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The kernel's start time of a process (clock ticks since boot), or undefined without procfs. */
export function processStartTime(pid: number): number | undefined {
  const fields = procStat(pid);
  const ticks = fields ? Number(fields[19]) : Number.NaN;
  return Number.isFinite(ticks) ? ticks : undefined;
}

/** Starts a program detached from this process, its output appended to a log file. */
export function startDetached(
  name: string,
  binary: string,
  args: readonly string[],
  options: { cwd: string; logFile: string; env?: NodeJS.ProcessEnv },
): ManagedProcess {
  const fd = openSync(options.logFile, 'a');
  try {
    const child = spawn(binary, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined)
      throw new DeployError('START_FAILED', `${name} (${binary}) could not be started`);
    child.unref();
    const startTime = processStartTime(child.pid);
    return { name, pid: child.pid, binary, logFile: options.logFile, ...(startTime ? { startTime } : {}) };
  } finally {
    closeSync(fd);
  }
}

/** The program this process runs as the kernel records it (argv[0] of /proc/self/cmdline): what isRunning compares. */
export function ownCommand(): string {
  try {
    return readFileSync('/proc/self/cmdline', 'utf8').split('\0')[0] || process.argv0;
  } catch {
    return process.argv0;
  }
}

/** Alive and still the program we started (guards against a reused PID: same binary, same start time). */
export function isRunning(proc: Pick<ManagedProcess, 'pid' | 'binary' | 'startTime'>): boolean {
  try {
    process.kill(proc.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const fields = procStat(proc.pid);
  if (!fields) return true; // no procfs: trust the signal check
  if (fields[0] === 'Z') return false;
  if (proc.startTime !== undefined && Number(fields[19]) !== proc.startTime) return false;
  try {
    return readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').split('\0')[0] === proc.binary;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** SIGTERM, then SIGKILL after the grace period. Resolves once the process is gone. */
export async function stopProcess(proc: ManagedProcess, graceMs = 15_000): Promise<void> {
  if (!isRunning(proc)) return;
  try {
    process.kill(proc.pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(proc)) return;
    await sleep(100);
  }
  try {
    process.kill(proc.pid, 'SIGKILL');
  } catch {
    return;
  }
  while (isRunning(proc)) await sleep(50);
}

/** Resolves when nothing listens on 127.0.0.1:port; rejects with a one-line PORT_IN_USE otherwise. */
export function assertPortFree(port: number, purpose: string, flag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', () =>
      reject(
        new DeployError(
          'PORT_IN_USE',
          `port ${port} (${purpose}) is in use: stop what holds it or choose other ports with ${flag}`,
        ),
      ),
    );
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve()));
  });
}

/** `count` distinct ports the kernel says are free right now (all held open together, so none repeats). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) => {
            server.once('error', reject);
            server.listen({ port: 0, host: '127.0.0.1' }, () => {
              const address = server.address();
              resolve(typeof address === 'object' && address ? address.port : 0);
            });
          }),
      ),
    );
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

export async function logTail(file: string, lines = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
