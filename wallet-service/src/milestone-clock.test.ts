import { describe, expect, it } from 'vitest';
import { MilestoneClock, milestoneCutoff } from './milestone-clock.js';

describe('milestoneCutoff', () => {
  // Milestones every 1000 ms (±a few ms of delivery), the last at 5000.
  const steady = [1_000, 2_004, 2_998, 4_001, 5_000];

  it('is a quarter interval before the next milestone predicted from the median interval', () => {
    // Intervals 1004, 994, 1003, 999: median 1003 (the upper of the two middle ones), next at 6003.
    expect(milestoneCutoff(steady, 5_100)).toBe(6_003 - 1003 / 4);
  });

  it('is undefined once the cutoff has passed: a payment then goes by the linger rules', () => {
    expect(milestoneCutoff(steady, 5_760)).toBeUndefined();
  });

  it('is undefined before four milestones were seen', () => {
    expect(milestoneCutoff([1_000, 2_000, 3_000], 3_100)).toBeUndefined();
  });

  it('is undefined while milestones come irregularly (catching up, a stalled coordinator)', () => {
    // Several milestones read at once after a stall: intervals 1000, 1000, 3000, 5, 5.
    expect(milestoneCutoff([1_000, 2_000, 3_000, 6_000, 6_005, 6_010], 6_100)).toBeUndefined();
  });

  it('keeps its margin between 150 ms and 2 s of the interval', () => {
    expect(milestoneCutoff([0, 400, 800, 1_200], 1_210)).toBe(1_600 - 150);
    expect(milestoneCutoff([0, 10_000, 20_000, 30_000], 30_100)).toBe(40_000 - 2_000);
  });
});

describe('MilestoneClock', () => {
  it('answers the time left until the cutoff on its own clock', () => {
    let now = 0;
    const clock = new MilestoneClock(() => now);
    for (const t of [0, 1_000, 2_000, 3_000]) {
      now = t;
      clock.noteArrival();
    }
    now = 3_100;
    expect(clock.msToCutoff()).toBe(4_000 - 250 - 3_100);
    now = 3_800;
    expect(clock.msToCutoff()).toBeUndefined();
  });
});
