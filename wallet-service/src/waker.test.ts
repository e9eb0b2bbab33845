import { describe, expect, it } from 'vitest';
import { Waker } from './waker.js';

const NEVER_MS = 600_000;

describe('Waker', () => {
  it('a wake ends a sleep before its time', async () => {
    const waker = new Waker();
    const slept = waker.sleep(NEVER_MS);
    waker.wake();
    await slept;
  });

  it('a wake while nobody sleeps ends the next sleep at once, and only that one', async () => {
    const waker = new Waker();
    waker.wake();
    waker.wake();
    await waker.sleep(NEVER_MS);
    let ended = false;
    const next = waker.sleep(20).then(() => (ended = true));
    await Promise.resolve();
    expect(ended).toBe(false);
    await next;
  });
});
