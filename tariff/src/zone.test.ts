import { describe, expect, it } from 'vitest';
import { instantAtLocal, localTime, offsetChange, offsetMs } from './zone.js';

const H = 3_600_000;

describe('wall-clock time in a zone', () => {
  it('reads the local weekday and minute, with the offset of the season', () => {
    // 2026-01-14 16:00Z is Wednesday 17:00 CET (+1 h); 2026-07-15 15:00Z is Wednesday 17:00 CEST (+2 h).
    expect(offsetMs('Europe/Berlin', Date.UTC(2026, 0, 14, 16))).toBe(H);
    expect(localTime('Europe/Berlin', Date.UTC(2026, 0, 14, 16, 0, 30))).toMatchObject({
      weekday: 3,
      minuteOfDay: 17 * 60,
      subMinuteMs: 30_000,
    });
    expect(localTime('Europe/Berlin', Date.UTC(2026, 6, 15, 15))).toMatchObject({
      weekday: 3,
      minuteOfDay: 17 * 60,
    });
  });

  it('finds the instant the offset changes', () => {
    // EU summer time starts 2026-03-29 01:00Z.
    const change = Date.UTC(2026, 2, 29, 1);
    expect(offsetChange('Europe/Berlin', change - 5 * H, change + 5 * H)).toBe(change);
    expect(offsetChange('Europe/Berlin', change, change + 5 * H)).toBeUndefined();
    expect(offsetChange('UTC', change - 5 * H, change + 5 * H)).toBeUndefined();
  });

  it('maps a wall-clock time back to its instant, through gaps and repeats', () => {
    // Plain: 2026-02-01 00:00 CET is 2026-01-31 23:00Z.
    expect(instantAtLocal('Europe/Berlin', Date.UTC(2026, 1, 1))).toBe(Date.UTC(2026, 0, 31, 23));
    // Gap: 2026-03-29 02:30 never shows; the first instant at or after it is the change, 01:00Z (03:00 CEST).
    expect(instantAtLocal('Europe/Berlin', Date.UTC(2026, 2, 29, 2, 30))).toBe(Date.UTC(2026, 2, 29, 1));
    // Repeat: 2026-10-25 02:30 shows at 00:30Z (CEST) and 01:30Z (CET); the earlier is taken.
    expect(instantAtLocal('Europe/Berlin', Date.UTC(2026, 9, 25, 2, 30))).toBe(Date.UTC(2026, 9, 25, 0, 30));
  });
});
