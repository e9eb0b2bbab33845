/** Times are shown in the viewer's locale and zone; ISO on hover for the exact value. */

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

function valid(ms: number | undefined | null): ms is number {
  return typeof ms === 'number' && Number.isFinite(ms);
}

export function formatTime(ms: number | undefined | null): string {
  return valid(ms) ? timeFormat.format(ms) : '—';
}

export function formatDateTime(ms: number | undefined | null): string {
  return valid(ms) ? dateTimeFormat.format(ms) : '—';
}

export function isoTime(ms: number | undefined | null): string | undefined {
  return valid(ms) ? new Date(ms).toISOString() : undefined;
}

/** Unix seconds (milestone and unlock-condition timestamps) to ms. */
export function fromUnixSeconds(seconds: number | undefined | null): number | undefined {
  return valid(seconds) ? seconds * 1000 : undefined;
}

/** 850 → "850 ms", 4200 → "4.2 s", 125000 → "2 min 5 s", 7_380_000 → "2 h 3 min". */
export function formatDuration(ms: number | undefined | null): string {
  if (!valid(ms)) return '—';
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(abs < 10_000 ? 1 : 0)} s`;
  const totalSeconds = Math.round(abs / 1000);
  if (totalSeconds < 3600) {
    const s = totalSeconds % 60;
    return `${sign}${Math.floor(totalSeconds / 60)} min${s ? ` ${s} s` : ''}`;
  }
  const totalMinutes = Math.round(totalSeconds / 60);
  if (totalMinutes < 48 * 60) {
    const m = totalMinutes % 60;
    return `${sign}${Math.floor(totalMinutes / 60)} h${m ? ` ${m} min` : ''}`;
  }
  return `${sign}${Math.round(totalMinutes / 1440)} d`;
}

/** "3 s ago", "in 2 min"; "just now" within a second. */
export function formatAge(nowMs: number, thenMs: number | undefined | null): string {
  if (!valid(thenMs)) return '—';
  const delta = nowMs - thenMs;
  if (Math.abs(delta) < 1000) return 'just now';
  const text = formatDuration(Math.abs(delta)).replace(/\.\d s$/, ' s');
  return delta > 0 ? `${text} ago` : `in ${text}`;
}

/** Mean interval between timestamps (ms, any order) and the rate per minute it implies. */
export function milestoneRate(
  timestampsMs: number[],
): { meanIntervalMs: number; perMinute: number } | undefined {
  if (timestampsMs.length < 2) return undefined;
  const sorted = [...timestampsMs].sort((a, b) => a - b);
  const span = sorted[sorted.length - 1]! - sorted[0]!;
  if (span <= 0) return undefined;
  const meanIntervalMs = span / (sorted.length - 1);
  return { meanIntervalMs, perMinute: 60_000 / meanIntervalMs };
}
