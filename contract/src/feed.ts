import type { Payment } from './schemas.js';

/** The wallet-service's live feed (GET /events): each event is one server-sent event of that name. */

export interface MilestoneRef {
  index: number;
  timestamp: number;
  milestoneId: string;
}

/** The feed's `node` event: the node's health and sync, and how fast blocks go. */
export interface NodeStatus {
  healthy: boolean;
  synced: boolean;
  networkName: string;
  latestMilestone: MilestoneRef;
  confirmedMilestone: MilestoneRef;
  blocksPerSecond: number;
  referencedBlocksPerSecond: number;
  referencedRate: number;
}

/** The feed's `milestone` event; `via` says whether inx-mqtt pushed it or a poll of the node found it. */
export type MilestoneEvent = MilestoneRef & { confirmed: boolean; via: 'mqtt' | 'poll' };

/** The feed's `tips` event: the node's tips at `at` (ms since the epoch). */
export interface TipsEvent {
  tips: string[];
  at: number;
}

/** Each feed event's name and its data. */
export interface FeedEventData {
  node: NodeStatus;
  milestone: MilestoneEvent;
  tips: TipsEvent;
  /** A payment of this wallet changed state. */
  payment: Payment;
}

/** The part of the node's info (GET /node/info, HORNET's /api/core/v2/info) a `node` event is made of. */
export interface NodeInfoStatusPart {
  status: { isHealthy: boolean; latestMilestone: MilestoneRef; confirmedMilestone: MilestoneRef };
  protocol: { networkName: string };
  metrics: { blocksPerSecond: number; referencedBlocksPerSecond: number; referencedRate: number };
}

/** The `node` event for a node info: synced when the confirmed milestone has caught up with the latest. */
export function nodeStatusOf(info: NodeInfoStatusPart): NodeStatus {
  return {
    healthy: info.status.isHealthy,
    synced: info.status.confirmedMilestone.index >= info.status.latestMilestone.index,
    networkName: info.protocol.networkName,
    latestMilestone: info.status.latestMilestone,
    confirmedMilestone: info.status.confirmedMilestone,
    blocksPerSecond: info.metrics.blocksPerSecond,
    referencedBlocksPerSecond: info.metrics.referencedBlocksPerSecond,
    referencedRate: info.metrics.referencedRate,
  };
}
