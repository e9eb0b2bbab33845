// Node-only (process, stdout): the simulator's command line. Run: npx tsx market/src/cli.ts simulate --help
import { Command, InvalidArgumentError, Option } from 'commander';
import { MarketError } from './errors.js';
import { simulateCommunity } from './sim/community.js';
import { referenceTable, runReference } from './sim/reference.js';
import { summaryTable } from './sim/summary.js';
import type { MatchingRule } from './trades.js';

function wholeNumber(what: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`${what}: a whole number ≥ ${min}`);
    return n;
  };
}

const out = (line = '') => process.stdout.write(`${line}\n`);

const program = new Command('market').description('TangleWatt community market').showHelpAfterError();

program
  .command('simulate')
  .description('run the reference scenario, or a random community over accelerated time')
  .addOption(new Option('--scenario <name>', 'a named scenario').choices(['reference']))
  .addOption(new Option('--rule <rule>', 'matching rule').choices(['cda', 'pool']))
  .option('--households <n>', 'households in a random community', wholeNumber('households', 2), 20)
  .option('--hours <h>', 'simulated hours', wholeNumber('hours', 1), 24)
  .option('--seed <s>', 'seed', wholeNumber('seed', 0), 1)
  .option('--json', 'print the summary as JSON')
  .action(
    (opts: {
      scenario?: 'reference';
      rule?: MatchingRule;
      households: number;
      hours: number;
      seed: number;
      json?: boolean;
    }) => {
      if (opts.scenario === 'reference') {
        out(referenceTable(runReference(opts.rule ?? 'pool')));
        return;
      }
      const t0 = performance.now();
      const run = simulateCommunity({
        households: opts.households,
        hours: opts.hours,
        seed: opts.seed,
        rule: opts.rule ?? 'cda',
      });
      const elapsedMs = performance.now() - t0;
      if (opts.json)
        out(JSON.stringify(run.summary, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2));
      else out(summaryTable(run.summary, elapsedMs));
    },
  );

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof MarketError) {
    process.stderr.write(`market: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
