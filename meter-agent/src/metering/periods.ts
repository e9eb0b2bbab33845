import cron from 'node-cron';

/** How payment periods are cut: a fixed length aligned to the Unix epoch, or a cron expression. */
export type PeriodSpec = { seconds: number; offsetSeconds?: number } | { cron: string };

export interface PeriodCalendar {
  readonly description: string;
  /** The first period boundary after `tMs`. */
  endAfter(tMs: number): number;
  /** The period that contains `tMs`: start ≤ tMs < end. */
  containing(tMs: number): { startMs: number; endMs: number };
}

/**
 * Fixed-length periods on multiples of the length since the epoch, so 3600 s periods start on the hour;
 * `offsetSeconds` (0 ≤ offset < length) moves every boundary that much later, so meters that share a
 * period length need not all close their periods (and pay) at the same second.
 */
export function fixedCalendar(seconds: number, offsetSeconds = 0): PeriodCalendar {
  const lengthMs = seconds * 1000;
  const offsetMs = offsetSeconds * 1000;
  const startOf = (tMs: number) => Math.floor((tMs - offsetMs) / lengthMs) * lengthMs + offsetMs;
  return {
    description: offsetSeconds
      ? `every ${seconds} s, ${offsetSeconds} s past the epoch's multiples`
      : `every ${seconds} s`,
    endAfter: (tMs) => startOf(tMs) + lengthMs,
    containing: (tMs) => {
      const startMs = startOf(tMs);
      return { startMs, endMs: startMs + lengthMs };
    },
  };
}

const MAX_DAYS = 366 * 5;

/**
 * Periods whose boundaries are the times a cron expression names (node-cron syntax, 5 or 6 fields, the
 * process's local time zone). Computed from the expression against any clock, not by node-cron's timer,
 * so accelerated clocks and restarts see the same boundaries.
 */
export function cronCalendar(expression: string): PeriodCalendar {
  const fields = cron.parse(expression);
  const task = cron.createTask(expression, () => undefined);
  void task.destroy(); // only its matcher is used; keep it out of node-cron's registry
  const seconds = [...fields.second].sort((a, b) => a - b);
  const minutes = [...fields.minute].sort((a, b) => a - b);
  const hours = [...fields.hour].sort((a, b) => a - b);

  const endAfter = (afterMs: number): number => {
    const base = new Date(afterMs);
    for (let i = 0; i < MAX_DAYS; i++) {
      const y = base.getFullYear();
      const m = base.getMonth();
      const d = base.getDate() + i;
      // A day that does not match fails on its first candidate time already.
      if (!task.match(new Date(y, m, d, hours[0] ?? 0, minutes[0] ?? 0, seconds[0] ?? 0))) continue;
      for (const h of hours) {
        if (new Date(y, m, d, h, 59, 59).getTime() <= afterMs) continue;
        for (const min of minutes) {
          if (new Date(y, m, d, h, min, 59).getTime() <= afterMs) continue;
          for (const s of seconds) {
            const candidate = new Date(y, m, d, h, min, s);
            if (candidate.getTime() > afterMs && task.match(candidate)) return candidate.getTime();
          }
        }
      }
    }
    throw new RangeError(`cron "${expression}" names no time in the next ${MAX_DAYS} days`);
  };

  const startOf = (tMs: number): number => {
    for (let windowMs = 60_000; windowMs < 400 * 86_400_000; windowMs *= 4) {
      let match = endAfter(tMs - windowMs);
      if (match > tMs) continue;
      for (let next = endAfter(match); next <= tMs; next = endAfter(match)) match = next;
      return match;
    }
    throw new RangeError(`cron "${expression}" named no time in the last 400 days`);
  };

  return {
    description: `cron "${expression}"`,
    endAfter,
    containing: (tMs) => {
      const startMs = startOf(tMs);
      return { startMs, endMs: endAfter(startMs) };
    },
  };
}

export function periodCalendar(spec: PeriodSpec): PeriodCalendar {
  return 'seconds' in spec ? fixedCalendar(spec.seconds, spec.offsetSeconds) : cronCalendar(spec.cron);
}

/** The period's id and idempotency key: `<meterId>/<start as ISO 8601 UTC>`. */
export function periodId(meterId: string, startMs: number): string {
  return `${meterId}/${new Date(startMs).toISOString()}`;
}
