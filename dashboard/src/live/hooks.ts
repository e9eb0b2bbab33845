import { useEffect, useRef, useState } from 'react';
import { acquireFeed, type FeedStatus, releaseFeed } from './feed';

/** Calls `handler` with each event of that name from the SSE stream at `url` (latest handler wins). */
export function useLiveEvent<T>(url: string | undefined, event: string, handler: (data: T) => void): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    if (!url) return;
    const feed = acquireFeed(url);
    const off = feed.on(event, (data) => ref.current(data as T));
    return () => {
      off();
      releaseFeed(feed);
    };
  }, [url, event]);
}

/** The stream's connection state, for a "live / reconnecting" indicator. */
export function useLiveStatus(url: string | undefined): FeedStatus {
  const [status, setStatus] = useState<FeedStatus>('connecting');
  useEffect(() => {
    if (!url) return;
    const feed = acquireFeed(url);
    setStatus(feed.status);
    const off = feed.onStatus(setStatus);
    return () => {
      off();
      releaseFeed(feed);
    };
  }, [url]);
  return status;
}

/** Runs `resync` when the stream reconnects after a loss (events may have been missed). */
export function useResync(url: string | undefined, resync: () => void): void {
  const ref = useRef(resync);
  ref.current = resync;
  useEffect(() => {
    if (!url) return;
    const feed = acquireFeed(url);
    const off = feed.onResync(() => ref.current());
    return () => {
      off();
      releaseFeed(feed);
    };
  }, [url]);
}
