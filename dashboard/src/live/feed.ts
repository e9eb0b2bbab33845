/**
 * One EventSource per URL, shared by every component that listens to it: browsers allow only six
 * HTTP/1.1 connections per host, and an SSE stream holds one for its whole life.
 */

export type FeedStatus = 'connecting' | 'open' | 'reconnecting';

type Listener = (data: unknown) => void;

const MAX_RETRY_MS = 15_000;

export class LiveFeed {
  status: FeedStatus = 'connecting';
  private source: EventSource | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly bound = new Map<string, (e: MessageEvent) => void>();
  private readonly statusListeners = new Set<(s: FeedStatus) => void>();
  private readonly resyncListeners = new Set<() => void>();
  private everOpened = false;
  private lostSinceOpen = false;
  private retryMs = 1000;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  refs = 0;

  constructor(readonly url: string) {}

  start(): void {
    if (this.source || this.retryTimer) return;
    this.connect();
  }

  stop(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.source?.close();
    this.source = undefined;
  }

  on(event: string, listener: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
      if (this.source) this.bind(this.source, event);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  onStatus(listener: (s: FeedStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Called after the stream comes back: events may have been missed, so listeners refetch. */
  onResync(listener: () => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  private setStatus(status: FeedStatus): void {
    if (this.status === status) return;
    this.status = status;
    for (const l of this.statusListeners) l(status);
  }

  private bind(source: EventSource, event: string): void {
    const handler = (e: MessageEvent) => {
      let data: unknown;
      try {
        data = JSON.parse(String(e.data));
      } catch {
        return; // a malformed event is skipped; the next resync repairs what it would have said
      }
      for (const l of this.listeners.get(event) ?? []) l(data);
    };
    this.bound.set(event, handler);
    source.addEventListener(event, handler as EventListener);
  }

  private connect(): void {
    this.retryTimer = undefined;
    const source = new EventSource(this.url);
    this.source = source;
    for (const event of this.listeners.keys()) this.bind(source, event);
    source.addEventListener('open', () => {
      this.retryMs = 1000;
      this.setStatus('open');
      if (this.everOpened && this.lostSinceOpen) for (const l of this.resyncListeners) l();
      this.everOpened = true;
      this.lostSinceOpen = false;
    });
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      this.lostSinceOpen = true;
      this.setStatus(this.everOpened ? 'reconnecting' : 'connecting');
      // CONNECTING: the browser retries by itself. CLOSED (an HTTP error, a wrong content type): it
      // gives up, so we start over with backoff.
      if (source.readyState === 2) {
        source.close();
        this.source = undefined;
        this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
        this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
      }
    });
  }
}

const feeds = new Map<string, LiveFeed>();

/** Takes a reference to the shared feed for `url`; release it when done. */
export function acquireFeed(url: string): LiveFeed {
  let feed = feeds.get(url);
  if (!feed) {
    feed = new LiveFeed(url);
    feeds.set(url, feed);
  }
  feed.refs++;
  feed.start();
  return feed;
}

export function releaseFeed(feed: LiveFeed): void {
  feed.refs--;
  if (feed.refs > 0) return;
  // Release after a beat: a page switch releases and re-acquires the same feed in one render.
  setTimeout(() => {
    if (feed.refs > 0 || feeds.get(feed.url) !== feed) return;
    feed.stop();
    feeds.delete(feed.url);
  }, 1000);
}

/** Closes every stream (tests, and a page being torn down). */
export function closeAllFeeds(): void {
  for (const feed of feeds.values()) feed.stop();
  feeds.clear();
}
