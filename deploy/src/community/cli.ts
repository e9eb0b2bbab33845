/**
 * The community simulator on a real tangle: one wallet-service per household, in this process, each with
 * its own data dir, keystore and address (the address is the household's market identity). Households
 * post signed market messages through POST /market/*, rebuild the book from milestone cones, and settle
 * trades with real payments. Three modes: the reference scenario (the paper's story, as the in-memory
 * `runReference` tells it), trades delivered by meter agents, and a random community at scale.
 *
 *   npx tsx deploy/src/community/cli.ts --scenario reference
 *   npx tsx deploy/src/community/cli.ts --scenario delivery --households 10
 *   npx tsx deploy/src/community/cli.ts --households 20
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MatchingRule } from '@tanglewatt/market';
import { Command, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';
import { createLogger } from '../log.js';
import { tangleDown } from '../tangle.js';
import { type CommunityOnTangleResult, runCommunityOnTangle } from './run.js';
import { deliverySummaryTable, referenceOnTangleTable, scaleSummaryTable } from './tables.js';

async function main(argv: string[]): Promise<void> {
  const whole = (what: string, min: number) => (value: string) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`${what}: a whole number ≥ ${min}`);
    return n;
  };
  const program = new Command('community')
    .description('the community simulator on a private tangle of its own: one wallet-service per household')
    .addOption(
      new Option(
        '--scenario <name>',
        'reference: the paper’s story; delivery: trades delivered and paid by meter-agents (with --households)',
      ).choices(['reference', 'delivery']),
    )
    .option('--households <n>', 'random households (scale mode)', whole('households', 2))
    .option('--orders <k>', 'offers or bids per household (scale mode)', whole('orders', 1), 2)
    .option('--seed <s>', 'seed (scale mode)', whole('seed', 0), 1)
    .addOption(
      new Option('--rule <rule>', 'matching rule (scale mode)').choices(['cda', 'pool']).default('cda'),
    )
    .option(
      '--window-minutes <m>',
      'delivery window of every order (delivery mode)',
      whole('window-minutes', 1),
      3,
    )
    .option('--milestone-interval <d>', 'milestone interval of the tangle', '1s')
    .option('--data-dir <dir>', 'keep the tangle and households here (default: a temp dir, removed)')
    .option('--json', 'print the result as JSON')
    .showHelpAfterError();
  program.parse(argv);
  const opts = program.opts<{
    scenario?: 'reference' | 'delivery';
    households?: number;
    windowMinutes: number;
    orders: number;
    seed: number;
    rule: MatchingRule;
    milestoneInterval: string;
    dataDir?: string;
    json?: boolean;
  }>();
  if (opts.scenario !== 'reference' && opts.households === undefined)
    program.error('give --scenario reference, or --households <n> (with --scenario delivery or alone)');
  // JSON on stdout stays parseable: the log goes to stderr then.
  const log = opts.json
    ? pino({ name: 'community', level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2))
    : createLogger('community');
  const dataDir = opts.dataDir
    ? resolve(opts.dataDir)
    : await mkdtemp(join(tmpdir(), 'tanglewatt-community-'));
  // Ctrl-C skips the run's own teardown: stop the tangle here, so no node outlives the command.
  process.once('SIGINT', () => {
    void tangleDown(join(dataDir, 'network'))
      .catch(() => undefined)
      .then(() => (opts.dataDir ? undefined : rm(dataDir, { recursive: true, force: true })))
      .finally(() => process.exit(130));
  });
  const common = { log, milestoneInterval: opts.milestoneInterval, dataDir };
  let run: CommunityOnTangleResult;
  try {
    run = await runCommunityOnTangle(
      opts.scenario === 'reference'
        ? { ...common, scenario: 'reference' }
        : opts.scenario === 'delivery'
          ? {
              ...common,
              scenario: 'delivery',
              households: opts.households!,
              seed: opts.seed,
              windowMinutes: opts.windowMinutes,
            }
          : {
              ...common,
              households: opts.households!,
              ordersPerHousehold: opts.orders,
              seed: opts.seed,
              rule: opts.rule,
            },
    );
  } finally {
    if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
  }
  const out = (text: string) => process.stdout.write(`${text}\n`);
  // From the holder: a BigInt.prototype.toJSON (the IOTA SDK installs a hex one) runs before a replacer sees v.
  const decimal = function (this: Record<string, unknown>, k: string, v: unknown) {
    const raw = this[k];
    return typeof raw === 'bigint' ? raw.toString() : v;
  };
  if (opts.json) out(JSON.stringify(run, decimal, 2));
  else if (run.mode === 'reference') out(referenceOnTangleTable(run.result));
  else if (run.mode === 'delivery') out(deliverySummaryTable(run.summary));
  else out(scaleSummaryTable(run.summary, opts.milestoneInterval));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    await main(process.argv);
  } catch (error) {
    process.stderr.write(`community: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
