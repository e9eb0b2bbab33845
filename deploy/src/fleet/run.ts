/**
 * One fleet run: a tangle of its own (nodes, 1 s milestones, the indexer beside node 1), the households
 * (split over child processes, worker.ts),
 * metering until the stop time, every payment settled, then the audit of the ledger read twice (indexer and
 * core API) and the per-process CPU of what `tangleUp` started.
 */
import { join } from 'node:path';
import { MnemonicSigner, NodeApi } from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import { sleep } from '../community/households.js';
import { byAccountIndex, devMnemonic } from '../household.js';
import { ensureBinaries } from '../install.js';
import { loadProfile } from '../profile.js';
import { type TangleState, tangleDown, tangleUp } from '../tangle.js';
import { auditPayments, cpuPercent, type PaymentAudit } from './audit.js';
import { startChildren } from './children.js';
import {
  blocksReferenced,
  cpuTicks,
  indexerHealth,
  paymentsFromIndexer,
  paymentsFromNode,
  rssMB,
} from './ledger-read.js';
import { type HouseholdsProcess, mergeHouseholds } from './merge.js';
import { type FleetOptions, planFleet, splitPairs, stopTime } from './plan.js';
import { fundConsumers } from './pool.js';

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
  /** The households' child processes (every wallet-service and agent): CPU % of one core each, and summed. */
  householdsProcesses: HouseholdsProcess[];
  householdsProcess: { cpuPercent: number; rssMB: number; eventLoopP99Ms: number };
  memoryPerHouseholdMB: number;
}

async function processTicks(tangle: TangleState) {
  return Promise.all(tangle.processes.map(async (p) => ({ ...p, ticks: await cpuTicks(p.pid) })));
}

export async function runFleetOnTangle(
  tangle: TangleState,
  options: FleetOptions,
  dataDir: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<FleetReport> {
  if (!tangle.indexerUrl) throw new Error('the tangle runs no indexer: build it (npm run tangle -- install)');
  const plan = planFleet(options.meters, byAccountIndex(tangle).length, options);
  const node = new NodeApi(tangle.nodes[0]!.restUrl);
  // From before the households start: the first of them pay while the last ones are still starting.
  const fromMilestone = (await node.info()).status.confirmedMilestone.index + 1;
  const t0 = performance.now();
  const signer = new MnemonicSigner(await devMnemonic());
  const fundedOutputs = await fundConsumers(tangle, plan, signer, dataDir, log);
  const slices = splitPairs(plan.pairs, options.processes);
  log.info({ processes: slices.length, spread: options.spread }, 'starting the households');
  const children = startChildren(tangle, slices, fundedOutputs, options, dataDir, log);
  const onAbort = () => children.kill();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await children.up;
    const startupSeconds = (performance.now() - t0) / 1000;
    const startMs = Date.now();
    const ticks0 = await processTicks(tangle);
    children.meter(startMs);
    const lastStop = stopTime(startMs, options.minutes, options.periodSeconds, options.periodSeconds - 1);
    log.info(
      { consumers: plan.pairs.length, startupSeconds: Math.round(startupSeconds), until: new Date(lastStop) },
      'households up; metering',
    );
    let done = false;
    void children.metered.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    while (!done && !signal?.aborted) {
      await sleep(Math.min(10_000, Math.max(1000, lastStop - Date.now())));
      if (!done)
        log.info(
          { open: children.open(), leftSeconds: Math.max(0, Math.round((lastStop - Date.now()) / 1000)) },
          'metering',
        );
    }
    if (signal?.aborted) throw signal.reason;
    await children.metered;
    const meteringSeconds = (Date.now() - startMs) / 1000;
    const ticks1 = await processTicks(tangle);
    log.info('metering stopped: the agents stopped, waiting for every payment to be included');
    const merged = mergeHouseholds(await children.results);
    // The audit reads hundreds of milestones: not while the nodes are still busy with the households.
    // A wallet-service still settling may take long to stop: audit meanwhile rather than wait for it.
    if ((await Promise.race([children.exited.then(() => true), sleep(30_000).then(() => false)])) === false)
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
    return {
      options,
      consumers: merged.consumers,
      producers: merged.producers,
      fundedConsumers: plan.pairs.filter((p) => p.consumer.funds.kind === 'funded').length,
      startupSeconds,
      meteringSeconds,
      periodsClosed: merged.periodsClosed,
      periodsDue: merged.due.length,
      walletIncluded: merged.walletIncluded,
      walletNotIncluded: merged.walletNotIncluded,
      indexer: auditPayments(merged.due, fromIndexer),
      node: auditPayments(merged.due, fromNode),
      ...(merged.postToIncludedP50Ms !== undefined
        ? { postToIncludedP50Ms: merged.postToIncludedP50Ms }
        : {}),
      ...(merged.postToIncludedP99Ms !== undefined
        ? { postToIncludedP99Ms: merged.postToIncludedP99Ms }
        : {}),
      blocksPerSecond: blocks.seconds > 0 ? blocks.blocks / blocks.seconds : 0,
      milestones: { from: fromMilestone, to: toMilestone },
      processes,
      householdsProcesses: merged.processes,
      householdsProcess: {
        cpuPercent: merged.cpuPercent,
        rssMB: merged.rssMB,
        eventLoopP99Ms: merged.eventLoopP99Ms,
      },
      memoryPerHouseholdMB: merged.memoryPerHouseholdMB,
    };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    children.kill();
    await Promise.race([children.exited, sleep(30_000)]);
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
