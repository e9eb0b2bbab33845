import type { FeedStatus } from '../live/feed';

const labels: Record<FeedStatus, string> = {
  connecting: 'connecting…',
  open: 'live',
  reconnecting: 'reconnecting…',
};

/** The state of a live stream: a dot, and always the word (not color alone). */
export function LiveBadge({ status, source }: { status: FeedStatus; source: string }) {
  return (
    <span className={`live live-${status}`} role="status" title={`Live updates from ${source}`}>
      <span className="live-dot" aria-hidden="true" />
      <span className="visually-hidden">Updates from {source}: </span>
      {labels[status]}
    </span>
  );
}
