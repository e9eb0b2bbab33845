import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_DATA_DIR } from './defaults.js';
import { DeployError } from './errors.js';
import { defaultCacheDir, ensureBinaries } from './install.js';
import { createLogger } from './log.js';
import { loadProfile } from './profile.js';
import { DEFAULT_PORTS, type TanglePorts, tangleDown, tangleStatus, tangleUp } from './tangle.js';

const log = createLogger('tangle');

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new InvalidArgumentError('a port number from 1 to 65535');
  return n;
}

function nodeCount(value: string): number {
  const n = Number(value);
  if (n !== 1 && n !== 3)
    throw new InvalidArgumentError('1 (one node) or 3 (the three-node community network)');
  return n;
}

const dataDirOption = new Option('--data-dir <dir>', 'where the network lives').default(DEFAULT_DATA_DIR);

const program = new Command('tangle')
  .description('Run a private IOTA Stardust tangle (HORNET + coordinator) on this machine')
  .showHelpAfterError();

program
  .command('install')
  .description('build the pinned HORNET binaries into the cache if they are missing')
  .option('--cache-dir <dir>', 'binary cache', defaultCacheDir())
  .action(async (opts: { cacheDir: string }) => {
    const binaries = await ensureBinaries({ cacheDir: opts.cacheDir, log });
    log.info({ binaries }, 'binaries ready');
  });

program
  .command('up')
  .description('start the network, creating it on first use; returns once milestones confirm')
  .addOption(dataDirOption)
  .option(
    '--profile <name|file>',
    'network profile: development, or a production profile file',
    'development',
  )
  .option('--nodes <n>', '1, or 3 statically peered nodes', nodeCount)
  .option('--interval <duration>', "milestone interval, e.g. 1s (default: the profile's)")
  .option('--rest-port <port>', 'REST API port of node 1 (node n: +n-1)', port)
  .option('--gossip-port <port>', 'gossip port of node 1 (node n: +n-1)', port)
  .option('--inx-port <port>', 'INX port of node 1', port)
  .option('--mqtt-port <port>', 'inx-mqtt websocket port', port)
  .option('--fresh', 'delete the data dir first and create a new network')
  .option('--no-indexer', 'do not start the community indexer beside node 1')
  .option('--timeout <seconds>', 'how long to wait for confirmed milestones', (v) => Number(v) * 1000)
  .option(
    '--foreground',
    'stay attached: stop the network on SIGINT/SIGTERM, exit 1 if a process dies (systemd)',
  )
  .action(
    async (opts: {
      dataDir: string;
      profile: string;
      nodes?: number;
      interval?: string;
      restPort?: number;
      gossipPort?: number;
      inxPort?: number;
      mqttPort?: number;
      fresh?: boolean;
      timeout?: number;
      foreground?: boolean;
      indexer: boolean;
    }) => {
      const profile = await loadProfile(opts.profile);
      const anyPort = opts.restPort ?? opts.gossipPort ?? opts.inxPort ?? opts.mqttPort;
      const ports: TanglePorts | undefined =
        anyPort === undefined
          ? undefined
          : {
              rest: opts.restPort ?? DEFAULT_PORTS.rest,
              gossip: opts.gossipPort ?? DEFAULT_PORTS.gossip,
              inx: opts.inxPort ?? DEFAULT_PORTS.inx,
              mqtt: opts.mqttPort ?? DEFAULT_PORTS.mqtt,
            };
      const binaries = await ensureBinaries({ log });
      const state = await tangleUp({
        dataDir: resolve(opts.dataDir),
        profile,
        binaries,
        log,
        ...(opts.nodes ? { nodes: opts.nodes } : {}),
        ...(opts.interval ? { milestoneInterval: opts.interval } : {}),
        ...(ports ? { ports } : {}),
        ...(opts.fresh ? { fresh: true } : {}),
        ...(opts.timeout ? { readyTimeoutMs: opts.timeout } : {}),
        indexer: opts.indexer,
      });
      for (const node of state.nodes) process.stdout.write(`${node.alias}  ${node.restUrl}\n`);
      if (state.mqttUrl) process.stdout.write(`mqtt      ${state.mqttUrl}\n`);
      if (state.indexerUrl) process.stdout.write(`indexer   ${state.indexerUrl}\n`);
      if (opts.foreground) await superviseUntilSignal(resolve(opts.dataDir));
    },
  );

/** Keeps the CLI attached to a running network, as a service manager expects of its main process. */
async function superviseUntilSignal(dataDir: string): Promise<never> {
  const stop = async (code: number) => {
    await tangleDown(dataDir).catch(() => undefined);
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  for (;;) {
    await new Promise((r) => setTimeout(r, 5_000));
    const status = await tangleStatus(dataDir);
    const dead = status.processes.filter((p) => !p.running);
    if (dead.length) {
      log.error({ dead: dead.map((p) => p.name) }, 'a network process exited; stopping the rest');
      await stop(1);
    }
  }
}

program
  .command('down')
  .description('stop every process of the network (data is kept)')
  .addOption(dataDirOption)
  .action(async (opts: { dataDir: string }) => {
    const stopped = await tangleDown(opts.dataDir);
    log.info({ stopped: stopped.map((p) => `${p.name}:${p.pid}`) }, 'tangle stopped');
  });

program
  .command('status')
  .description("show the network's processes and each node's milestones")
  .addOption(dataDirOption)
  .option('--json', 'print JSON')
  .action(async (opts: { dataDir: string; json?: boolean }) => {
    const status = await tangleStatus(opts.dataDir);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    } else {
      process.stdout.write(`network ${status.networkName} in ${status.dataDir}\n`);
      for (const p of status.processes)
        process.stdout.write(
          `  ${p.name.padEnd(12)} pid ${String(p.pid).padEnd(8)} ${p.running ? 'running' : 'stopped'}\n`,
        );
      for (const n of status.nodes)
        process.stdout.write(
          `  ${n.alias.padEnd(12)} ${n.restUrl}  ${n.synced ? 'synced' : 'not synced'}${n.healthy ? ', healthy' : ''}  latest ${n.latestMilestone ?? '-'}  confirmed ${n.confirmedMilestone ?? '-'}${n.error ? `  (${n.error})` : ''}\n`,
        );
    }
    if (status.processes.some((p) => !p.running) || status.nodes.some((n) => !n.synced)) process.exitCode = 3;
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof DeployError) {
    if (error.detail) process.stderr.write(`${error.detail}\n`);
    process.stderr.write(`tangle: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
