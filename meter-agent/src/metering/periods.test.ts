import { describe, expect, it } from 'vitest';
import { cronCalendar, fixedCalendar, periodId } from './periods.js';

describe('period calendars', () => {
  it('aligns fixed periods to the epoch: hourly periods start on the hour', () => {
    const hourly = fixedCalendar(3600);
    const t = Date.UTC(2024, 5, 1, 10, 17, 3);
    expect(hourly.containing(t)).toEqual({
      startMs: Date.UTC(2024, 5, 1, 10),
      endMs: Date.UTC(2024, 5, 1, 11),
    });
    expect(hourly.endAfter(Date.UTC(2024, 5, 1, 11))).toBe(Date.UTC(2024, 5, 1, 12));
  });

  it('moves every fixed boundary by the offset: 60 s periods 17 s past each minute', () => {
    const minutely = fixedCalendar(60, 17);
    const t = Date.UTC(2024, 5, 1, 10, 17, 3);
    expect(minutely.containing(t)).toEqual({
      startMs: Date.UTC(2024, 5, 1, 10, 16, 17),
      endMs: Date.UTC(2024, 5, 1, 10, 17, 17),
    });
    expect(minutely.endAfter(Date.UTC(2024, 5, 1, 10, 17, 17))).toBe(Date.UTC(2024, 5, 1, 10, 18, 17));
    expect(minutely.endAfter(Date.UTC(2024, 5, 1, 10, 17, 16, 999))).toBe(Date.UTC(2024, 5, 1, 10, 17, 17));
    expect(fixedCalendar(60, 0).containing(t)).toEqual(fixedCalendar(60).containing(t));
  });

  it('finds cron boundaries against any clock', () => {
    const quarter = cronCalendar('*/15 * * * *');
    const t = new Date(2024, 5, 1, 10, 17, 3).getTime();
    expect(quarter.containing(t)).toEqual({
      startMs: new Date(2024, 5, 1, 10, 15).getTime(),
      endMs: new Date(2024, 5, 1, 10, 30).getTime(),
    });
    const daily = cronCalendar('0 0 * * *');
    expect(daily.endAfter(t)).toBe(new Date(2024, 5, 2).getTime());
    const weekdays = cronCalendar('0 8 * * 1-5');
    // 2024-06-01 is a Saturday: the next 08:00 on a weekday is Monday the 3rd.
    expect(weekdays.endAfter(t)).toBe(new Date(2024, 5, 3, 8).getTime());
    const seconds = cronCalendar('*/2 * * * * *');
    expect(seconds.endAfter(new Date(2024, 5, 1, 10, 0, 1).getTime())).toBe(
      new Date(2024, 5, 1, 10, 0, 2).getTime(),
    );
  });

  it('names a period by meter and start', () => {
    expect(periodId('house-12', Date.UTC(2024, 5, 1, 10))).toBe('house-12/2024-06-01T10:00:00.000Z');
  });
});
