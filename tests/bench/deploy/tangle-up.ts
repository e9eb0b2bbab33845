/**
 * How long `tangle up` takes with cached binaries until milestones confirm: a new network (genesis,
 * bootstrap, start) and a restart of an existing one; one node and three.
 *
 *   npx tsx tests/bench/deploy/tangle-up.ts [runs=5]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries, loadProfile, tangleDown, tangleUp } from '@tanglewatt/deploy';
import pino from 'pino';

const runs = Number(process.argv[2] ?? 5);
const log = pino({ level: 'warn' });
const binaries = await ensureBinaries({ log });
const profile = await loadProfile('development');

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${(s[0]! / 1000).toFixed(2)} / ${(s[Math.floor(s.length / 2)]! / 1000).toFixed(2)} / ${(s.at(-1)! / 1000).toFixed(2)} s`;
};

const rows: string[][] = [['case', 'runs', 'min / median / max']];
for (const nodes of [1, 3]) {
  const fresh: number[] = [];
  const restart: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dataDir = await mkdtemp(join(tmpdir(), 'tanglewatt-bench-up-'));
    try {
      let t0 = performance.now();
      await tangleUp({ dataDir, profile, binaries, log, nodes, milestoneInterval: '1s', ports: 'auto' });
      fresh.push(performance.now() - t0);
      await tangleDown(dataDir);
      t0 = performance.now();
      await tangleUp({ dataDir, profile, binaries, log, milestoneInterval: '1s' });
      restart.push(performance.now() - t0);
      await tangleDown(dataDir);
    } finally {
      await tangleDown(dataDir).catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  rows.push([`new network, ${nodes} node(s)`, String(runs), stats(fresh)]);
  rows.push([`restart, ${nodes} node(s)`, String(runs), stats(restart)]);
}
process.stdout.write('\ntangle up until confirmed milestones advance (1 s interval)\n');
for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
