/**
 * Wall-clock time in an IANA zone, from the runtime's own time-zone data (Intl). Slots are local times
 * because tariffs are: "17:00–20:00 high" stays 17:00 on the wall through daylight-saving changes.
 */

const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isTimeZone(name: string): boolean {
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

/** Local time minus UTC at instant `ms`, in ms. */
export function offsetMs(timeZone: string, ms: number): number {
  const fields: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const local = Date.UTC(
    fields.year!,
    fields.month! - 1,
    fields.day!,
    fields.hour!,
    fields.minute!,
    fields.second!,
  );
  return local - (ms - mod(ms, 1000));
}

export function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** The wall clock at an instant: ms since 1970-01-01T00:00 local, the weekday (0 = Sunday) and minute of day. */
export interface LocalTime {
  localMs: number;
  weekday: number;
  minuteOfDay: number;
  /** Seconds and ms past the minute. */
  subMinuteMs: number;
}

export function localTime(timeZone: string, ms: number): LocalTime {
  const localMs = ms + offsetMs(timeZone, ms);
  const ofDay = mod(localMs, DAY_MS);
  return {
    localMs,
    weekday: new Date(localMs - ofDay).getUTCDay(),
    minuteOfDay: Math.floor(ofDay / MINUTE_MS),
    subMinuteMs: mod(ofDay, MINUTE_MS),
  };
}

/**
 * The first instant in (fromMs, toMs] whose UTC offset differs from the offset at fromMs, or undefined.
 * Assumes at most one change in the range (zones change offset months apart; callers ask about ≤ 1 day).
 */
export function offsetChange(timeZone: string, fromMs: number, toMs: number): number | undefined {
  const before = offsetMs(timeZone, fromMs);
  if (offsetMs(timeZone, toMs) === before) return undefined;
  let lo = fromMs;
  let hi = toMs;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (offsetMs(timeZone, mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The first instant whose wall clock reads `localMs` or later: the instant itself when the wall clock shows
 * it (the earlier one when it shows twice), or the end of a daylight-saving gap that skips it.
 */
export function instantAtLocal(timeZone: string, localMs: number): number {
  const candidates = [
    localMs - offsetMs(timeZone, localMs - DAY_MS),
    localMs - offsetMs(timeZone, localMs + DAY_MS),
  ].sort((a, b) => a - b);
  for (const c of candidates) if (c + offsetMs(timeZone, c) === localMs) return c;
  // In a gap: the change happens between the two readings of the wall clock.
  return offsetChange(timeZone, candidates[0]! - DAY_MS, candidates[1]! + DAY_MS) ?? candidates[0]!;
}
