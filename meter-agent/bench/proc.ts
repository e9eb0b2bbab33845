// What Linux says about a process's footprint, for the footprint benchmarks.
import { readFile } from 'node:fs/promises';

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
