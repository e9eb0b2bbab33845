// Footprint benchmark: the wallet-service idle (connected to a fresh local tangle, no requests), as its
// own process: resident memory (VmRSS at the end, VmHWM = peak) and CPU over the idle window. `built` runs
// `npm run build`'s bundle (what the Pi runs), `tsx` the TypeScript through tsx. Starts its own tangle:
// hold the integration lock. Not a test.
//   npm run build && flock /tmp/tanglewatt-integration.lock npx tsx tests/bench/wallet-service/footprint.ts [--seconds 60] [--runtime built,tsx]

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger, tangleDown } from '@tanglewatt/deploy';
import { cpuPercent, cpuTicks, memoryMB } from '../../../meter-agent/bench/proc.js';
import { startDevTangle } from '../../support/dev-tangle.js';
import { prepareWallet } from '../../support/wallets.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    runtime: { type: 'string', default: 'built' },
  },
});
const seconds = Number(values.seconds);
const WARMUP_MS = 10_000;
const serviceDir = fileURLToPath(new URL('../../../wallet-service/', import.meta.url));
const entries: Record<string, string> = {
  built: join(serviceDir, 'dist', 'wallet-service.mjs'),
  tsx: join(serviceDir, 'bin', 'wallet-service.mjs'),
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wallet-service exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error('wallet-service did not answer /health within 60 s');
    await new Promise((r) => setTimeout(r, 250));
  }
}

const log = createLogger('bench');
const dataDir = await mkdtemp(join(tmpdir(), 'tanglewatt-footprint-'));
const tangle = await startDevTangle(dataDir, log, undefined);
const rows: string[] = [];
try {
  for (const runtime of values.runtime.split(',')) {
    const entry = entries[runtime];
    if (!entry || !existsSync(entry))
      throw new Error(`--runtime ${runtime}: ${entry ?? 'unknown'} is missing (npm run build)`);
    const prepared = await prepareWallet(tangle, {});
    // Production schedules (the test helper claims every 2 s and polls every 200 ms).
    const raw = JSON.parse(await readFile(prepared.configFile, 'utf8'));
    const port = await freePort();
    raw.listen = { host: '127.0.0.1', port };
    delete raw.claims;
    delete raw.settlement;
    delete raw.ledger.pollIntervalMs;
    await writeFile(prepared.configFile, JSON.stringify(raw));
    const child = spawn(process.execPath, [entry, 'run', '--config', prepared.configFile], {
      stdio: 'ignore',
      env: { ...process.env, LOG_LEVEL: 'warn' },
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await waitHealthy(`http://127.0.0.1:${port}`, child);
      await new Promise((r) => setTimeout(r, WARMUP_MS));
      const cpu0 = await cpuTicks(child.pid!);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const cpu1 = await cpuTicks(child.pid!);
      const m = await memoryMB(child.pid!);
      const cpu = cpuPercent(cpu0, cpu1, (performance.now() - t0) / 1000);
      rows.push(`| ${runtime} | ${m.rssMB.toFixed(1)} | ${m.peakMB.toFixed(1)} | ${cpu.toFixed(2)} |`);
    } finally {
      child.kill('SIGTERM');
      await exited;
      await rm(prepared.dir, { recursive: true, force: true });
    }
  }
} finally {
  await tangleDown(dataDir);
  await rm(dataDir, { recursive: true, force: true });
}
process.stdout.write(
  `wallet-service idle against a local tangle, ${seconds} s after a ${WARMUP_MS / 1000} s warm-up (node ${process.version})\n`,
);
process.stdout.write('| runtime | RSS (MB) | peak RSS (MB) | CPU (% of one core) |\n|---|---|---|---|\n');
process.stdout.write(`${rows.join('\n')}\n`);
