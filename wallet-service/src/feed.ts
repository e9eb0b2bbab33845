import { EventEmitter } from 'node:events';
import type { MilestoneRef, NodeApi, NodeInfo } from '@tanglewatt/ledger';
import type { Payment } from '@tanglewatt/payments-api';
import type { Logger } from 'pino';

/** What the live feed carries; each becomes one server-sent event of that name. */
export interface FeedEvents {
  node: [NodeStatus];
  milestone: [MilestoneRef & { confirmed: boolean }];
  tips: [{ tips: string[]; at: number }];
  payment: [Payment];
}

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

function statusOf(info: NodeInfo): NodeStatus {
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

/**
 * Polls the node while anyone listens and turns changes into events. Polling works against any node;
 * milestones arrive at most every second, so a 250 ms poll shows each within a quarter second.
 */
export class LiveFeed extends EventEmitter<FeedEvents> {
  private timer: NodeJS.Timeout | undefined;
  private last: NodeStatus | undefined;
  private lastTipsAt = 0;
  private polling = false;

  constructor(
    private readonly api: NodeApi,
    private readonly log: Logger,
    private readonly pollMs = 250,
  ) {
    super();
  }

  get current(): NodeStatus | undefined {
    return this.last;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.pollMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (
      this.polling ||
      this.listenerCount('node') + this.listenerCount('milestone') + this.listenerCount('tips') === 0
    )
      return;
    this.polling = true;
    try {
      const status = statusOf(await this.api.info());
      const previous = this.last;
      this.last = status;
      if (!previous || previous.latestMilestone.index !== status.latestMilestone.index)
        this.emit('milestone', { ...status.latestMilestone, confirmed: false });
      if (!previous || previous.confirmedMilestone.index !== status.confirmedMilestone.index) {
        this.emit('milestone', { ...status.confirmedMilestone, confirmed: true });
        this.emit('node', status);
      } else if (previous.synced !== status.synced || previous.healthy !== status.healthy) {
        this.emit('node', status);
      }
      if (Date.now() - this.lastTipsAt >= 1000 && this.listenerCount('tips') > 0) {
        this.lastTipsAt = Date.now();
        const tips = await this.api.tips().catch(() => [] as string[]);
        this.emit('tips', { tips, at: Date.now() });
      }
    } catch (error) {
      if (this.last?.synced !== false)
        this.log.warn({ err: (error as Error).message }, 'node status poll failed');
      if (this.last) {
        this.last = { ...this.last, synced: false, healthy: false };
        this.emit('node', this.last);
      }
    } finally {
      this.polling = false;
    }
  }
}
