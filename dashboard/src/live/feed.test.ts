import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeEventSource } from '../test/fakes';
import { acquireFeed, closeAllFeeds, releaseFeed } from './feed';

beforeEach(() => {
  FakeEventSource.instances = [];
  vi.stubGlobal('EventSource', FakeEventSource);
  vi.useFakeTimers();
});
afterEach(() => {
  closeAllFeeds();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('LiveFeed', () => {
  it('shares one connection per URL and delivers parsed events by name', () => {
    const a = acquireFeed('http://w/events');
    const b = acquireFeed('http://w/events');
    expect(a).toBe(b);
    expect(FakeEventSource.instances).toHaveLength(1);
    const got: unknown[] = [];
    a.on('tips', (d) => got.push(d));
    const source = FakeEventSource.instances[0]!;
    source.emit('tips', { tips: ['0x1'], at: 1 });
    source.emit('milestone', { index: 2 });
    expect(got).toEqual([{ tips: ['0x1'], at: 1 }]);
  });

  it('reports reconnecting and asks for a resync only after a loss', () => {
    const feed = acquireFeed('http://w/events');
    const statuses: string[] = [];
    let resyncs = 0;
    feed.onStatus((s) => statuses.push(s));
    feed.onResync(() => resyncs++);
    const source = FakeEventSource.instances[0]!;
    source.open();
    expect(resyncs).toBe(0);
    source.fail(0);
    source.open();
    expect(statuses).toEqual(['open', 'reconnecting', 'open']);
    expect(resyncs).toBe(1);
  });

  it('starts over with backoff when the browser gives up (CLOSED)', () => {
    const feed = acquireFeed('http://w/events');
    let resyncs = 0;
    feed.onResync(() => resyncs++);
    FakeEventSource.instances[0]!.open();
    FakeEventSource.instances[0]!.fail(2);
    expect(feed.status).toBe('reconnecting');
    vi.advanceTimersByTime(999);
    expect(FakeEventSource.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeEventSource.instances).toHaveLength(2);
    // The new connection carries the same listeners.
    const got: unknown[] = [];
    feed.on('payment', (p) => got.push(p));
    FakeEventSource.instances[1]!.fail(2);
    vi.advanceTimersByTime(2000);
    const third = FakeEventSource.instances[2]!;
    third.open();
    third.emit('payment', { idempotencyKey: 'k' });
    expect(got).toEqual([{ idempotencyKey: 'k' }]);
    expect(resyncs).toBe(1);
  });

  it('closes the stream a moment after the last user leaves', () => {
    const feed = acquireFeed('http://w/events');
    releaseFeed(feed);
    const again = acquireFeed('http://w/events');
    vi.advanceTimersByTime(2000);
    expect(again).toBe(feed);
    expect(FakeEventSource.instances[0]!.readyState).not.toBe(2);
    releaseFeed(again);
    vi.advanceTimersByTime(2000);
    expect(FakeEventSource.instances[0]!.readyState).toBe(2);
  });
});
