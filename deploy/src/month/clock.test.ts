import { describe, expect, it, vi } from 'vitest';
import { monthClock } from './clock.js';

describe('monthClock: fast through the month, real speed after it', () => {
  const start = Date.UTC(2026, 10, 1);
  const end = start + 86_400_000;

  it('maps real time to simulated time, speed times faster until the end, then 1:1', () => {
    let real = 1_000_000;
    const clock = monthClock({ startMs: start, endMs: end, speed: 1000 }, () => real);
    real += 5_000; // before begin() time stands at the start
    expect(clock.nowMs()).toBe(start);
    clock.begin();
    real += 3_600; // 3.6 real s = 1 simulated hour
    expect(clock.nowMs()).toBe(start + 3_600_000);
    expect(clock.realMsUntilEnd()).toBe(86_400 - 3_600);
    real += 86_400; // past the end by 3.6 real s
    expect(clock.nowMs()).toBe(end + 3_600);
    expect(clock.realMsUntilEnd()).toBe(0);
  });

  it('fires a timer after its simulated delay, crossing the end at real speed', () => {
    vi.useFakeTimers();
    try {
      let real = 0;
      const clock = monthClock({ startMs: start, endMs: end, speed: 1000 }, () => real);
      const early: string[] = [];
      clock.setTimer(1_000, () => early.push('armed at begin'));
      vi.advanceTimersByTime(10);
      expect(early).toEqual([]);
      clock.begin();
      vi.advanceTimersByTime(1);
      expect(early).toEqual(['armed at begin']);
      real = 86_399_000 / 1000; // 1 simulated s before the end
      const fired: string[] = [];
      clock.setTimer(2_000, () => fired.push('after'));
      clock.setTimer(500, () => fired.push('before'));
      vi.advanceTimersByTime(0.5);
      expect(fired).toEqual(['before']);
      // 1 simulated s left of the month (1 real ms), then 1 s at real speed.
      vi.advanceTimersByTime(999);
      expect(fired).toEqual(['before']);
      vi.advanceTimersByTime(2);
      expect(fired).toEqual(['before', 'after']);
    } finally {
      vi.useRealTimers();
    }
  });
});
