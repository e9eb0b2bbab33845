/**
 * One fleet run: a tangle of its own (nodes, 1 s milestones, the indexer beside node 1), the households,
 * metering until the stop time, every payment settled, then the audit of the ledger read twice (indexer and
 * core API) and the per-process CPU of what `tangleUp` started.
 */
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Payment } from '@tanglewatt/contract';
import { NodeApi } from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import { sleep } from '../community/households.js';
import { byAccountIndex } from '../household.js';
import { ensureBinaries } from '../install.js';
import { loadProfile } from '../profile.js';
import { type TangleState, tangleDown, tangleUp } from '../tangle.js';
import { auditPayments, cpuPercent, type DuePayment, type PaymentAudit, quantile } from './audit.js';
import {
  blocksReferenced,
  cpuTicks,
  indexerHealth,
  paymentsFromIndexer,
  paymentsFromNode,
  rssMB,
} from './ledger-read.js';
import { type FleetOptions, planFleet, stopTime } from './plan.js';
import { type FleetPool, startPool } from './pool.js';

export interface ProcessUse {
  name: string;
  pid: number;
  cpuPercent: number;
  rssMB?: number;
}

export interface FleetReport {
  options: FleetOptions;
  consumers: number;
  producers: number;
  /** Consumers paid their start by the funder (beyond the genesis accounts). */
  fundedConsumers: number;
  startupSeconds: number;
  meteringSeconds: number;
  periodsClosed: number;
  /** Closed periods that owed something (each must be paid exactly once). */
  periodsDue: number;
  /** Payments the wallet-services saw included, and those still not included when the run gave up waiting. */
  walletIncluded: number;
  walletNotIncluded: number;
  indexer: PaymentAudit;
  node: PaymentAudit;
  postToIncludedP50Ms?: number;
  postToIncludedP99Ms?: number;
  blocksPerSecond: number;
  milestones: { from: number; to: number };
  processes: ProcessUse[];
  /** This process (every wallet-service and agent): CPU % of one core, resident memory, event-loop delay. */
  householdsProcess: { cpuPercent: number; rssMB: number; eventLoopP99Ms: number };
  memoryPerHouseholdMB: number;
}

async function processTicks(tangle: TangleState) {
  return Promise.all(tangle.processes.map(async (p) => ({ ...p, ticks: await cpuTicks(p.pid) })));
}

/** Due periods of every consumer's meter: the ones a payment must settle. */
function duePayments(pool: FleetPool): { closed: number; due: DuePayment[] } {
  let closed = 0;
  const due: DuePayment[] = [];
  for (const c of pool.consumers) {
    for (const p of c.agent.periods(Number.MAX_SAFE_INTEGER)) {
      closed++;
      if (p.payment.state === 'due') due.push({ key: p.payment.key, amount: p.payment.amount });
    }
  }
  return { closed, due };
}

function walletPayments(pool: FleetPool): Payment[] {
  return pool.consumers.flatMap((c) => c.wallet.service.store.list({ limit: Number.MAX_SAFE_INTEGER }).items);
}

/** Waits until every payment the wallet-services hold is included (or failed), at most `timeoutMs`. */
async function settled(pool: FleetPool, timeoutMs: number, log: Logger): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = walletPayments(pool).filter((p) => !['included', 'failed', 'cancelled'].includes(p.state));
    if (open.length === 0) return;
    if (Date.now() > deadline) {
      log.warn({ open: open.length }, 'payments still not included: auditing anyway');
      return;
    }
    await sleep(1000);
  }
}

export async function runFleetOnTangle(
  tangle: TangleState,
  options: FleetOptions,
  dataDir: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<FleetReport> {
  if (!tangle.indexerUrl) throw new Error('the tangle runs no indexer: build it (npm run tangle -- install)');
  const plan = planFleet(options.meters, byAccountIndex(tangle).length);
  const node = new NodeApi(tangle.nodes[0]!.restUrl);
  const rss0 = process.memoryUsage().rss;
  // From before the households start: the first of them pay while the last ones are still starting.
  const fromMilestone = (await node.info()).status.confirmedMilestone.index + 1;
  const t0 = performance.now();
  const pool = await startPool(tangle, plan, options, dataDir, log, signal);
  try {
    const startupSeconds = (performance.now() - t0) / 1000;
    const rssUp = process.memoryUsage().rss;
    const startMs = Date.now();
    const ticks0 = await processTicks(tangle);
    const cpu0 = process.cpuUsage();
    const loop = monitorEventLoopDelay({ resolution: 20 });
    loop.enable();
    const stopAt = stopTime(startMs, options.minutes, options.periodSeconds);
    log.info(
      {
        consumers: pool.consumers.length,
        startupSeconds: Math.round(startupSeconds),
        until: new Date(stopAt),
      },
      'households up; metering',
    );
    while (Date.now() < stopAt && !signal?.aborted) {
      await sleep(Math.min(10_000, stopAt - Date.now()));
      const open = walletPayments(pool).filter((p) => p.state !== 'included').length;
      log.info({ open, leftSeconds: Math.round((stopAt - Date.now()) / 1000) }, 'metering');
    }
    if (signal?.aborted) throw signal.reason;
    const meteringSeconds = (Date.now() - startMs) / 1000;
    const ticks1 = await processTicks(tangle);
    const cpu1 = process.cpuUsage(cpu0);
    loop.disable();
    const rssEnd = process.memoryUsage().rss;
    log.info('metering stopped: stopping the agents, waiting for every payment to be included');
    await pool.stopAgents();
    await settled(pool, 60_000 + 200 * pool.consumers.length, log);

    const { closed, due } = duePayments(pool);
    const payments = walletPayments(pool);
    const latencies = payments
      .filter((p) => p.state === 'included')
      .map((p) => Date.parse(p.updatedAt) - Date.parse(p.createdAt));
    // The audit reads hundreds of milestones: not on an event loop and nodes still busy with the households.
    // A wallet-service still settling may take long to stop: audit meanwhile rather than wait for it.
    const stopping = pool.stop();
    if ((await Promise.race([stopping.then(() => true), sleep(30_000).then(() => false)])) === false)
      log.warn('wallet-services still stopping after 30 s: auditing meanwhile');
    // The indexer follows confirmed milestones: wait until it has what the node confirmed by now.
    const toMilestone = (await node.info()).status.confirmedMilestone.index;
    for (let i = 0; (await indexerHealth(tangle.indexerUrl)).indexedMilestone < toMilestone; i++) {
      if (i > 120) throw new Error(`the indexer did not reach milestone ${toMilestone} in 60 s`);
      await sleep(500);
    }
    log.info({ milestones: [fromMilestone, toMilestone] }, 'auditing the ledger');
    const [fromIndexer, fromNode, blocks] = await Promise.all([
      paymentsFromIndexer(tangle.indexerUrl, fromMilestone),
      paymentsFromNode(tangle.nodes[tangle.nodes.length - 1]!.restUrl, fromMilestone, toMilestone),
      blocksReferenced(tangle.indexerUrl, fromMilestone, toMilestone),
    ]);
    const processes: ProcessUse[] = await Promise.all(
      ticks1.map(async (p, i) => {
        const rss = await rssMB(p.pid);
        return {
          name: p.name,
          pid: p.pid,
          cpuPercent: cpuPercent(ticks0[i]!.ticks ?? 0, p.ticks ?? 0, meteringSeconds),
          ...(rss !== undefined ? { rssMB: rss } : {}),
        };
      }),
    );
    const households = pool.consumers.length + pool.producers.length;
    const p50 = quantile(latencies, 0.5);
    const p99 = quantile(latencies, 0.99);
    return {
      options,
      consumers: pool.consumers.length,
      producers: pool.producers.length,
      fundedConsumers: plan.pairs.filter((p) => p.consumer.funds.kind === 'funded').length,
      startupSeconds,
      meteringSeconds,
      periodsClosed: closed,
      periodsDue: due.length,
      walletIncluded: payments.filter((p) => p.state === 'included').length,
      walletNotIncluded: payments.filter((p) => p.state !== 'included').length,
      indexer: auditPayments(due, fromIndexer),
      node: auditPayments(due, fromNode),
      ...(p50 !== undefined ? { postToIncludedP50Ms: p50 } : {}),
      ...(p99 !== undefined ? { postToIncludedP99Ms: p99 } : {}),
      blocksPerSecond: blocks.seconds > 0 ? blocks.blocks / blocks.seconds : 0,
      milestones: { from: fromMilestone, to: toMilestone },
      processes,
      householdsProcess: {
        cpuPercent: ((cpu1.user + cpu1.system) / 1e6 / meteringSeconds) * 100,
        rssMB: rssEnd / 2 ** 20,
        eventLoopP99Ms: loop.percentile(99) / 1e6,
      },
      memoryPerHouseholdMB: (Math.max(rssUp, rssEnd) - rss0) / 2 ** 20 / households,
    };
  } finally {
    await pool.stop();
  }
}

/** A fleet on a fresh tangle under dataDir/network, torn down at the end. */
export async function runFleet(
  options: FleetOptions,
  dataDir: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<FleetReport> {
  const networkDir = join(dataDir, 'network');
  try {
    const tangle = await tangleUp({
      dataDir: networkDir,
      profile: await loadProfile('development'),
      binaries: await ensureBinaries({ log }),
      log,
      nodes: options.nodes,
      milestoneInterval: options.milestoneInterval,
      ports: 'auto',
      fresh: true,
      indexer: true,
      ...(signal ? { signal } : {}),
    });
    return await runFleetOnTangle(tangle, options, join(dataDir, 'households'), log, signal);
  } finally {
    await tangleDown(networkDir).catch(() => undefined);
  }
}
