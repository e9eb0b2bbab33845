/**
 * A simulated month of the local community on a private tangle of its own (with the community indexer):
 * meter agents on simulated loads and an accelerated clock pay through real wallet-services at a
 * time-of-use tariff; then every household's bill is built through the indexer, verified, and the bills
 * are added up against the ledger. Exit status 0 only when every bill passes and they add up to the unit.
 *
 *   npx tsx deploy/src/month/cli.ts --households 4 --days 30 --period-hours 6
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../log.js';
import { tangleDown } from '../tangle.js';
import { runMonth } from './own-tangle.js';
import { monthTable } from './table.js';

async function main(argv: string[]): Promise<boolean> {
  const whole = (what: string, min: number) => (value: string) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`${what}: a whole number ≥ ${min}`);
    return n;
  };
  const program = new Command('month')
    .description('a simulated month of the community: paid at a tariff, billed, verified, added up')
    .option('--households <n>', 'households, each paying the next round the ring', whole('households', 2), 4)
    .option('--days <d>', 'simulated days', whole('days', 1), 30)
    .option('--period-hours <h>', 'metering period (divides 24)', whole('period-hours', 1), 6)
    .option(
      '--seconds-per-period <s>',
      'real seconds each period takes (sets the speed)',
      whole('seconds-per-period', 1),
      2,
    )
    .option(
      '--sample-seconds <s>',
      'simulated seconds between samples (at most 60)',
      whole('sample-seconds', 1),
      60,
    )
    .option('--data-dir <dir>', 'keep the tangle and households here (default: a temp dir, removed)')
    .showHelpAfterError();
  program.parse(argv);
  const opts = program.opts<{
    households: number;
    days: number;
    periodHours: number;
    secondsPerPeriod: number;
    sampleSeconds: number;
    dataDir?: string;
  }>();
  const log = createLogger('month');
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : await mkdtemp(join(tmpdir(), 'tanglewatt-month-'));
  process.once('SIGINT', () => {
    void tangleDown(join(dataDir, 'network'))
      .catch(() => undefined)
      .finally(() => process.exit(130));
  });
  try {
    const result = await runMonth({
      log,
      dataDir,
      households: opts.households,
      days: opts.days,
      periodHours: opts.periodHours,
      realSecondsPerPeriod: opts.secondsPerPeriod,
      sampleSeconds: opts.sampleSeconds,
    });
    process.stdout.write(`${monthTable(result)}\n`);
    return result.ok;
  } finally {
    if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.exitCode = (await main(process.argv)) ? 0 : 1;
  } catch (error) {
    process.stderr.write(`month: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
