import type { MilestoneEvent } from '@tanglewatt/contract';

/** Where milestones come from: the LiveFeed, or a fake in tests. */
export interface MilestoneSource {
  on(event: 'milestone', listener: (m: MilestoneEvent) => void): unknown;
  off(event: 'milestone', listener: (m: MilestoneEvent) => void): unknown;
}

/**
 * Confirmed milestones from the live feed (inx-mqtt's milestone-info/confirmed as HORNET confirms one, or
 * the feed's node poll where the node runs no inx-mqtt) drive the ledger view's catch-up and settlement's
 * inclusion check, so a transaction is recorded as included moments after its milestone, not at a timer.
 * Returns the unsubscribe.
 */
export function followConfirmedMilestones(feed: MilestoneSource, onConfirmed: (() => void)[]): () => void {
  const onMilestone = (m: MilestoneEvent) => {
    if (!m.confirmed) return;
    for (const wake of onConfirmed) wake();
  };
  feed.on('milestone', onMilestone);
  return () => feed.off('milestone', onMilestone);
}
