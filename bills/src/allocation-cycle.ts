/**
 * An allocation cycle: a calendar month in the tariff's zone (`2026-11`), or a range `from..to` of local
 * dates (the `to` day included) or ISO instants (`to` excluded). Its id names the payment key, so it only
 * uses the characters an idempotency key allows.
 */
import type { TariffHistory } from '@tanglewatt/tariff';
import { instantAtLocal } from '@tanglewatt/tariff';
import { boundMs } from './config.js';
import { BillError } from './errors.js';

export interface AllocationCycle {
  /** `2026-11`, `2026-11-01..2026-11-15` or `2026-12-02T10:00:00.000Z..2026-12-02T10:05:00.000Z`. */
  id: string;
  fromMs: number;
  toMs: number;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const WHAT = 'a month YYYY-MM, or from..to as dates YYYY-MM-DD or ISO times with Z or an offset';

export function parseCycle(text: string, history: TariffHistory): AllocationCycle {
  const zone = history[0]!.timeZone;
  const month = MONTH.exec(text);
  if (month) {
    const [y, m] = [Number(month[1]), Number(month[2])];
    return {
      id: text,
      fromMs: instantAtLocal(zone, Date.UTC(y, m - 1, 1)),
      toMs: instantAtLocal(zone, Date.UTC(y, m, 1)),
    };
  }
  const parts = text.split('..');
  if (parts.length !== 2) throw new BillError('INVALID_CONFIG', `cycle: ${WHAT}, not "${text}"`);
  const [from, to] = parts as [string, string];
  let fromMs: number;
  let toMs: number;
  try {
    fromMs = boundMs(from, zone, false, 'cycle');
    toMs = boundMs(to, zone, true, 'cycle');
  } catch {
    throw new BillError('INVALID_CONFIG', `cycle: ${WHAT}, not "${text}"`);
  }
  if (toMs <= fromMs) throw new BillError('INVALID_CONFIG', `cycle: its end must be after its start`);
  const name = (bound: string, ms: number) => (DAY.test(bound) ? bound : new Date(ms).toISOString());
  return { id: `${name(from, fromMs)}..${name(to, toMs)}`, fromMs, toMs };
}
