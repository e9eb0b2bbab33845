import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManagedProcess } from './processes.js';

export interface TanglePorts {
  /** REST API of node 1; node n uses rest + n − 1. */
  rest: number;
  /** Gossip of node 1; node n uses gossip + n − 1. */
  gossip: number;
  /** INX of node 1 (the coordinator's node); node n uses inx + n − 1 (networks created since every node has INX). */
  inx: number;
  /** inx-mqtt's websocket, proxied by HORNET at /api/mqtt/v1. */
  mqtt: number;
}

export const DEFAULT_PORTS: TanglePorts = { rest: 14265, gossip: 15600, inx: 9029, mqtt: 1888 };

export interface NodeEntry {
  alias: string;
  restUrl: string;
  restPort: number;
  gossipPort: number;
  peerId: string;
  dir: string;
  /** The node's INX port; absent for nodes 2… of networks created when only node 1 served INX. */
  inxPort?: number;
  /** The community indexer's REST API beside this node, while one runs. */
  indexerUrl?: string;
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
  /** The community indexer's REST API beside node 1, when one runs (each node's: `nodes[i].indexerUrl`). */
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

/**
 * What a start has started so far. `record` writes each process into the state file as soon as it starts,
 * before anything else can fail or be interrupted, so a stop (or the next start) finds it.
 */
export function startRecorder(
  dataDir: string,
  state: TangleState,
): { started: ManagedProcess[]; record: (proc: ManagedProcess) => Promise<void> } {
  const started: ManagedProcess[] = [];
  const record = async (proc: ManagedProcess) => {
    started.push(proc);
    state.processes = [...started];
    await writeState(dataDir, state);
  };
  return { started, record };
}
