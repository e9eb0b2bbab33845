/**
 * What each households' child process reports back, and the parent's merge of them into one fleet's
 * figures. Pure: the child (worker.ts) fills a HouseholdsResult, the parent (run.ts) merges them.
 */
import type { DuePayment } from './audit.js';
import { quantile } from './audit.js';

/** One child process's share of the run, as it sends it to the parent. */
export interface HouseholdsResult {
  pid: number;
  consumers: number;
  producers: number;
  /** Periods its consumers' meters closed, and the ones of them that owe a payment. */
  periodsClosed: number;
  due: DuePayment[];
  /** POST→included of its included payments (the wallet-services' createdAt → updatedAt), in ms. */
  latenciesMs: number[];
  walletIncluded: number;
  walletNotIncluded: number;
  /** Over the metering: CPU % of one core, resident memory at its end, event-loop delay p99. */
  cpuPercent: number;
  rssMB: number;
  eventLoopP99Ms: number;
  /** Growth of its resident memory over what it held before its households started. */
  growthMB: number;
}

export interface HouseholdsProcess {
  pid: number;
  households: number;
  cpuPercent: number;
  rssMB: number;
  eventLoopP99Ms: number;
}

export interface MergedHouseholds {
  consumers: number;
  producers: number;
  periodsClosed: number;
  due: DuePayment[];
  walletIncluded: number;
  walletNotIncluded: number;
  postToIncludedP50Ms?: number;
  postToIncludedP99Ms?: number;
  processes: HouseholdsProcess[];
  /** Sum over the processes. */
  cpuPercent: number;
  rssMB: number;
  /** The worst of the processes. */
  eventLoopP99Ms: number;
  memoryPerHouseholdMB: number;
}

/** The children's reports as one fleet: counts summed, latency quantiles over every payment, worst loop. */
export function mergeHouseholds(results: readonly HouseholdsResult[]): MergedHouseholds {
  const sum = (f: (r: HouseholdsResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const latencies = results.flatMap((r) => r.latenciesMs);
  const households = sum((r) => r.consumers + r.producers);
  const p50 = quantile(latencies, 0.5);
  const p99 = quantile(latencies, 0.99);
  return {
    consumers: sum((r) => r.consumers),
    producers: sum((r) => r.producers),
    periodsClosed: sum((r) => r.periodsClosed),
    due: results.flatMap((r) => r.due),
    walletIncluded: sum((r) => r.walletIncluded),
    walletNotIncluded: sum((r) => r.walletNotIncluded),
    ...(p50 !== undefined ? { postToIncludedP50Ms: p50 } : {}),
    ...(p99 !== undefined ? { postToIncludedP99Ms: p99 } : {}),
    processes: results.map((r) => ({
      pid: r.pid,
      households: r.consumers + r.producers,
      cpuPercent: r.cpuPercent,
      rssMB: r.rssMB,
      eventLoopP99Ms: r.eventLoopP99Ms,
    })),
    cpuPercent: sum((r) => r.cpuPercent),
    rssMB: sum((r) => r.rssMB),
    eventLoopP99Ms: Math.max(0, ...results.map((r) => r.eventLoopP99Ms)),
    memoryPerHouseholdMB: households > 0 ? sum((r) => r.growthMB) / households : 0,
  };
}
