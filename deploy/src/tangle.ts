import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { NodeApi } from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import { checkAborted, DeployError } from './errors.js';
import { startIndexer } from './indexer.js';
import type { Binaries } from './install.js';
import { isRunning, type ManagedProcess, startDetached, stopProcess } from './processes.js';
import { durationMs, loadProtocolParameters, type NetworkProfile } from './profile.js';
import { createNetwork, type NetworkKeys } from './tangle-genesis.js';
import { ensurePortsFree, resolvePorts } from './tangle-ports.js';
import { isSynced, waitForApi, waitForConfirmedMilestones, waitForInx } from './tangle-readiness.js';
import { readState, startRecorder, type TanglePorts, type TangleState, writeState } from './tangle-state.js';

// Creating a network, its ports, readiness and its state file live beside this module; importers of the
// tangle find them all here.
export { hornetTool, writeSecret } from './tangle-genesis.js';
export { resolvePorts } from './tangle-ports.js';
export { isSynced } from './tangle-readiness.js';
export {
  DEFAULT_PORTS,
  type JoinedNode,
  type NodeEntry,
  readState,
  type TanglePorts,
  type TangleState,
  writeState,
} from './tangle-state.js';

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
  /** Starts a community indexer beside every node (on its INX port) when its binary was built. */
  indexer?: boolean;
  /**
   * Address the nodes' gossip listens on (default 127.0.0.1): 0.0.0.0 or a LAN address lets nodes on other
   * hosts peer with them (`tangle join`). Remembered in `tangle.json` for later starts.
   */
  gossipHost?: string;
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
      state = await createNetwork(options, ports, nodeCount);
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
  const keys = JSON.parse(await readFile(join(dataDir, 'secrets', 'keys.json'), 'utf8')) as NetworkKeys;

  const { started, record } = startRecorder(dataDir, state);
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
    for (const node of state.nodes) delete node.indexerUrl;
    if (options.indexer && indexerBinary) {
      // One beside every node that serves INX, so each node's households read the ledger from their own
      // node's indexer. Each store lives with the network: it resumes where it stopped and keeps what the
      // node prunes.
      for (const [i, node] of state.nodes.entries()) {
        const inxPort = i === 0 ? ports.inx : node.inxPort;
        if (inxPort === undefined) continue;
        checkAborted(signal);
        if (i > 0) await waitForInx(node, inxPort, started, readyTimeoutMs, signal);
        const indexer = await startIndexer({
          binary: indexerBinary,
          inxAddress: `127.0.0.1:${inxPort}`,
          dataDir: join(dataDir, i === 0 ? 'indexer' : `indexer-${i + 1}`),
          logFile: join(dataDir, 'logs', i === 0 ? 'indexer.log' : `indexer-${i + 1}.log`),
          name: i === 0 ? 'indexer' : `indexer-${i + 1}`,
        });
        await record(indexer.process);
        node.indexerUrl = indexer.url;
        if (i === 0) state.indexerUrl = indexer.url;
        await writeState(dataDir, state);
      }
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
