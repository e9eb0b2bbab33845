import { InvalidArgumentError } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { type AgentState, type PeriodRecord, paymentState } from './store/state.js';

/**
 * Closed periods as CSV for bookkeeping (RFC 4180: a header row, CRLF line ends, a field with a comma, a
 * quote, CR or LF in double quotes with its quotes doubled). energyMWs and amount are the exact integers
 * from the journal; energyWh is the same energy in Wh with 7 decimals, finer than 1 mW·s (0.000000278 Wh),
 * so no two energies share a value.
 */

export const PERIOD_CSV_COLUMNS = [
  'periodId',
  'start',
  'end',
  'energyMWs',
  'energyWh',
  'amount',
  'paymentState',
  'samples',
  'gapMs',
  'readErrors',
] as const;

const MWS_PER_WH = 3_600_000n;
const WH_DECIMALS = 7;

/** mW·s as Wh with 7 decimals, rounded half away from zero, computed on integers. */
export function mwsToWh(energyMWs: string | bigint): string {
  const mws = BigInt(energyMWs);
  const negative = mws < 0n;
  const abs = negative ? -mws : mws;
  const scaled = (abs * 10n ** BigInt(WH_DECIMALS) * 2n + MWS_PER_WH) / (2n * MWS_PER_WH);
  const digits = scaled.toString().padStart(WH_DECIMALS + 1, '0');
  const text = `${digits.slice(0, -WH_DECIMALS)}.${digits.slice(-WH_DECIMALS)}`;
  return negative && scaled !== 0n ? `-${text}` : text;
}

/** The forms the wallet-service's /payments.csv takes too: calendar-checked, a zone required. */
const timeBound = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

/**
 * A --since/--until value as ms since the epoch: an ISO 8601 time with Z or an offset, or a date (its UTC
 * midnight). Anything else is refused naming the option.
 */
export function parseTimeBound(value: string, option: string): number {
  if (!timeBound.safeParse(value).success)
    throw new InvalidArgumentError(
      `${option}: an ISO 8601 time such as 2026-01-31T00:00:00Z, or a date such as 2026-01-31 (got "${value}")`,
    );
  return Date.parse(value);
}

/** Periods that start at or after `sinceMs` and before `untilMs`, in journal order (oldest first). */
export function periodsInRange(
  periods: readonly PeriodRecord[],
  range: { sinceMs?: number; untilMs?: number },
): PeriodRecord[] {
  if (range.sinceMs !== undefined && range.untilMs !== undefined && range.sinceMs > range.untilMs)
    throw new InvalidArgumentError('--until: must not be before --since');
  return periods.filter(
    (p) =>
      (range.sinceMs === undefined || p.startMs >= range.sinceMs) &&
      (range.untilMs === undefined || p.startMs < range.untilMs),
  );
}

export function periodsCsv(periods: readonly PeriodRecord[], state: Pick<AgentState, 'outcomes'>): string {
  const rows = periods.map((p) => [
    p.id,
    new Date(p.startMs).toISOString(),
    new Date(p.endMs).toISOString(),
    p.energyMWs,
    mwsToWh(p.energyMWs),
    p.amount,
    paymentState(p, state.outcomes),
    String(p.quality.samples),
    String(p.quality.gapMs),
    String(p.quality.readErrors),
  ]);
  return stringify([[...PERIOD_CSV_COLUMNS], ...rows], {
    record_delimiter: 'windows',
    quoted_match: /[\r\n]/,
  });
}
