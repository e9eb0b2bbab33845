import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DeployError } from './errors.js';
import { peerMultiaddrSchema } from './join-bundle.js';
import { type NodeEntry, readState } from './tangle.js';

/**
 * HORNET's peer management (`/api/core/v2/peers`, a protected route): node administration, so it lives
 * here with the admin token rather than in the ledger module, which only reads and writes the ledger.
 * A peer added this way is connected at once and written by HORNET to the node's peering.json, so it
 * is kept across restarts.
 */
export interface PeerInfo {
  id: string;
  alias?: string;
  multiAddresses: string[];
  relation: string;
  connected: boolean;
}

async function adminTarget(dataDir: string, alias?: string): Promise<{ node: NodeEntry; token: string }> {
  const dir = resolve(dataDir);
  const state = await readState(dir);
  if (!state) throw new DeployError('NOT_RUNNING', `no network or joined node in ${dir}`);
  const node = alias ? state.nodes.find((n) => n.alias === alias) : state.nodes[0];
  if (!node) {
    throw new DeployError(
      'BAD_CONFIG',
      `--node ${alias}: not a node of ${dir}: one of ${state.nodes.map((n) => n.alias).join(', ')}`,
    );
  }
  const token = (await readFile(join(dir, 'secrets', 'admin.jwt'), 'utf8')).trim();
  return { node, token };
}

async function call<T>(node: NodeEntry, token: string, method: 'GET' | 'POST', body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${node.restUrl}/api/core/v2/peers`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new DeployError(
      'NOT_RUNNING',
      `${node.alias} is not answering on ${node.restUrl}: ${(error as Error).message}`,
    );
  }
  const text = await res.text();
  if (!res.ok) {
    const message = (() => {
      try {
        return (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
      } catch {
        return text;
      }
    })();
    throw new DeployError(
      'BAD_CONFIG',
      `${node.alias} refused the peer request (${res.status}): ${message.split('\n')[0]}`,
    );
  }
  return JSON.parse(text) as T;
}

/** Makes a node of `dataDir` (its first by default) keep a static connection to the peer at `multiAddress`. */
export async function addPeer(
  dataDir: string,
  multiAddress: string,
  options: { alias?: string; node?: string } = {},
): Promise<PeerInfo> {
  const checked = peerMultiaddrSchema.safeParse(multiAddress);
  if (!checked.success) {
    throw new DeployError(
      'BAD_CONFIG',
      `multiaddr ${multiAddress}: ${checked.error.issues[0]?.message ?? 'invalid'}`,
    );
  }
  const { node, token } = await adminTarget(dataDir, options.node);
  return call<PeerInfo>(node, token, 'POST', {
    multiAddress,
    ...(options.alias ? { alias: options.alias } : {}),
  });
}

/** The peers a node of `dataDir` knows, with whether each is connected. */
export async function listPeers(dataDir: string, nodeAlias?: string): Promise<PeerInfo[]> {
  const { node, token } = await adminTarget(dataDir, nodeAlias);
  return call<PeerInfo[]>(node, token, 'GET');
}
