// Footprint benchmark: the wallet-service idle (connected to a fresh local tangle, no requests), as its
// own process: resident memory (VmRSS at the end, VmHWM = peak) and CPU over the idle window. `built` runs
// `npm run build`'s bundle (what the Pi runs), `tsx` the TypeScript through tsx. Starts its own tangle:
// hold the integration lock. Not a test.
//   npm run build && flock /tmp/tanglewatt-integration.lock npx tsx tests/bench/wallet-service/footprint.ts [--seconds 60] [--runtime built,tsx]

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, freePorts, prepareHousehold, tangleDown, WalletProcess } from '@tanglewatt/deploy';
import { generateMnemonic } from '@tanglewatt/ledger';
import { startDevTangle } from '../../support/dev-tangle.js';
import { footprint, runtimes } from '../support/proc.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    runtime: { type: 'string', default: 'built' },
  },
});
const seconds = Number(values.seconds);
const WARMUP_MS = 10_000;
const entries = runtimes('wallet-service', 'wallet-service.mjs');

const log = createLogger('bench');
const dataDir = await mkdtemp(join(tmpdir(), 'tanglewatt-footprint-'));
const tangle = await startDevTangle(dataDir, log, undefined);
const rows: string[] = [];
try {
  for (const runtime of values.runtime.split(',')) {
    const entry = entries[runtime];
    if (!entry || !existsSync(entry))
      throw new Error(`--runtime ${runtime}: ${entry ?? 'unknown'} is missing (npm run build)`);
    // A new household without funds, on the production schedules (no test settings).
    const [port] = await freePorts(1);
    const prepared = await prepareHousehold({
      dir: await mkdtemp(join(tmpdir(), 'tanglewatt-wallet-')),
      nodeUrl: tangle.nodes[0]!.restUrl,
      mnemonic: generateMnemonic(),
      unsetEnv: 'TANGLEWATT_BENCH_UNSET',
      configFile: 'wallet.json',
      wallet: { listen: { host: '127.0.0.1', port: port! } },
    });
    const service = new WalletProcess(prepared.configFile!, `http://127.0.0.1:${port}`, entry);
    service.start();
    try {
      await service.up();
      const m = await footprint(service.child!.pid!, WARMUP_MS, seconds);
      rows.push(
        `| ${runtime} | ${m.rssMB.toFixed(1)} | ${m.peakMB.toFixed(1)} | ${m.cpuPercent.toFixed(2)} |`,
      );
    } finally {
      await service.kill('SIGTERM');
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
