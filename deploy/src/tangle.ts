import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { NodeApi, type NodeInfo } from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import { checkAborted, DeployError } from './errors.js';
import { ExecError, exec, tail } from './exec.js';
import { startIndexer } from './indexer.js';
import type { Binaries } from './install.js';
import {
  assertPortFree,
  freePorts,
  isRunning,
  logTail,
  type ManagedProcess,
  startDetached,
  stopProcess,
} from './processes.js';
import {
  durationMs,
  type GenesisPlan,
  loadProtocolParameters,
  type NetworkProfile,
  NODE_CONFIG_FILE,
  PROTOCOL_PARAMETERS_FILE,
  planGenesis,
} from './profile.js';

export interface TanglePorts {
  /** REST API of node 1; node n uses rest + n − 1. */
  rest: number;
  /** Gossip of node 1; node n uses gossip + n − 1. */
  gossip: number;
  /** INX of node 1 (the coordinator's node). */
  inx: number;
  /** inx-mqtt's websocket, proxied by HORNET at /api/mqtt/v1. */
  mqtt: number;
}

export const DEFAULT_PORTS: TanglePorts = { rest: 14265, gossip: 15600, inx: 9029, mqtt: 1888 };

export interface UpOptions {
  dataDir: string;
  profile: NetworkProfile;
  binaries: Binaries;
  log: Logger;
  nodes?: number;
  /** Overrides the profile's milestone interval. */
  milestoneInterval?: string;
  /** Fixed ports, or 'auto' for free ones the kernel picks (tests). */
  ports?: TanglePorts | 'auto';
  /** Delete an existing data dir first. */
  fresh?: boolean;
  readyTimeoutMs?: number;
  /**
   * Processes an earlier run started from this data dir and left running (its owner crashed) are stopped
   * cleanly and the network starts again on the same data, instead of refusing with ALREADY_RUNNING.
   */
  takeOver?: boolean;
  /** Aborts the start: whatever it started is stopped, and it rejects with the abort's reason. */
  signal?: AbortSignal;
  /** Starts the community indexer beside node 1 (on its INX port) when its binary was built. */
  indexer?: boolean;
  /**
   * Address the nodes' gossip listens on (default 127.0.0.1): 0.0.0.0 or a LAN address lets nodes on other
   * hosts peer with them (`tangle join`). Remembered in `tangle.json` for later starts.
   */
  gossipHost?: string;
}

export interface NodeEntry {
  alias: string;
  restUrl: string;
  restPort: number;
  gossipPort: number;
  peerId: string;
  dir: string;
}

/** What `tangle.json` in the data dir records: enough for `down`, `status` and clients to find everything. */
export interface TangleState {
  formatVersion: 1;
  networkName: string;
  bech32Hrp: string;
  profile: string;
  milestoneInterval: string;
  createdAt: string;
  ports: TanglePorts;
  nodes: NodeEntry[];
  mqttUrl?: string;
  /** The community indexer's REST API, when one runs beside node 1. */
  indexerUrl?: string;
  genesis: {
    mintAddress: string;
    mintOutputId: string;
    allocations: { address: string; amount: string; outputId: string; accountIndex?: number }[];
  };
  processes: ManagedProcess[];
  /** Where the nodes' gossip listens when not on loopback only (UpOptions.gossipHost). */
  gossipHost?: string;
  /** Set when this data dir holds a node that joined another host's network (join.ts), not a network of its own. */
  joined?: JoinedNode;
}

/** A node started from a join bundle: it has no coordinator, and its static peers live on other hosts. */
export interface JoinedNode {
  /** The gossip multiaddrs it keeps a connection to. */
  peers: { alias: string; multiAddress: string }[];
  /** The indexer's REST port, when one runs beside it. */
  indexerPort?: number;
}

const STATE_FILE = 'tangle.json';

export async function readState(dataDir: string): Promise<TangleState | undefined> {
  const file = join(dataDir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as TangleState;
}

export async function writeState(dataDir: string, state: TangleState): Promise<void> {
  await writeFile(join(dataDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

export async function hornetTool(
  binaries: Binaries,
  args: string[],
  env?: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<string> {
  try {
    return (
      await exec(binaries.hornet, ['tool', ...args], {
        env: { ...process.env, ...env },
        ...(signal ? { signal } : {}),
      })
    ).stdout;
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    const output = error instanceof ExecError ? tail(`${error.stdout}\n${error.stderr}`) : String(error);
    throw new DeployError(
      'START_FAILED',
      `hornet tool ${args[0]} failed: ${output.split('\n').pop()}`,
      output,
    );
  }
}

export async function writeSecret(file: string, content: string): Promise<void> {
  await writeFile(file, content, { mode: 0o600 });
  await chmod(file, 0o600);
}

/** The ports a start uses: those asked for, or for an existing network the ones its node configs hold. */
export async function resolvePorts(
  requested: UpOptions['ports'],
  previous?: TanglePorts,
  nodes = 1,
): Promise<TanglePorts> {
  if (requested === 'auto') {
    // An existing network keeps the ports its nodes' configs were written with.
    if (previous) return previous;
    // Extra nodes use the ports after these, which the kernel did not vouch for: pick again while one of
    // them is taken (ensurePortsFree still probes them all before anything starts).
    for (let attempt = 1; ; attempt++) {
      const [rest, gossip, inx, mqtt] = (await freePorts(4)) as [number, number, number, number];
      const ports = { rest, gossip, inx, mqtt };
      if (attempt >= 20 || (await followOnPortsFree(ports, nodes))) return ports;
    }
  }
  return requested ?? previous ?? DEFAULT_PORTS;
}

async function followOnPortsFree(ports: TanglePorts, nodes: number): Promise<boolean> {
  const extra = Array.from({ length: nodes - 1 }, (_, i) => [
    ports.rest + i + 1,
    ports.gossip + i + 1,
  ]).flat();
  const all = [ports.rest, ports.gossip, ports.inx, ports.mqtt, ...extra];
  if (new Set(all).size !== all.length) return false;
  for (const port of extra) {
    if (port > 65_535) return false;
    const free = await assertPortFree(port, '', '').then(
      () => true,
      () => false,
    );
    if (!free) return false;
  }
  return true;
}

async function ensurePortsFree(ports: TanglePorts, nodes: number, withMqtt: boolean): Promise<void> {
  for (let i = 0; i < nodes; i++) {
    await assertPortFree(ports.rest + i, `hornet-${i + 1} REST API`, '--rest-port');
    await assertPortFree(ports.gossip + i, `hornet-${i + 1} gossip`, '--gossip-port');
  }
  await assertPortFree(ports.inx, 'hornet-1 INX', '--inx-port');
  if (withMqtt) await assertPortFree(ports.mqtt, 'inx-mqtt websocket', '--mqtt-port');
}

interface Keys {
  coordinator: { privateKey: string; publicKey: string }[];
  jwtSalt: string;
}

async function nodeConfig(
  template: Record<string, unknown>,
  networkName: string,
  keys: Keys,
  node: { alias: string; dir: string; restPort: number; gossipPort: number; inxPort?: number },
): Promise<Record<string, unknown>> {
  const config = structuredClone(template) as Record<string, Record<string, unknown>>;
  const section = (name: string) => {
    config[name] ??= {};
    return config[name];
  };
  section('node').alias = node.alias;
  Object.assign(section('protocol'), {
    targetNetworkName: networkName,
    milestonePublicKeyCount: keys.coordinator.length,
    publicKeyRanges: keys.coordinator.map((k) => ({ key: k.publicKey, start: 0, end: 0 })),
  });
  Object.assign(section('db'), { path: join(node.dir, 'db') });
  const p2p = section('p2p');
  p2p.bindMultiAddresses = [`/ip4/127.0.0.1/tcp/${node.gossipPort}`];
  p2p.db = { path: join(node.dir, 'p2pstore') };
  Object.assign(section('snapshots'), {
    fullPath: join(node.dir, 'snapshots', 'full_snapshot.bin'),
    deltaPath: join(node.dir, 'snapshots', 'delta_snapshot.bin'),
  });
  Object.assign(section('restAPI'), {
    bindAddress: `127.0.0.1:${node.restPort}`,
    jwtAuth: { salt: keys.jwtSalt },
  });
  Object.assign(section('inx'), {
    enabled: node.inxPort !== undefined,
    bindAddress: `127.0.0.1:${node.inxPort ?? 0}`,
  });
  return config;
}

/**
 * `hornet tool ed25519-key`: HORNET 2.0.1 now and then fails its own random mnemonic ("invalid checksum"
 * from re-parsing it), so a fresh draw is taken a few times before giving up.
 */
async function newEd25519Key(binaries: Binaries, signal?: AbortSignal): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await hornetTool(binaries, ['ed25519-key', '--json'], undefined, signal);
    } catch (error) {
      if (attempt >= 5 || !String((error as Error).message).includes('invalid checksum')) throw error;
    }
  }
}

/** Creates keys, genesis snapshot, node configs and milestone 1 in an empty data dir. */
async function bootstrap(options: UpOptions, ports: TanglePorts, nodeCount: number): Promise<TangleState> {
  const { dataDir, binaries, log, profile, signal } = options;
  const protocol = await loadProtocolParameters();
  const plan: GenesisPlan = await planGenesis(profile, protocol);
  for (const dir of ['secrets', 'genesis', 'coordinator', 'logs'])
    await mkdir(join(dataDir, dir), { recursive: true });
  await chmod(join(dataDir, 'secrets'), 0o700);

  // Coordinator keys are made here, at first start, and never leave the data dir.
  const coordinator = [];
  for (let i = 0; i < 2; i++) {
    const key = JSON.parse(await newEd25519Key(binaries, signal)) as {
      privateKey: string;
      publicKey: string;
    };
    coordinator.push({ privateKey: key.privateKey, publicKey: key.publicKey });
  }
  const keys: Keys = { coordinator, jwtSalt: randomBytes(24).toString('hex') };
  await writeSecret(join(dataDir, 'secrets', 'keys.json'), `${JSON.stringify(keys, null, 2)}\n`);

  const snapshot = join(dataDir, 'genesis', 'full_snapshot.bin');
  log.info({ allocations: plan.allocations.length }, 'creating genesis snapshot');
  await hornetTool(
    binaries,
    [
      'snap-gen',
      `--protocolParametersPath=${PROTOCOL_PARAMETERS_FILE}`,
      `--mintAddress=${plan.mintAddress}`,
      ...(plan.allocations.length
        ? [`--genesisAddresses=${plan.allocations.map((a) => `${a.address}:${a.amount}`).join(',')}`]
        : []),
      `--outputPath=${snapshot}`,
    ],
    undefined,
    signal,
  );

  const template = JSON.parse(await readFile(NODE_CONFIG_FILE, 'utf8')) as Record<string, unknown>;
  const nodes: NodeEntry[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const alias = `hornet-${i + 1}`;
    const dir = join(dataDir, alias);
    await mkdir(join(dir, 'snapshots'), { recursive: true });
    await copyFile(snapshot, join(dir, 'snapshots', 'full_snapshot.bin'));
    const identity = JSON.parse(
      await hornetTool(
        binaries,
        ['p2pidentity-gen', '--json', `--outputPath=${join(dir, 'p2pstore')}`],
        undefined,
        signal,
      ),
    ) as { peerId: string };
    const restPort = ports.rest + i;
    const gossipPort = ports.gossip + i;
    const config = await nodeConfig(template, protocol.networkName, keys, {
      alias,
      dir,
      restPort,
      gossipPort,
      ...(i === 0 ? { inxPort: ports.inx } : {}),
    });
    await writeFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    nodes.push({
      alias,
      restUrl: `http://127.0.0.1:${restPort}`,
      restPort,
      gossipPort,
      peerId: identity.peerId,
      dir,
    });
  }

  log.info('bootstrapping milestone 1 and the coordinator state');
  await hornetTool(
    binaries,
    [
      'bootstrap-private-tangle',
      `--configFile=${join(nodes[0]!.dir, 'config.json')}`,
      `--snapshotPath=${snapshot}`,
      `--databasePath=${join(nodes[0]!.dir, 'db')}`,
      `--cooStatePath=${join(dataDir, 'coordinator', 'coordinator.state')}`,
      '--databaseEngine=pebble',
    ],
    { COO_PRV_KEYS: coordinator.map((k) => k.privateKey).join(',') },
    signal,
  );

  // An admin token for HORNET's protected routes, kept beside the keys.
  const jwt = JSON.parse(
    await hornetTool(
      binaries,
      ['jwt-api', '--json', `--databasePath=${join(nodes[0]!.dir, 'p2pstore')}`, `--salt=${keys.jwtSalt}`],
      undefined,
      signal,
    ),
  ) as { jwt: string };
  await writeSecret(join(dataDir, 'secrets', 'admin.jwt'), `${jwt.jwt}\n`);

  const state: TangleState = {
    formatVersion: 1,
    networkName: protocol.networkName,
    bech32Hrp: protocol.bech32HRP,
    profile: profile.name,
    milestoneInterval: options.milestoneInterval ?? profile.milestoneInterval,
    createdAt: new Date().toISOString(),
    ports,
    nodes,
    genesis: {
      mintAddress: plan.mintAddress,
      mintOutputId: plan.mintOutputId,
      allocations: plan.allocations.map((a) => ({ ...a, amount: a.amount.toString() })),
    },
    processes: [],
  };
  await writeState(dataDir, state);
  return state;
}

function runningProcesses(state: TangleState | undefined): ManagedProcess[] {
  return (state?.processes ?? []).filter((p) => isRunning(p));
}

/** Starts the network in `dataDir`, bootstrapping it on first use; resolves once milestones confirm. */
export async function tangleUp(options: UpOptions): Promise<TangleState> {
  const dataDir = resolve(options.dataDir);
  const { binaries, log } = options;
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  if (options.milestoneInterval !== undefined && durationMs(options.milestoneInterval) < 1000) {
    throw new DeployError(
      'BAD_CONFIG',
      `milestone interval ${options.milestoneInterval}: must be at least 1s`,
    );
  }

  const { signal } = options;
  checkAborted(signal);
  let state = await readState(dataDir).catch(() => undefined);
  const alive = runningProcesses(state);
  if (alive.length && options.takeOver) {
    // Ours beyond doubt: recorded in this data dir, the same binary, the same kernel start time.
    log.warn(
      { processes: alive.map((p) => `${p.name} (pid ${p.pid})`), dataDir },
      'processes of an earlier run of this network are still running: stopping them to start again on the same data',
    );
    await tangleDown(dataDir);
    state = await readState(dataDir);
  } else if (alive.length) {
    throw new DeployError(
      'ALREADY_RUNNING',
      `a tangle is already running from ${dataDir} (${alive.map((p) => p.name).join(', ')}): run "npm run tangle -- down" first`,
    );
  }
  if (state?.joined && !options.fresh) {
    throw new DeployError(
      'BAD_CONFIG',
      `${dataDir} holds a node that joined another host's network: start it with "npm run tangle -- join --data-dir ${dataDir}"`,
    );
  }
  if (options.fresh) {
    await rm(dataDir, { recursive: true, force: true });
    state = undefined;
  }
  const nodeCount = options.nodes ?? state?.nodes.length ?? 1;
  if (!state && existsSync(dataDir) && (await readdir(dataDir)).length > 0) {
    throw new DeployError(
      'DATA_DIR_STALE',
      `${dataDir} holds files but no finished network (an interrupted first start?): remove it, or run "npm run tangle -- up --fresh" to recreate it`,
    );
  }
  if (state) {
    const protocol = await loadProtocolParameters();
    if (state.networkName !== protocol.networkName || state.nodes.length !== nodeCount) {
      throw new DeployError(
        'DATA_DIR_STALE',
        `${dataDir} holds network "${state.networkName}" with ${state.nodes.length} node(s), not "${protocol.networkName}" with ${nodeCount}: run "npm run tangle -- up --fresh" to recreate it`,
      );
    }
  }

  const ports = await resolvePorts(options.ports, state?.ports, nodeCount);
  const withMqtt = binaries['inx-mqtt'] !== undefined;
  await ensurePortsFree(ports, nodeCount, withMqtt);

  await mkdir(dataDir, { recursive: true });
  if (!state) {
    try {
      state = await bootstrap(options, ports, nodeCount);
    } catch (error) {
      // A half-made network is useless: leave an empty dir, not a stale one.
      await rm(dataDir, { recursive: true, force: true });
      throw error;
    }
  }
  if (options.milestoneInterval) state.milestoneInterval = options.milestoneInterval;
  if (options.gossipHost) state.gossipHost = options.gossipHost;
  const gossipHost = state.gossipHost;
  // Nodes of this host reach each other where they listen: loopback unless bound to one address.
  const dialHost = gossipHost && gossipHost !== '0.0.0.0' ? gossipHost : '127.0.0.1';
  const keys = JSON.parse(await readFile(join(dataDir, 'secrets', 'keys.json'), 'utf8')) as Keys;

  const started: ManagedProcess[] = [];
  const record = async (proc: ManagedProcess) => {
    started.push(proc);
    // Recorded before anything else can fail or be interrupted, so a stop (or the next start) finds it.
    state!.processes = [...started];
    await writeState(dataDir, state!);
  };
  try {
    for (const [i, node] of state.nodes.entries()) {
      checkAborted(signal);
      const peers = state.nodes.filter((n) => n !== node);
      await record(
        startDetached(
          node.alias,
          binaries.hornet,
          [
            '-c',
            join(node.dir, 'config.json'),
            ...(gossipHost ? [`--p2p.bindMultiAddresses=/ip4/${gossipHost}/tcp/${node.gossipPort}`] : []),
            ...(peers.length
              ? [
                  `--p2p.peers=${peers.map((p) => `/ip4/${dialHost}/tcp/${p.gossipPort}/p2p/${p.peerId}`).join(',')}`,
                  `--p2p.peerAliases=${peers.map((p) => p.alias).join(',')}`,
                ]
              : []),
          ],
          { cwd: node.dir, logFile: join(dataDir, 'logs', `${node.alias}.log`) },
        ),
      );
      if (i === 0) await waitForApi(state.nodes[0]!, started, readyTimeoutMs, signal);
    }
    // HORNET answers REST before its INX server listens (later still on a restart with a larger
    // database), and an INX app that finds no INX server exits at once.
    await waitForInx(state.nodes[0]!, ports.inx, started, readyTimeoutMs, signal);
    checkAborted(signal);

    await record(
      startDetached(
        'coordinator',
        binaries['tanglewatt-coordinator'],
        [
          `--inx.address=127.0.0.1:${ports.inx}`,
          `--stateFile=${join(dataDir, 'coordinator', 'coordinator.state')}`,
          `--interval=${state.milestoneInterval}`,
        ],
        {
          cwd: join(dataDir, 'coordinator'),
          logFile: join(dataDir, 'logs', 'coordinator.log'),
          env: { ...process.env, COO_PRV_KEYS: keys.coordinator.map((k) => k.privateKey).join(',') },
        },
      ),
    );

    if (withMqtt) {
      checkAborted(signal);
      await record(
        startDetached(
          'inx-mqtt',
          binaries['inx-mqtt']!,
          [
            `--inx.address=127.0.0.1:${ports.inx}`,
            `--mqtt.websocket.bindAddress=127.0.0.1:${ports.mqtt}`,
            '--mqtt.tcp.enabled=false',
            '--prometheus.enabled=false',
            '--app.shutdown.log.enabled=false',
          ],
          { cwd: join(dataDir, 'coordinator'), logFile: join(dataDir, 'logs', 'inx-mqtt.log') },
        ),
      );
      state.mqttUrl = `ws://127.0.0.1:${ports.mqtt}/mqtt`;
      await writeState(dataDir, state);
    }

    const indexerBinary = binaries['tanglewatt-indexer'];
    delete state.indexerUrl;
    if (options.indexer && indexerBinary) {
      checkAborted(signal);
      // Its store lives with the network, so it resumes where it stopped and keeps what the node prunes.
      const indexer = await startIndexer({
        binary: indexerBinary,
        inxAddress: `127.0.0.1:${ports.inx}`,
        dataDir: join(dataDir, 'indexer'),
        logFile: join(dataDir, 'logs', 'indexer.log'),
      });
      await record(indexer.process);
      state.indexerUrl = indexer.url;
      await writeState(dataDir, state);
    }

    await waitForConfirmedMilestones(state, started, readyTimeoutMs, log, signal);
  } catch (error) {
    // Coordinator and inx-mqtt before the node they talk to.
    for (const proc of [...started].reverse()) await stopProcess(proc, 5_000);
    state.processes = [];
    await writeState(dataDir, state);
    throw error;
  }
  log.info(
    { nodes: state.nodes.map((n) => n.restUrl), mqtt: state.mqttUrl, dataDir },
    `tangle "${state.networkName}" is up`,
  );
  return state;
}

async function failIfExited(started: ManagedProcess[], signal?: AbortSignal): Promise<void> {
  checkAborted(signal);
  for (const proc of started) {
    if (!isRunning(proc)) {
      const last = (await logTail(proc.logFile, 5)).split('\n').filter(Boolean).pop() ?? '';
      throw new DeployError(
        'START_FAILED',
        `${proc.name} exited during start: ${last.trim()} (log: ${proc.logFile})`,
      );
    }
  }
}

async function waitForApi(
  node: NodeEntry,
  started: ManagedProcess[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const api = new NodeApi(node.restUrl, { timeoutMs: 2_000 });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await failIfExited(started, signal);
    try {
      await api.info();
      return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new DeployError(
        'SYNC_TIMEOUT',
        `${node.alias} did not answer on ${node.restUrl} within ${Math.round(timeoutMs / 1000)} s: see ${join(node.dir, '..', 'logs', `${node.alias}.log`)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Resolves once something accepts TCP connections on the node's INX port. */
async function waitForInx(
  node: NodeEntry,
  port: number,
  started: ManagedProcess[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await failIfExited(started, signal);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) {
      throw new DeployError(
        'SYNC_TIMEOUT',
        `${node.alias} did not open its INX port 127.0.0.1:${port} within ${Math.round(timeoutMs / 1000)} s: see ${join(node.dir, '..', 'logs', `${node.alias}.log`)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Confirmed up to the latest milestone it knows of. */
export function isSynced(info: NodeInfo): boolean {
  return (
    info.status.confirmedMilestone.index >= info.status.latestMilestone.index &&
    info.status.latestMilestone.index > 0
  );
}

/** Every node synced, healthy where it has peers, and its confirmed milestone moved past where it was when we started waiting. */
async function waitForConfirmedMilestones(
  state: TangleState,
  started: ManagedProcess[],
  timeoutMs: number,
  log: Logger,
  signal?: AbortSignal,
): Promise<void> {
  const apis = state.nodes.map((n) => new NodeApi(n.restUrl, { timeoutMs: 2_000 }));
  // `timeoutMs` counts from the slowest node's last step forward: a loaded machine syncs slowly, not never.
  const ceiling = Date.now() + 5 * timeoutMs;
  let deadline = Date.now() + timeoutMs;
  let slowest: number | undefined;
  let first: number | undefined;
  for (;;) {
    await failIfExited(started, signal);
    const infos = await Promise.all(apis.map((a) => a.info().catch(() => undefined)));
    const slowestNow = Math.min(...infos.map((i) => i?.status.confirmedMilestone.index ?? -1));
    if (slowest === undefined || slowestNow > slowest) {
      if (slowest !== undefined) deadline = Math.min(Date.now() + timeoutMs, ceiling);
      slowest = slowestNow;
    }
    const coordinatorView = infos[0]?.status.confirmedMilestone.index;
    if (first === undefined && coordinatorView !== undefined) first = coordinatorView;
    // HORNET calls a node healthy only with a gossip peer, so a lone node is judged by sync alone.
    const ready =
      first !== undefined &&
      infos.every(
        (i) =>
          i !== undefined &&
          isSynced(i) &&
          i.status.confirmedMilestone.index > first! &&
          (state.nodes.length === 1 || i.status.isHealthy),
      );
    if (ready) {
      log.debug({ confirmed: infos.map((i) => i?.status.confirmedMilestone.index) }, 'milestones confirm');
      return;
    }
    if (Date.now() > deadline) {
      const lagging = state.nodes.filter((_, i) => !infos[i] || !isSynced(infos[i]!)).map((n) => n.alias);
      throw new DeployError(
        'SYNC_TIMEOUT',
        `no advancing confirmed milestone within ${Math.round(timeoutMs / 1000)} s (slowest node at ${slowest ?? '-'})${lagging.length ? ` (not synced: ${lagging.join(', ')})` : ''}: see the logs in ${join(state.nodes[0]!.dir, '..', 'logs')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Stops every process the data dir's state lists, coordinator first. */
export async function tangleDown(dataDir: string): Promise<ManagedProcess[]> {
  const state = await readState(resolve(dataDir));
  if (!state) throw new DeployError('NOT_RUNNING', `no tangle in ${resolve(dataDir)}: nothing to stop`);
  const order = [...state.processes].reverse();
  const stopped = order.filter((p) => isRunning(p));
  for (const proc of order) await stopProcess(proc);
  state.processes = [];
  await writeState(resolve(dataDir), state);
  return stopped;
}

export interface TangleStatus {
  dataDir: string;
  networkName: string;
  processes: { name: string; pid: number; running: boolean; logFile: string }[];
  nodes: {
    alias: string;
    restUrl: string;
    synced: boolean;
    healthy: boolean;
    latestMilestone?: number;
    confirmedMilestone?: number;
    error?: string;
  }[];
}

export async function tangleStatus(dataDir: string): Promise<TangleStatus> {
  const state = await readState(resolve(dataDir));
  if (!state)
    throw new DeployError(
      'NOT_RUNNING',
      `no tangle in ${resolve(dataDir)}: start one with "npm run tangle -- up"`,
    );
  const nodes = await Promise.all(
    state.nodes.map(async (n) => {
      try {
        const info = await new NodeApi(n.restUrl, { timeoutMs: 2_000 }).info();
        return {
          alias: n.alias,
          restUrl: n.restUrl,
          synced: isSynced(info),
          healthy: info.status.isHealthy,
          latestMilestone: info.status.latestMilestone.index,
          confirmedMilestone: info.status.confirmedMilestone.index,
        };
      } catch (error) {
        return {
          alias: n.alias,
          restUrl: n.restUrl,
          synced: false,
          healthy: false,
          error: (error as Error).message,
        };
      }
    }),
  );
  return {
    dataDir: resolve(dataDir),
    networkName: state.networkName,
    processes: state.processes.map((p) => ({
      name: p.name,
      pid: p.pid,
      running: isRunning(p),
      logFile: p.logFile,
    })),
    nodes,
  };
}
