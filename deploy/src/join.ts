import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { NodeApi, type NodeInfo } from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import { checkAborted, DeployError } from './errors.js';
import { startIndexer } from './indexer.js';
import type { Binaries } from './install.js';
import { gossipMultiaddr, type JoinBundle, readJoinBundle } from './join-bundle.js';
import { assertPortFree, isRunning, type ManagedProcess, startDetached, stopProcess } from './processes.js';
import { NODE_CONFIG_FILE } from './profile.js';
import { hornetTool, newP2pIdentity, writeSecret } from './tangle-genesis.js';
import { failIfExited, isSynced } from './tangle-readiness.js';
import { type NodeEntry, readState, startRecorder, type TangleState, writeState } from './tangle-state.js';

export interface JoinPorts {
  rest: number;
  gossip: number;
  inx: number;
  /** The indexer's REST API (loopback). */
  indexer: number;
}

export const DEFAULT_JOIN_PORTS: JoinPorts = { rest: 14265, gossip: 15600, inx: 9029, indexer: 9092 };

export interface JoinOptions {
  /** Where this node lives: its HORNET dir, logs, indexer store and `tangle.json`. */
  dataDir: string;
  /** A bundle from `tangle join-bundle`; needed the first time only (afterwards the node resumes). */
  bundleDir?: string;
  binaries: Binaries;
  log: Logger;
  /** This node's name among its peers; `hornet-<hostname>` by default. */
  alias?: string;
  ports?: JoinPorts;
  /** Address this node's gossip listens on: 0.0.0.0 (default) or one of the host's addresses. */
  gossipHost?: string;
  /** More peers than the bundle names, e.g. a node that joined earlier: gossip multiaddrs. */
  peers?: { alias: string; multiAddress: string }[];
  /** Start the community indexer beside the node on its INX port (when its binary was built). */
  indexer?: boolean;
  readyTimeoutMs?: number;
  signal?: AbortSignal;
}

/** A node config for a joining node: the template, the network's protocol section, this node's paths and ports. */
export function joinedNodeConfig(
  template: Record<string, unknown>,
  protocol: JoinBundle['protocol'],
  node: { alias: string; dir: string; gossipHost: string; ports: JoinPorts; jwtSalt: string },
): Record<string, unknown> {
  const config = structuredClone(template) as Record<string, Record<string, unknown>>;
  const section = (name: string) => {
    config[name] ??= {};
    return config[name];
  };
  section('node').alias = node.alias;
  config.protocol = structuredClone(protocol);
  Object.assign(section('db'), { path: join(node.dir, 'db') });
  const p2p = section('p2p');
  p2p.bindMultiAddresses = [`/ip4/${node.gossipHost}/tcp/${node.ports.gossip}`];
  p2p.db = { path: join(node.dir, 'p2pstore') };
  Object.assign(section('snapshots'), {
    fullPath: join(node.dir, 'snapshots', 'full_snapshot.bin'),
    deltaPath: join(node.dir, 'snapshots', 'delta_snapshot.bin'),
  });
  Object.assign(section('restAPI'), {
    bindAddress: `127.0.0.1:${node.ports.rest}`,
    jwtAuth: { salt: node.jwtSalt },
  });
  Object.assign(section('inx'), { enabled: true, bindAddress: `127.0.0.1:${node.ports.inx}` });
  return config;
}

/** The default alias: `hornet-` and the host name, reduced to what HORNET's peer aliases allow. */
export function defaultAlias(host = hostname()): string {
  const cleaned = host
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `hornet-${cleaned || 'node'}`.slice(0, 64);
}

/** Creates the node's identity, config, snapshot and admin token from a bundle in an empty data dir. */
async function createJoinedNode(options: JoinOptions, bundle: JoinBundle): Promise<TangleState> {
  const dataDir = resolve(options.dataDir);
  const alias = options.alias ?? defaultAlias();
  const ports = options.ports ?? DEFAULT_JOIN_PORTS;
  const { binaries, signal } = options;
  if (bundle.peers.some((p) => p.alias === alias)) {
    throw new DeployError(
      'BAD_CONFIG',
      `--alias ${alias}: a node of the network already has it: choose another`,
    );
  }
  const dir = join(dataDir, alias);
  for (const sub of ['secrets', 'logs', join(alias, 'snapshots')])
    await mkdir(join(dataDir, sub), { recursive: true });
  await chmod(join(dataDir, 'secrets'), 0o700);

  const bundleDir = resolve(options.bundleDir!);
  await copyFile(join(bundleDir, bundle.snapshots.full), join(dir, 'snapshots', 'full_snapshot.bin'));
  if (bundle.snapshots.delta) {
    await copyFile(join(bundleDir, bundle.snapshots.delta), join(dir, 'snapshots', 'delta_snapshot.bin'));
  }
  const identity = await newP2pIdentity(binaries, dir, signal);

  // This node's own JWT salt and admin token: the coordinator host's never leave it.
  const jwtSalt = randomBytes(24).toString('hex');
  await writeSecret(join(dataDir, 'secrets', 'keys.json'), `${JSON.stringify({ jwtSalt }, null, 2)}\n`);
  const template = JSON.parse(await readFile(NODE_CONFIG_FILE, 'utf8')) as Record<string, unknown>;
  const gossipHost = options.gossipHost ?? '0.0.0.0';
  const config = joinedNodeConfig(template, bundle.protocol, { alias, dir, gossipHost, ports, jwtSalt });
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const jwt = JSON.parse(
    await hornetTool(
      binaries,
      ['jwt-api', '--json', `--databasePath=${join(dir, 'p2pstore')}`, `--salt=${jwtSalt}`],
      undefined,
      signal,
    ),
  ) as { jwt: string };
  await writeSecret(join(dataDir, 'secrets', 'admin.jwt'), `${jwt.jwt}\n`);

  const node: NodeEntry = {
    alias,
    restUrl: `http://127.0.0.1:${ports.rest}`,
    restPort: ports.rest,
    gossipPort: ports.gossip,
    peerId: identity.peerId,
    dir,
  };
  const state: TangleState = {
    formatVersion: 1,
    networkName: bundle.networkName,
    bech32Hrp: bundle.bech32Hrp,
    profile: 'joined',
    milestoneInterval: bundle.milestoneInterval,
    createdAt: new Date().toISOString(),
    ports: { rest: ports.rest, gossip: ports.gossip, inx: ports.inx, mqtt: 0 },
    nodes: [node],
    genesis: bundle.genesis,
    processes: [],
    gossipHost,
    joined: { peers: [...bundle.peers, ...(options.peers ?? [])], indexerPort: ports.indexer },
  };
  await writeState(dataDir, state);
  return state;
}

/**
 * Joins this host to another host's network: on first use creates the node from the bundle, then starts
 * HORNET statically peered with the bundle's nodes (and any `peers`), plus the indexer when asked, and
 * resolves once the node has caught up and follows new milestones. The other side learns of this node
 * with `tangle peer-add` (HORNET then keeps it in its peering.json).
 */
export async function joinNetwork(options: JoinOptions): Promise<TangleState> {
  const dataDir = resolve(options.dataDir);
  const { binaries, log, signal } = options;
  checkAborted(signal);
  let state = await readState(dataDir).catch(() => undefined);
  if (state && !state.joined) {
    throw new DeployError(
      'BAD_CONFIG',
      `${dataDir} holds a network of its own: give --data-dir a new directory for the joining node`,
    );
  }
  const alive = (state?.processes ?? []).filter((p) => isRunning(p));
  if (alive.length) {
    throw new DeployError(
      'ALREADY_RUNNING',
      `a node is already running from ${dataDir} (${alive.map((p) => p.name).join(', ')}): run "npm run tangle -- down --data-dir ${dataDir}" first`,
    );
  }
  if (!state) {
    if (!options.bundleDir) {
      throw new DeployError(
        'BAD_CONFIG',
        `--bundle: ${dataDir} holds no node yet: give the bundle made by "tangle join-bundle"`,
      );
    }
    if (existsSync(dataDir) && (await readdir(dataDir)).length > 0) {
      throw new DeployError(
        'DATA_DIR_STALE',
        `${dataDir} holds files but no joined node: give an empty or new directory`,
      );
    }
    const bundle = await readJoinBundle(options.bundleDir);
    const ports = options.ports ?? DEFAULT_JOIN_PORTS;
    await assertJoinPortsFree(ports);
    try {
      state = await createJoinedNode(options, bundle);
    } catch (error) {
      await rm(dataDir, { recursive: true, force: true });
      throw error;
    }
  } else if (options.peers?.length) {
    const known = new Set(state.joined!.peers.map((p) => p.multiAddress));
    state.joined!.peers.push(...options.peers.filter((p) => !known.has(p.multiAddress)));
  }
  const node = state.nodes[0]!;
  const joined = state.joined!;
  await assertJoinPortsFree({ ...state.ports, indexer: joined.indexerPort ?? 0 }, options.indexer === true);

  const { started, record } = startRecorder(dataDir, state);
  try {
    const peers = joined.peers;
    await record(
      startDetached(
        node.alias,
        binaries.hornet,
        [
          '-c',
          join(node.dir, 'config.json'),
          `--p2p.peers=${peers.map((p) => p.multiAddress).join(',')}`,
          `--p2p.peerAliases=${peers.map((p) => p.alias).join(',')}`,
        ],
        { cwd: node.dir, logFile: join(dataDir, 'logs', `${node.alias}.log`) },
      ),
    );
    const indexerBinary = binaries['tanglewatt-indexer'];
    delete state.indexerUrl;
    delete node.indexerUrl;
    if (options.indexer && !indexerBinary)
      log.warn('tanglewatt-indexer was not built: the node runs without it');
    if (options.indexer && indexerBinary) {
      checkAborted(signal);
      // It retries until HORNET's INX server listens, so it can start right away.
      const indexer = await startIndexer({
        binary: indexerBinary,
        inxAddress: `127.0.0.1:${state.ports.inx}`,
        dataDir: join(dataDir, 'indexer'),
        logFile: join(dataDir, 'logs', 'indexer.log'),
        ...(joined.indexerPort ? { apiPort: joined.indexerPort } : {}),
      });
      await record(indexer.process);
      state.indexerUrl = indexer.url;
      node.indexerUrl = indexer.url;
      await writeState(dataDir, state);
    }
    await waitForCatchUp(node, started, options.readyTimeoutMs ?? 120_000, log, signal);
  } catch (error) {
    for (const proc of [...started].reverse()) await stopProcess(proc, 5_000);
    state.processes = [];
    await writeState(dataDir, state);
    throw error;
  }
  log.info(
    { node: node.restUrl, indexer: state.indexerUrl, peers: joined.peers.map((p) => p.alias), dataDir },
    `${node.alias} joined network "${state.networkName}"`,
  );
  return state;
}

async function assertJoinPortsFree(
  ports: Omit<JoinPorts, 'indexer'> & { indexer: number },
  withIndexer = true,
): Promise<void> {
  await assertPortFree(ports.rest, 'HORNET REST API', '--rest-port');
  await assertPortFree(ports.gossip, 'HORNET gossip', '--gossip-port');
  await assertPortFree(ports.inx, 'HORNET INX', '--inx-port');
  if (withIndexer && ports.indexer) await assertPortFree(ports.indexer, 'indexer REST API', '--indexer-port');
}

/** The multiaddr other hosts give `tangle peer-add` to reach this joined node. */
export function joinedMultiaddr(state: TangleState, announce: string): string {
  const node = state.nodes[0]!;
  return gossipMultiaddr(announce, node.gossipPort, node.peerId);
}

/**
 * Resolves once the node is synced with a peer, its confirmed milestone moved on since it first reported
 * one, and it stays ahead of the deadline while it catches up (the deadline restarts on progress).
 */
async function waitForCatchUp(
  node: NodeEntry,
  started: ManagedProcess[],
  timeoutMs: number,
  log: Logger,
  signal?: AbortSignal,
): Promise<void> {
  const api = new NodeApi(node.restUrl, { timeoutMs: 2_000 });
  let deadline = Date.now() + timeoutMs;
  let best = -1;
  let firstSynced: number | undefined;
  for (;;) {
    await failIfExited(started, signal);
    const info: NodeInfo | undefined = await api.info().catch(() => undefined);
    const confirmed = info?.status.confirmedMilestone.index ?? -1;
    if (confirmed > best) {
      best = confirmed;
      deadline = Date.now() + timeoutMs;
    }
    if (info && isSynced(info) && info.status.isHealthy) {
      firstSynced ??= confirmed;
      if (confirmed > firstSynced) {
        log.debug({ confirmed }, 'joined node follows the network');
        return;
      }
    }
    if (Date.now() > deadline) {
      throw new DeployError(
        'SYNC_TIMEOUT',
        `${node.alias} did not catch up within ${Math.round(timeoutMs / 1000)} s (confirmed ${best < 0 ? '-' : best}): check that its peers are reachable; see ${started[0]?.logFile ?? 'its log'}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
