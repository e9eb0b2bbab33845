// Footprint benchmark: runs the meter agent as its own process at 1 Hz with 1 and with 4 simulated sensors
// and reports resident memory (VmRSS at the end, VmHWM = peak) and CPU (utime + stime over the measured
// window, as % of one core). `--runtime built` runs `npm run build`'s bundle (what the Pi runs), `tsx` the
// TypeScript through tsx (the dev launcher). Not a test.
//   npm run build && npx tsx tests/bench/meter-agent/footprint.ts [--seconds 60] [--sensors 1,4] [--runtime built,tsx] [--http]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchAgentConfig } from '../support/meter.js';
import { footprint, runtimes } from '../support/proc.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    sensors: { type: 'string', default: '1,4' },
    runtime: { type: 'string', default: 'built' },
    durability: { type: 'string' },
    /** Serve the read API (and its /metrics) on a free loopback port, as the Pi config does. */
    http: { type: 'boolean', default: false },
    /** V8/node flags for the agent, e.g. "--max-semi-space-size=1" (as the systemd unit runs it). */
    'node-flags': { type: 'string', default: '' },
  },
});
const seconds = Number(values.seconds);
const WARMUP_MS = 5_000;

const entries = runtimes('meter-agent', 'meter-agent.cjs');

interface Result {
  runtime: string;
  sensors: number;
  rssMB: number;
  peakMB: number;
  cpuPercent: number;
}

async function measure(runtime: string, sensors: number): Promise<Result> {
  const entry = entries[runtime];
  if (!entry) throw new Error(`--runtime: "built" or "tsx", not "${runtime}"`);
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first`);
  const dir = await mkdtemp(join(tmpdir(), 'footprint-'));
  const configFile = join(dir, 'agent.json');
  await writeFile(
    configFile,
    JSON.stringify({
      ...benchAgentConfig({
        meterId: 'footprint',
        sensors,
        sampleIntervalMs: 1000,
        periodSeconds: 60,
        dataDir: join(dir, 'data'),
      }),
      ...(values.durability ? { durability: JSON.parse(values.durability) } : {}),
      ...(values.http ? { http: { host: '127.0.0.1', port: 0 } } : {}),
    }),
  );
  const nodeFlags = values['node-flags'].split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeFlags, entry, 'run', '--config', configFile], {
    stdio: 'ignore',
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    return { runtime, sensors, ...(await footprint(child.pid!, WARMUP_MS, seconds)) };
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
}

const results: Result[] = [];
for (const runtime of values.runtime.split(','))
  for (const sensors of values.sensors.split(',').map(Number)) results.push(await measure(runtime, sensors));

process.stdout.write(
  `meter-agent at 1 Hz, ${seconds} s after a ${WARMUP_MS / 1000} s warm-up (node ${process.version}${values['node-flags'] ? ` ${values['node-flags']}` : ''})\n`,
);
process.stdout.write(
  '| runtime | sensors | RSS (MB) | peak RSS (MB) | CPU (% of one core) |\n|---|---|---|---|---|\n',
);
for (const r of results)
  process.stdout.write(
    `| ${r.runtime} | ${r.sensors} | ${r.rssMB.toFixed(1)} | ${r.peakMB.toFixed(1)} | ${r.cpuPercent.toFixed(2)} |\n`,
  );
