/**
 * The fleet simulator: N meters (producer and consumer households, split over child processes) on a tangle of its
 * own, every consumer paying its producer every period; at the end the ledger is audited through the
 * indexer and the core API. Exits 1 unless every period was paid exactly once.
 *
 *   npm run simulate -- --meters 10 --nodes 3 --period 10 --minutes 2
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import pino from 'pino';
import { createLogger } from '../log.js';
import { tangleDown } from '../tangle.js';
import type { FleetOptions } from './plan.js';
import { fleetHolds, fleetTable } from './report.js';
import { type FleetReport, runFleet } from './run.js';

const whole = (what: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`${what}: a whole number from ${min} to ${max}`);
  return n;
};

async function main(argv: string[]): Promise<number> {
  const program = new Command('simulate')
    .description(
      'a fleet of metered households paying every period, on a tangle of its own, audited at the end',
    )
    .requiredOption('--meters <n>', 'meters: a producer and a consumer per pair', whole('meters', 2, 10_000))
    .option('--nodes <n>', 'HORNET nodes', whole('nodes', 1, 5), 3)
    .option('--period <s>', 'payment period in seconds', whole('period', 2, 3600), 60)
    .option('--minutes <m>', 'minutes of metering', whole('minutes', 1, 24 * 60), 5)
    .option('--sample-seconds <s>', 'seconds between a meter’s samples', whole('sample-seconds', 1, 60), 1)
    .option('--no-channel', 'consumers publish no meter channel')
    .option(
      '--processes <k>',
      'child processes the households are split over (default: one per core)',
      whole('processes', 1, 64),
      availableParallelism(),
    )
    .option(
      '--no-spread',
      'every household closes its periods at the same second (default: spread over the period)',
    )
    .option('--cpu-prof-dir <dir>', 'each households process writes a V8 CPU profile (node --cpu-prof) here')
    .option('--milestone-interval <d>', 'milestone interval of the tangle', '1s')
    .option('--data-dir <dir>', 'keep the tangle and households here (default: a temp dir, removed)')
    .option('--json', 'print the report as JSON')
    .showHelpAfterError();
  program.parse(argv);
  const opts = program.opts<{
    meters: number;
    nodes: number;
    period: number;
    minutes: number;
    sampleSeconds: number;
    channel: boolean;
    processes: number;
    spread: boolean;
    cpuProfDir?: string;
    milestoneInterval: string;
    dataDir?: string;
    json?: boolean;
  }>();
  if (opts.meters % 2 !== 0)
    program.error('error: --meters: an even number (a producer and a consumer per pair)');
  if (opts.period < 2 * opts.sampleSeconds)
    program.error('error: --period: at least two samples (2 × --sample-seconds)');
  const log = opts.json
    ? pino({ name: 'simulate', level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2))
    : createLogger('simulate');
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : await mkdtemp(join(tmpdir(), 'tanglewatt-fleet-'));
  const abort = new AbortController();
  // Ctrl-C: the households stop, then the tangle; should that hang, the tangle is stopped after 30 s anyway.
  process.once('SIGINT', () => {
    log.warn('interrupted: stopping the households and the tangle');
    abort.abort(new Error('interrupted'));
    setTimeout(() => {
      void tangleDown(join(dataDir, 'network'))
        .catch(() => undefined)
        .finally(() => process.exit(130));
    }, 30_000).unref();
  });
  const options: FleetOptions = {
    meters: opts.meters,
    nodes: opts.nodes,
    periodSeconds: opts.period,
    minutes: opts.minutes,
    channel: opts.channel,
    milestoneInterval: opts.milestoneInterval,
    sampleSeconds: opts.sampleSeconds,
    processes: opts.processes,
    spread: opts.spread,
    ...(opts.cpuProfDir ? { cpuProfileDir: resolve(opts.cpuProfDir) } : {}),
  };
  let report: FleetReport;
  try {
    report = await runFleet(options, dataDir, log, abort.signal);
  } catch (error) {
    if (abort.signal.aborted) return 130;
    throw error;
  } finally {
    if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(`${opts.json ? JSON.stringify(report, null, 2) : fleetTable(report)}\n`);
  return fleetHolds(report) ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    // Exits explicitly: the SDK's worker threads would keep the process alive.
    process.exit(await main(process.argv));
  } catch (error) {
    process.stderr.write(`simulate: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
