// What Linux says about a process's footprint, for the footprint benchmarks.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on every architecture node runs on. */
export const CLOCK_TICKS = 100;

/** Resident memory now (VmRSS) and at its peak (VmHWM), in MB. */
export async function memoryMB(pid: number): Promise<{ rssMB: number; peakMB: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 };
}

/** CPU time used so far (utime + stime), in clock ticks. */
export async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU use between two readings as % of one core. */
export function cpuPercent(ticks0: number, ticks1: number, elapsedS: number): number {
  return ((ticks1 - ticks0) / CLOCK_TICKS / elapsedS) * 100;
}

/**
 * Resident memory and CPU of a running process: waits out its warm-up, then measures `seconds` of it
 * (memory at the end and at its peak, CPU over the window).
 */
export async function footprint(
  pid: number,
  warmupMs: number,
  seconds: number,
): Promise<{ rssMB: number; peakMB: number; cpuPercent: number }> {
  await new Promise((r) => setTimeout(r, warmupMs));
  const cpu0 = await cpuTicks(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu1 = await cpuTicks(pid);
  const elapsedS = (performance.now() - t0) / 1000;
  return { ...(await memoryMB(pid)), cpuPercent: cpuPercent(cpu0, cpu1, elapsedS) };
}

/**
 * How a package runs as its own process: `built`, `npm run build`'s bundle (what the Pi runs), or `tsx`,
 * its TypeScript through the tsx launcher.
 */
export function runtimes(pkg: 'meter-agent' | 'wallet-service', bundle: string): Record<string, string> {
  const dir = fileURLToPath(new URL(`../../../${pkg}/`, import.meta.url));
  return { built: join(dir, 'dist', bundle), tsx: join(dir, 'bin', `${pkg}.mjs`) };
}
