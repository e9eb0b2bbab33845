import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** PIDs of live processes whose command line or working directory lies inside `dir` (Linux /proc). */
export function processesUnder(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        // another user's process
      }
      if (cmdline.includes(dir) || cwd.startsWith(dir)) found.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return found;
}
