import { describe, expect, it } from 'vitest';
import {
  anyRose,
  defaultProgressed,
  type ProgressClock,
  ProgressError,
  waitForProgress,
} from './progress.js';

/** A clock that only moves when the wait sleeps, so each probe happens at a known time. */
function fakeClock(): ProgressClock & { t: number } {
  const clock = {
    t: 0,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

/** A probe that returns `values[i]` on the i-th call and then repeats the last one. */
function sequence<T>(values: readonly T[]): { probe: () => T } {
  let i = 0;
  return { probe: () => values[Math.min(i++, values.length - 1)]! };
}

/** A probe every 100 ms, a stall after 1 s without progress, a 60 s ceiling, on `clock`; `changes` says otherwise. */
function timing(
  clock: ProgressClock,
  changes: { stallMs?: number; ceilingMs?: number; intervalMs?: number } = {},
) {
  return { stallMs: 1_000, ceilingMs: 60_000, intervalMs: 100, clock, ...changes };
}

async function failure<T>(promise: Promise<T>): Promise<ProgressError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProgressError);
  return error as ProgressError;
}

describe('waitForProgress', () => {
  it('resolves with the value once done, without waiting further', async () => {
    const clock = fakeClock();
    const value = await waitForProgress({
      what: 'count',
      ...sequence([1, 2, 3]),
      done: (n) => n >= 3,
      ...timing(clock, { ceilingMs: 10_000 }),
    });
    expect(value).toBe(3);
    expect(clock.t).toBe(200);
  });

  it('keeps waiting past the stall window while the value keeps rising', async () => {
    const clock = fakeClock();
    // Rises by one every 5 probes (500 ms), 40 times: 20 s in all, far past the 1 s stall window.
    const values = Array.from({ length: 201 }, (_, i) => Math.floor(i / 5));
    const value = await waitForProgress({
      what: 'milestones',
      ...sequence(values),
      done: (n) => n >= 40,
      ...timing(clock),
    });
    expect(value).toBe(40);
    expect(clock.t).toBe(20_000);
  });

  it('fails naming what stalled and its last value when nothing moved for the stall window', async () => {
    const clock = fakeClock();
    const error = await failure(
      waitForProgress({
        what: 'hornet-2 syncing',
        ...sequence([5, 6, 7]),
        done: (n) => n >= 10,
        ...timing(clock, { stallMs: 2_000 }),
      }),
    );
    expect(error.code).toBe('STALLED');
    expect(error.last).toBe(7);
    expect(error.message).toBe('hornet-2 syncing: no progress for 2 s (after 2.2 s; last value 7)');
    // Last move at 200 ms (the third probe), stalled 2 s later.
    expect(clock.t).toBe(2_200);
  });

  it('a value that falls back is not progress', async () => {
    const clock = fakeClock();
    const error = await failure(
      waitForProgress({
        what: 'index',
        ...sequence([5, 3, 4, 5, 4]),
        done: () => false,
        ...timing(clock),
      }),
    );
    expect(error.code).toBe('STALLED');
    expect(error.last).toBe(5);
    expect(clock.t).toBe(1_000);
  });

  it('fails at the ceiling even while moving', async () => {
    const clock = fakeClock();
    let n = 0;
    const error = await failure(
      waitForProgress({
        what: 'journal',
        probe: () => n++,
        done: () => false,
        ...timing(clock, { ceilingMs: 5_000 }),
      }),
    );
    expect(error.code).toBe('CEILING');
    expect(error.message).toBe(
      'journal: not done within the 5 s ceiling though still moving (last value 50)',
    );
    expect(clock.t).toBe(5_000);
  });

  it('counts a failing probe as no reading and reports its error', async () => {
    const clock = fakeClock();
    const error = await failure(
      waitForProgress({
        what: 'service',
        probe: () => {
          throw new Error('connect ECONNREFUSED');
        },
        done: () => true,
        ...timing(clock, { intervalMs: 250 }),
      }),
    );
    expect(error.code).toBe('STALLED');
    expect(error.message).toBe(
      'service: no progress for 1 s (after 1 s; last value none; last probe failed: connect ECONNREFUSED)',
    );
  });

  it('a probe that recovers after failures goes on to finish', async () => {
    const clock = fakeClock();
    let calls = 0;
    const value = await waitForProgress({
      what: 'service',
      probe: () => {
        calls++;
        if (calls < 3) throw new Error('not yet');
        return 'up';
      },
      done: (s) => s === 'up',
      ...timing(clock),
    });
    expect(value).toBe('up');
  });

  it('uses the given progress rule and rendering', async () => {
    const clock = fakeClock();
    const error = await failure(
      waitForProgress({
        what: 'payment',
        ...sequence(['pending', 'submitted', 'submitted']),
        done: (s) => s === 'included',
        progressed: (a, b) => a !== b,
        show: (s) => s.toUpperCase(),
        ...timing(clock, { stallMs: 500 }),
      }),
    );
    expect(error.message).toMatch(/^payment: no progress for 0\.5 s .*last value SUBMITTED\)$/);
  });
});

describe('defaultProgressed', () => {
  it('numbers and bigints must rise; anything else must change', () => {
    expect(defaultProgressed(1, 2)).toBe(true);
    expect(defaultProgressed(2, 1)).toBe(false);
    expect(defaultProgressed(2n, 3n)).toBe(true);
    expect(defaultProgressed(3n, 3n)).toBe(false);
    expect(defaultProgressed({ a: 1 }, { a: 1 })).toBe(false);
    expect(defaultProgressed({ a: 1 }, { a: 2 })).toBe(true);
    expect(defaultProgressed(undefined, 'x')).toBe(true);
  });
});

describe('anyRose', () => {
  it('is progress when any counter rose, even if another fell', () => {
    expect(anyRose({ closed: 1, included: 0 }, { closed: 1, included: 1 })).toBe(true);
    expect(anyRose({ closed: 1, included: 1 }, { closed: 2, included: 0 })).toBe(true);
    expect(anyRose({ closed: 2, included: 1 }, { closed: 2, included: 1 })).toBe(false);
  });
});
