/**
 * `npm start`: the whole system on its embedded default, in the foreground — the local tangle, a producer
 * and a consumer household with simulated meters and their wallet-services, and the dashboard.
 * Ctrl-C stops it all. Everything persists in .tangle/ between runs; `npm start -- --fresh` starts over.
 */
import { Command } from 'commander';
import { DEFAULT_SYSTEM_DIR } from './defaults.js';
import { DeployError } from './errors.js';
import { createLogger } from './log.js';
import { startSystem } from './system.js';

const log = createLogger('start');

const options = new Command('start')
  .option('--fresh', 'delete the network and households and start over')
  .option('--interval <duration>', 'milestone interval', '5s')
  .option('--period <seconds>', 'payment period of the simulated meters', (v) => Number(v), 60)
  .parse(process.argv)
  .opts<{ fresh?: boolean; interval: string; period: number }>();

try {
  const system = await startSystem({
    dataDir: DEFAULT_SYSTEM_DIR,
    log,
    milestoneInterval: options.interval,
    periodSeconds: options.period,
    ...(options.fresh ? { fresh: true } : {}),
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log.info('stopping');
    await system.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  const t = system.tangle;
  process.stdout.write(
    [
      '',
      `  Dashboard   ${system.dashboardUrl}`,
      '',
      `  network     ${t.networkName} (${t.bech32Hrp}), ${t.nodes.map((n) => n.restUrl).join(', ')}`,
      ...system.wallets.map((w) => `  ${`${w.name} wallet`.padEnd(18)}${w.url}  ${w.address}`),
      ...system.meters.map((m) => `  ${m.name.padEnd(18)}${m.url}`),
      `  data        ${DEFAULT_SYSTEM_DIR}`,
      '',
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
} catch (error) {
  if (error instanceof DeployError) {
    if (error.detail) process.stderr.write(`${error.detail}\n`);
    process.stderr.write(`start: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
