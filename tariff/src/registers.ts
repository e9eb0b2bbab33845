import { TariffError } from './errors.js';
import { add, mul, type Rational, rational, ZERO } from './rational.js';
import { HALF_NJ_PER_WH } from './schedule.js';

/** OBIS-style register codes: 1-0:1.8.x import, 1-0:2.8.x export; x is the band digit, 0 the total. */
export function importCode(digit: number): string {
  return `1-0:1.8.${digit}`;
}
export function exportCode(digit: number): string {
  return `1-0:2.8.${digit}`;
}

/** A meter's own cumulative counters at the period end, as it reports them (they may restart lower). */
export interface MeterCounter {
  importHalfNJ: bigint;
  exportHalfNJ: bigint;
}

/** One period's energy by band digit, in half-nJ (from the pricing's band lines), and the meter's counters. */
export interface RegisterPeriod {
  meterId: string;
  endMs: number;
  importByBand: Readonly<Record<number, Rational>>;
  exportByBand: Readonly<Record<number, Rational>>;
  counter?: MeterCounter;
}

export type RegisterEvent =
  | {
      kind: 'COUNTER_RESET';
      atMs: number;
      meterId: string;
      counter: 'import' | 'export';
      beforeHalfNJ: bigint;
      afterHalfNJ: bigint;
    }
  | { kind: 'METER_REPLACED'; atMs: number; fromMeterId: string; toMeterId: string };

export interface Registers {
  /** Cumulative energy per register code, half-nJ, exact; never decreases. */
  values: Readonly<Record<string, Rational>>;
  meterId: string | undefined;
  lastEndMs: number | undefined;
  lastCounter: MeterCounter | undefined;
  events: readonly RegisterEvent[];
}

export const EMPTY_REGISTERS: Registers = {
  values: {},
  meterId: undefined,
  lastEndMs: undefined,
  lastCounter: undefined,
  events: [],
};

function invalid(field: string, what: string): never {
  throw new TariffError('INVALID_INPUT', `${field}: ${what}`);
}

function addBands(
  values: Record<string, Rational>,
  byBand: Readonly<Record<number, Rational>>,
  code: (digit: number) => string,
  field: string,
): void {
  for (const [key, energy] of Object.entries(byBand)) {
    const digit = Number(key);
    if (!Number.isInteger(digit) || digit < 1 || digit > 9)
      invalid(`${field}.${key}`, 'must be a band digit 1–9');
    if (energy.num < 0n) invalid(`${field}.${key}`, 'must be energy ≥ 0 (registers never go backwards)');
    values[code(digit)] = add(values[code(digit)] ?? ZERO, energy);
    values[code(0)] = add(values[code(0)] ?? ZERO, energy);
  }
}

/**
 * Adds one period to the registers. The registers advance by the period's measured energy, so they never
 * go backwards. The meter's own counters only serve to notice trouble: a counter lower than the last one
 * from the same meter is a reset (restart, rollover) and a different meter id a replacement; each is
 * recorded as an event and the registers carry on.
 */
export function foldRegisters(state: Registers, period: RegisterPeriod, field = 'period'): Registers {
  if (!Number.isSafeInteger(period.endMs)) invalid(`${field}.endMs`, 'must be whole ms since 1970');
  if (state.lastEndMs !== undefined && period.endMs <= state.lastEndMs)
    invalid(
      `${field}.endMs`,
      `must be after the previous period's end (${new Date(state.lastEndMs).toISOString()})`,
    );
  if (typeof period.meterId !== 'string' || period.meterId === '')
    invalid(`${field}.meterId`, 'must be a non-empty string');
  const counter = period.counter;
  if (counter && (counter.importHalfNJ < 0n || counter.exportHalfNJ < 0n))
    invalid(`${field}.counter`, 'must be counters ≥ 0 (half-nJ)');

  const values = { ...state.values };
  addBands(values, period.importByBand, importCode, `${field}.importByBand`);
  addBands(values, period.exportByBand, exportCode, `${field}.exportByBand`);

  const events = [...state.events];
  const replaced = state.meterId !== undefined && state.meterId !== period.meterId;
  if (replaced)
    events.push({
      kind: 'METER_REPLACED',
      atMs: period.endMs,
      fromMeterId: state.meterId!,
      toMeterId: period.meterId,
    });
  else if (counter && state.lastCounter) {
    for (const [name, before, after] of [
      ['import', state.lastCounter.importHalfNJ, counter.importHalfNJ],
      ['export', state.lastCounter.exportHalfNJ, counter.exportHalfNJ],
    ] as const) {
      if (after < before)
        events.push({
          kind: 'COUNTER_RESET',
          atMs: period.endMs,
          meterId: period.meterId,
          counter: name,
          beforeHalfNJ: before,
          afterHalfNJ: after,
        });
    }
  }
  return {
    values,
    meterId: period.meterId,
    lastEndMs: period.endMs,
    lastCounter: counter ?? (replaced ? undefined : state.lastCounter),
    events,
  };
}

/** The registers after a run of periods (a fold from empty). */
export function registersOf(
  periods: readonly RegisterPeriod[],
  from: Registers = EMPTY_REGISTERS,
): Registers {
  return periods.reduce((state, period, i) => foldRegisters(state, period, `periods[${i}]`), from);
}

/**
 * Energy since the last reading of a cumulative counter, emoncms-style: the difference, or after a reset
 * (a lower reading) the new reading itself, counted from zero.
 */
export function counterDelta(
  beforeHalfNJ: bigint,
  afterHalfNJ: bigint,
): { energyHalfNJ: bigint; reset: boolean } {
  return afterHalfNJ >= beforeHalfNJ
    ? { energyHalfNJ: afterHalfNJ - beforeHalfNJ, reset: false }
    : { energyHalfNJ: afterHalfNJ, reset: true };
}

/** A register's value in Wh, exact. */
export function registerWh(state: Registers, code: string): Rational {
  return mul(state.values[code] ?? ZERO, rational(1n, HALF_NJ_PER_WH));
}

/** Energy by band digit from priced band lines (for `importByBand` / `exportByBand`). */
export function energyByBand(
  lines: readonly { band: number; energyHalfNJ: Rational }[],
): Record<number, Rational> {
  const byBand: Record<number, Rational> = {};
  for (const line of lines) byBand[line.band] = add(byBand[line.band] ?? ZERO, line.energyHalfNJ);
  return byBand;
}
