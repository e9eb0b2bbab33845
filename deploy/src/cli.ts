import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_DATA_DIR } from './defaults.js';
import { DeployError } from './errors.js';
import { defaultCacheDir, ensureBinaries } from './install.js';
import { DEFAULT_JOIN_PORTS, joinedMultiaddr, joinNetwork } from './join.js';
import { peerMultiaddrSchema, writeJoinBundle } from './join-bundle.js';
import { addPeer, listPeers } from './join-peers.js';
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

function ipv4(value: string): string {
  if (!/^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$/.test(value))
    throw new InvalidArgumentError('an IPv4 address such as 0.0.0.0 or 192.168.1.10');
  return value;
}

/** `alias=multiaddr` or a bare multiaddr (its alias then is the peer id's tail). */
function peerArg(value: string, previous: { alias: string; multiAddress: string }[] = []) {
  const eq = value.indexOf('=');
  const multiAddress = eq > 0 && !value.startsWith('/') ? value.slice(eq + 1) : value;
  const checked = peerMultiaddrSchema.safeParse(multiAddress);
  if (!checked.success)
    throw new InvalidArgumentError(checked.error.issues[0]?.message ?? 'a gossip multiaddr');
  const alias = eq > 0 && !value.startsWith('/') ? value.slice(0, eq) : `peer-${multiAddress.slice(-8)}`;
  return [...previous, { alias, multiAddress }];
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
  .option('--inx-port <port>', 'INX port of node 1 (node n: +n-1)', port)
  .option('--mqtt-port <port>', 'inx-mqtt websocket port', port)
  .option('--fresh', 'delete the data dir first and create a new network')
  .option('--no-indexer', 'do not start a community indexer beside each node')
  .option(
    '--gossip-host <ipv4>',
    'address the gossip listens on (default 127.0.0.1); 0.0.0.0 lets other hosts join',
    ipv4,
  )
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
      gossipHost?: string;
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
        ...(opts.gossipHost ? { gossipHost: opts.gossipHost } : {}),
      });
      for (const node of state.nodes)
        process.stdout.write(
          `${node.alias}  ${node.restUrl}${node.indexerUrl ? `  indexer ${node.indexerUrl}` : ''}\n`,
        );
      if (state.mqttUrl) process.stdout.write(`mqtt      ${state.mqttUrl}\n`);
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

program
  .command('join-bundle')
  .description(
    "write what another host needs to join this network (snapshot, protocol, coordinator PUBLIC keys, peers); the coordinator's private keys stay here",
  )
  .addOption(dataDirOption)
  .requiredOption('--out <dir>', 'a new directory for the bundle (copy it to the other host)')
  .option('--announce <host>', "the address other hosts reach this host's gossip at")
  .option('--peer <alias=multiaddr>', 'a further node the joiner should peer with (repeatable)', peerArg)
  .action(
    async (opts: {
      dataDir: string;
      out: string;
      announce?: string;
      peer?: { alias: string; multiAddress: string }[];
    }) => {
      const bundle = await writeJoinBundle({
        dataDir: opts.dataDir,
        outDir: opts.out,
        ...(opts.announce ? { announce: opts.announce } : {}),
        ...(opts.peer ? { extraPeers: opts.peer } : {}),
      });
      process.stdout.write(`bundle for network ${bundle.networkName} in ${resolve(opts.out)}\n`);
      for (const p of bundle.peers) process.stdout.write(`  peer ${p.alias}  ${p.multiAddress}\n`);
    },
  );

program
  .command('join')
  .description(
    "run a node of another host's network: created from a join bundle on first use, resumed afterwards; returns once it has caught up",
  )
  .requiredOption('--data-dir <dir>', 'where this node lives (not a network of its own)')
  .option('--bundle <dir>', 'the directory "tangle join-bundle" wrote (first start only)')
  .option('--alias <name>', "this node's name among its peers (default hornet-<hostname>)")
  .option(
    '--announce <host>',
    "the address other hosts reach this host's gossip at (printed in the peer-add line)",
  )
  .option('--gossip-host <ipv4>', 'address the gossip listens on', ipv4, '0.0.0.0')
  .option('--rest-port <port>', 'REST API port (loopback)', port, DEFAULT_JOIN_PORTS.rest)
  .option('--gossip-port <port>', 'gossip port', port, DEFAULT_JOIN_PORTS.gossip)
  .option('--inx-port <port>', 'INX port (loopback)', port, DEFAULT_JOIN_PORTS.inx)
  .option('--indexer-port <port>', "the indexer's REST port (loopback)", port, DEFAULT_JOIN_PORTS.indexer)
  .option(
    '--peer <alias=multiaddr>',
    'a further node to peer with, e.g. one that joined earlier (repeatable)',
    peerArg,
  )
  .option('--no-indexer', 'do not start the community indexer beside the node')
  .option(
    '--foreground',
    'stay attached: stop the node on SIGINT/SIGTERM, exit 1 if a process dies (systemd)',
  )
  .option(
    '--timeout <seconds>',
    'how long to wait without progress while it catches up',
    (v) => Number(v) * 1000,
  )
  .action(
    async (opts: {
      dataDir: string;
      bundle?: string;
      alias?: string;
      announce?: string;
      gossipHost: string;
      restPort: number;
      gossipPort: number;
      inxPort: number;
      indexerPort: number;
      peer?: { alias: string; multiAddress: string }[];
      indexer: boolean;
      timeout?: number;
      foreground?: boolean;
    }) => {
      const binaries = await ensureBinaries({ log });
      const state = await joinNetwork({
        dataDir: resolve(opts.dataDir),
        binaries,
        log,
        ports: { rest: opts.restPort, gossip: opts.gossipPort, inx: opts.inxPort, indexer: opts.indexerPort },
        gossipHost: opts.gossipHost,
        indexer: opts.indexer,
        ...(opts.bundle ? { bundleDir: opts.bundle } : {}),
        ...(opts.alias ? { alias: opts.alias } : {}),
        ...(opts.peer ? { peers: opts.peer } : {}),
        ...(opts.timeout ? { readyTimeoutMs: opts.timeout } : {}),
      });
      const node = state.nodes[0]!;
      process.stdout.write(`${node.alias}  ${node.restUrl}\n`);
      if (state.indexerUrl) process.stdout.write(`indexer   ${state.indexerUrl}\n`);
      const announce = opts.announce ?? (opts.gossipHost === '0.0.0.0' ? '<this-host>' : opts.gossipHost);
      process.stdout.write(
        `on each peer's host run: npm run tangle -- peer-add ${joinedMultiaddr(state, announce)} --alias ${node.alias}\n`,
      );
      if (opts.foreground) await superviseUntilSignal(resolve(opts.dataDir));
    },
  );

program
  .command('peer-add')
  .description('make a node of this data dir keep a static connection to a node on another host')
  .argument('<multiaddr>', "the other node's gossip address, /ip4/<host>/tcp/<port>/p2p/<peer id>")
  .addOption(dataDirOption)
  .option('--alias <name>', 'a name for the peer')
  .option('--node <alias>', 'which node of the data dir (default: the first)')
  .action(async (multiaddr: string, opts: { dataDir: string; alias?: string; node?: string }) => {
    const peer = await addPeer(opts.dataDir, multiaddr, {
      ...(opts.alias ? { alias: opts.alias } : {}),
      ...(opts.node ? { node: opts.node } : {}),
    });
    process.stdout.write(
      `${peer.alias ?? peer.id}  ${peer.relation}  ${peer.connected ? 'connected' : 'not connected yet'}\n`,
    );
  });

program
  .command('peers')
  .description("list a node's peers and whether each is connected")
  .addOption(dataDirOption)
  .option('--node <alias>', 'which node of the data dir (default: the first)')
  .action(async (opts: { dataDir: string; node?: string }) => {
    for (const p of await listPeers(opts.dataDir, opts.node))
      process.stdout.write(
        `${(p.alias ?? '-').padEnd(16)} ${p.relation.padEnd(8)} ${p.connected ? 'connected    ' : 'disconnected '} ${p.multiAddresses.join(' ')}/p2p/${p.id}\n`,
      );
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
