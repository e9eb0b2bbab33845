import { connect } from 'node:net';
import { join } from 'node:path';
import { NodeApi, type NodeInfo } from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import { checkAborted, DeployError } from './errors.js';
import { isRunning, logTail, type ManagedProcess } from './processes.js';
import type { NodeEntry, TangleState } from './tangle-state.js';

/** Fails the start with a process's last log line when one it started has exited. */
export async function failIfExited(started: ManagedProcess[], signal?: AbortSignal): Promise<void> {
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

export async function waitForApi(
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
export async function waitForInx(
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
export async function waitForConfirmedMilestones(
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
