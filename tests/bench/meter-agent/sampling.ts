// Sampling benchmark: runs the agent in-process on the real clock with simulated sensors and reports
// timer jitter (actual − target tick time), time from tick to sample durable and counted (fsync included),
// and CPU time per sample. Not a test. Run: npx tsx tests/bench/meter-agent/sampling.ts [--seconds 60] [--interval-ms 1000]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger, startAgent } from '@tanglewatt/meter-agent';
import { benchAgentConfig } from '../support/meter.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    'interval-ms': { type: 'string', default: '1000' },
    sensors: { type: 'string', default: '3' },
    dir: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const intervalMs = Number(values['interval-ms']);
const sensorCount = Number(values.sensors);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const parent = values.dir ?? (await mkdtemp(join(tmpdir(), 'meter-bench-')));
const dataDir = join(parent, 'data');
const agent = await startAgent({
  config: benchAgentConfig({
    meterId: 'bench',
    sensors: sensorCount,
    sampleIntervalMs: intervalMs,
    periodSeconds: Math.max(2, Math.ceil((20 * intervalMs) / 1000)),
    dataDir,
  }),
  log: silentLogger(),
});

const lateMs: number[] = [];
const tickAtMono = new Map<number, number>();
const durableMs: number[] = [];
let missed = 0;
agent.events.on('tick', (tick) => {
  lateMs.push(tick.lateMs);
  missed += tick.missedTicks;
  tickAtMono.set(tick.wallMs, tick.actualMonoMs);
});
agent.events.on('sample', (sample) => {
  const at = tickAtMono.get(sample.tMs);
  if (at !== undefined) durableMs.push(performance.now() - at);
  tickAtMono.delete(sample.tMs);
});

const cpuStart = process.cpuUsage();
const wallStart = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
await agent.idle();
const cpu = process.cpuUsage(cpuStart);
const elapsedMs = performance.now() - wallStart;
const periods = agent.snapshot().period.seq - 1;
await agent.stop();
if (!values.dir) await rm(parent, { recursive: true, force: true });

const late = [...lateMs].sort((a, b) => a - b);
const absLate = lateMs.map(Math.abs).sort((a, b) => a - b);
const durable = [...durableMs].sort((a, b) => a - b);
const cpuMs = (cpu.user + cpu.system) / 1000;
const rows: [string, string][] = [
  [
    'run',
    `${(elapsedMs / 1000).toFixed(1)} s, interval ${intervalMs} ms, ${sensorCount} simulated sensors, fsync on`,
  ],
  ['ticks / samples counted', `${lateMs.length} / ${durableMs.length}`],
  ['missed ticks', String(missed)],
  ['periods closed', String(periods)],
  [
    'tick lateness p50 / p99 / max (− = early)',
    `${percentile(late, 50).toFixed(2)} / ${percentile(late, 99).toFixed(2)} / ${late.at(-1)?.toFixed(2)} ms`,
  ],
  ['|jitter| p50 / p99', `${percentile(absLate, 50).toFixed(2)} / ${percentile(absLate, 99).toFixed(2)} ms`],
  [
    'tick → durable p50 / p99 / max',
    `${percentile(durable, 50).toFixed(2)} / ${percentile(durable, 99).toFixed(2)} / ${durable.at(-1)?.toFixed(2)} ms`,
  ],
  ['CPU per sample (user+sys, whole process)', `${(cpuMs / Math.max(1, durableMs.length)).toFixed(3)} ms`],
  ['CPU share of the run', `${((100 * cpuMs) / elapsedMs).toFixed(2)} %`],
  ['Node', `${process.version} on ${process.arch}`],
];
const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
