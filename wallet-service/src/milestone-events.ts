import type { LiveFeed } from './feed.js';

/**
 * Confirmed milestones from the live feed (inx-mqtt's milestone-info/confirmed as HORNET confirms one, or
 * the feed's node poll where the node runs no inx-mqtt) drive the ledger view's catch-up and settlement's
 * inclusion check, so a transaction is recorded as included moments after its milestone, not at a timer.
 * Returns the unsubscribe.
 */
export function followConfirmedMilestones(
  feed: Pick<LiveFeed, 'on' | 'off'>,
  onConfirmed: (() => void)[],
): () => void {
  const onMilestone = (m: { confirmed: boolean }) => {
    if (!m.confirmed) return;
    for (const wake of onConfirmed) wake();
  };
  feed.on('milestone', onMilestone);
  return () => feed.off('milestone', onMilestone);
}
