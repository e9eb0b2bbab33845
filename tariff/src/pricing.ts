import { TariffError } from './errors.js';
import { add, floor, formatRational, mul, type Rational, rational, sub, sum, ZERO } from './rational.js';
import {
  bandOf,
  FEE_PAYEES,
  type FeePayee,
  HALF_NJ_PER_WH,
  type Tariff,
  type TariffHistory,
  tariffAt,
} from './schedule.js';
import { DAY_MS, instantAtLocal, localTime, offsetChange } from './zone.js';

/** A stretch of time priced by one tariff version and one band. */
export interface Segment {
  startMs: number;
  endMs: number;
  tariffId: string;
  version: number;
  band: number;
  bandName: string;
}

function fmt(ms: number): string {
  return new Date(ms).toISOString();
}

function checkSpan(field: string, startMs: number, endMs: number): void {
  if (!Number.isSafeInteger(startMs)) invalid(`${field}.startMs`, 'must be whole ms since 1970');
  if (!Number.isSafeInteger(endMs)) invalid(`${field}.endMs`, 'must be whole ms since 1970');
  if (endMs <= startMs) invalid(`${field}.endMs`, `must be after startMs (${fmt(startMs)})`);
}

function invalid(field: string, what: string): never {
  throw new TariffError('INVALID_INPUT', `${field}: ${what}`);
}

/** The slot of `tariff` at instant `ms` and the instant the wall clock leaves it (ignoring offset changes). */
function slotAt(tariff: Tariff, ms: number): { digit: number; wallEndMs: number } {
  const local = localTime(tariff.timeZone, ms);
  const slot = tariff.days[local.weekday]!.find((s) => s.toMinute > local.minuteOfDay)!;
  const intoDayMs = local.minuteOfDay * 60_000 + local.subMinuteMs;
  return { digit: slot.digit, wallEndMs: ms + (slot.toMinute * 60_000 - intoDayMs) };
}

/**
 * Cuts [startMs, endMs) at every slot boundary and every tariff change. Slot boundaries are wall-clock
 * times in the tariff's zone; across a daylight-saving change the wall clock jumps, so the slot is looked
 * up again at the instant of the change. Adjacent pieces with the same version and band are merged.
 */
export function segmentsOf(history: TariffHistory, startMs: number, endMs: number): Segment[] {
  checkSpan('period', startMs, endMs);
  const segments: Segment[] = [];
  let t = startMs;
  while (t < endMs) {
    const tariff = tariffAt(history, t);
    if (!tariff) throw new TariffError('NO_TARIFF', `period: no tariff version is in force at ${fmt(t)}`);
    const slot = slotAt(tariff, t);
    let end = Math.min(slot.wallEndMs, endMs, tariff.validUntilMs ?? Number.POSITIVE_INFINITY);
    // A slot lasts at most a day, so at most one offset change can fall inside it.
    end = Math.min(end, offsetChange(tariff.timeZone, t, Math.min(end, t + DAY_MS)) ?? end);
    const band = bandOf(tariff, slot.digit);
    const last = segments.at(-1);
    if (last && last.endMs === t && last.version === tariff.version && last.band === band.digit)
      last.endMs = end;
    else
      segments.push({
        startMs: t,
        endMs: end,
        tariffId: tariff.id,
        version: tariff.version,
        band: band.digit,
        bandName: band.name,
      });
    t = end;
  }
  return segments;
}

/** Energy measured over [startMs, endMs), in half-nJ (the agent's trapezoid unit). */
export interface EnergyInterval {
  startMs: number;
  endMs: number;
  energyHalfNJ: bigint;
}

/** A sample: the energy measured since the previous sample (or the period start), stamped at its end. */
export interface EnergySample {
  atMs: number;
  energyHalfNJ: bigint;
}

/** Samples → intervals: each sample's energy spans from the previous sample's time (the first: `startMs`). */
export function intervalsFromSamples(startMs: number, samples: readonly EnergySample[]): EnergyInterval[] {
  let previous = startMs;
  return samples.map((sample, i) => {
    if (!Number.isSafeInteger(sample.atMs) || sample.atMs <= previous)
      invalid(`samples[${i}].atMs`, `must be whole ms after the previous sample (${fmt(previous)})`);
    const interval = { startMs: previous, endMs: sample.atMs, energyHalfNJ: sample.energyHalfNJ };
    previous = sample.atMs;
    return interval;
  });
}

/**
 * Energy per segment. An interval that crosses a boundary is split pro rata to time, exactly: the share of
 * [s, e) falling in [a, b) is energy × (min(e, b) − max(s, a)) / (e − s), a rational in half-nJ.
 */
export function energyBySegment(
  segments: readonly Segment[],
  intervals: readonly EnergyInterval[],
  periodStartMs: number,
  periodEndMs: number,
): Rational[] {
  const energy = segments.map(() => ZERO);
  let first = 0;
  let previousEnd = periodStartMs;
  intervals.forEach((interval, i) => {
    const field = `intervals[${i}]`;
    checkSpan(field, interval.startMs, interval.endMs);
    if (typeof interval.energyHalfNJ !== 'bigint' || interval.energyHalfNJ < 0n)
      invalid(`${field}.energyHalfNJ`, 'must be a bigint ≥ 0 (half-nJ)');
    if (interval.startMs < previousEnd)
      invalid(
        `${field}.startMs`,
        `must not be before ${fmt(previousEnd)} (the period start or the previous interval's end)`,
      );
    if (interval.endMs > periodEndMs)
      invalid(`${field}.endMs`, `must not be after the period end (${fmt(periodEndMs)})`);
    previousEnd = interval.endMs;
    const span = BigInt(interval.endMs - interval.startMs);
    while (segments[first]!.endMs <= interval.startMs) first++;
    for (let k = first; k < segments.length && segments[k]!.startMs < interval.endMs; k++) {
      const s = segments[k]!;
      const overlap = Math.min(s.endMs, interval.endMs) - Math.max(s.startMs, interval.startMs);
      energy[k] = add(energy[k]!, rational(interval.energyHalfNJ * BigInt(overlap), span));
    }
  });
  return energy;
}

export type Payee = 'producer' | 'operator' | 'grid';
export const PAYEES: readonly Payee[] = ['producer', 'operator', 'grid'];

/** What one (version, band) of a period comes to, exactly. */
export interface BandLine {
  tariffId: string;
  version: number;
  band: number;
  bandName: string;
  energyHalfNJ: Rational;
  energyWh: Rational;
  /** Energy × band price. */
  energyAmount: Rational;
  operatorFee: Rational;
  gridFee: Rational;
  /** What each payee receives and what the consumer pays (producer + operator + grid). */
  payees: Record<Payee, Rational>;
  consumer: Rational;
}

/** Prices energy already split by (version, band). */
export function priceBand(tariff: Tariff, digit: number, energyHalfNJ: Rational): BandLine {
  const band = bandOf(tariff, digit);
  const energyWh = mul(energyHalfNJ, rational(1n, HALF_NJ_PER_WH));
  const energyAmount = mul(energyHalfNJ, band.priceUnitsPerHalfNJ);
  const fee = (payee: 'operator' | 'grid') =>
    add(mul(energyWh, band.fees[payee].unitsPerWh), mul(energyAmount, band.fees[payee].shareOfEnergy));
  const operatorFee = fee('operator');
  const gridFee = fee('grid');
  const producer = tariff.priceIncludesFees ? sub(sub(energyAmount, operatorFee), gridFee) : energyAmount;
  const payees = { producer, operator: operatorFee, grid: gridFee };
  return {
    tariffId: tariff.id,
    version: tariff.version,
    band: digit,
    bandName: band.name,
    energyHalfNJ,
    energyWh,
    energyAmount,
    operatorFee,
    gridFee,
    payees,
    consumer: sum(PAYEES.map((p) => payees[p])),
  };
}

export interface PricedEnergy {
  startMs: number;
  endMs: number;
  /** Which tariff version and band priced each stretch of the period. */
  segments: Segment[];
  /** One line per (version, band) that priced any time of the period, in order of first use. */
  lines: BandLine[];
  energyHalfNJ: Rational;
  /** Exact totals per payee and for the consumer. */
  exact: Record<Payee, Rational>;
  consumer: Rational;
}

function versionOf(history: TariffHistory, version: number): Tariff {
  return history.find((t) => t.version === version)!;
}

/** Prices a period's measured energy slot by slot (see `segmentsOf` and `energyBySegment`). */
export function pricePeriodEnergy(
  history: TariffHistory,
  period: { startMs: number; endMs: number; intervals: readonly EnergyInterval[] },
): PricedEnergy {
  if (!Array.isArray(period.intervals))
    invalid('intervals', 'must be a list of { startMs, endMs, energyHalfNJ }');
  const segments = segmentsOf(history, period.startMs, period.endMs);
  const energy = energyBySegment(segments, period.intervals, period.startMs, period.endMs);
  const byKey = new Map<string, { version: number; band: number; energy: Rational }>();
  segments.forEach((s, k) => {
    const key = `${s.version}/${s.band}`;
    const entry = byKey.get(key) ?? { version: s.version, band: s.band, energy: ZERO };
    entry.energy = add(entry.energy, energy[k]!);
    byKey.set(key, entry);
  });
  const lines = [...byKey.values()].map((e) => priceBand(versionOf(history, e.version), e.band, e.energy));
  return {
    startMs: period.startMs,
    endMs: period.endMs,
    segments,
    lines,
    energyHalfNJ: sum(lines.map((l) => l.energyHalfNJ)),
    exact: totals(lines),
    consumer: sum(lines.map((l) => l.consumer)),
  };
}

export function totals(lines: readonly { payees: Record<Payee, Rational> }[]): Record<Payee, Rational> {
  return {
    producer: sum(lines.map((l) => l.payees.producer)),
    operator: sum(lines.map((l) => l.payees.operator)),
    grid: sum(lines.map((l) => l.payees.grid)),
  };
}

/**
 * Whole base units now, the fraction carried, per payee: units = floor(exact + carryIn) and
 * carryOut = exact + carryIn − units, in [0, 1). Over any run starting from carry 0 the units paid to a
 * payee add up to floor(sum of its exact amounts), to the unit.
 */
export function settleWithCarry<K extends string>(
  exact: Readonly<Record<K, Rational>>,
  carryIn?: Readonly<Partial<Record<K, Rational>>>,
): { units: Record<K, bigint>; carryOut: Record<K, Rational> } {
  const units = {} as Record<K, bigint>;
  const carryOut = {} as Record<K, Rational>;
  for (const key of Object.keys(exact) as K[]) {
    const owed = add(exact[key], carryIn?.[key] ?? ZERO);
    units[key] = floor(owed);
    carryOut[key] = sub(owed, rational(units[key]));
  }
  return { units, carryOut };
}

export interface MonthlyFee {
  /** The local month, "YYYY-MM". */
  month: string;
  /** The first instant of the month in the zone of the version in force then. */
  dueMs: number;
  tariffId: string;
  version: number;
  units: Record<FeePayee, bigint>;
}

/**
 * The fixed monthly fees due in [fromMs, toMs): one per fee payee for each local month that starts in the
 * range (1st, 00:00 in the tariff's zone), at the version in force then; never prorated.
 */
export function monthlyFeesDue(history: TariffHistory, fromMs: number, toMs: number): MonthlyFee[] {
  checkSpan('cycle', fromMs, toMs);
  const due: MonthlyFee[] = [];
  for (const tariff of history) {
    const lo = Math.max(fromMs, tariff.validFromMs);
    const hi = Math.min(toMs, tariff.validUntilMs ?? Number.POSITIVE_INFINITY);
    if (lo >= hi) continue;
    const first = new Date(localTime(tariff.timeZone, lo).localMs);
    let year = first.getUTCFullYear();
    let month = first.getUTCMonth();
    for (;;) {
      const dueMs = instantAtLocal(tariff.timeZone, Date.UTC(year, month, 1));
      if (dueMs >= hi) break;
      if (dueMs >= lo && FEE_PAYEES.some((p) => tariff.monthlyUnits[p] > 0n))
        due.push({
          month: `${year}-${String(month + 1).padStart(2, '0')}`,
          dueMs,
          tariffId: tariff.id,
          version: tariff.version,
          units: { ...tariff.monthlyUnits },
        });
      month++;
      if (month === 12) [year, month] = [year + 1, 0];
    }
  }
  return due;
}

/** A priced period as plain JSON (rationals as "num/den"), to keep with the period and its payment. */
export interface PricingRecord {
  tariffId: string;
  versions: number[];
  segments: { startMs: number; endMs: number; version: number; band: number }[];
  lines: {
    version: number;
    band: number;
    bandName: string;
    energyHalfNJ: string;
    energyAmount: string;
    operatorFee: string;
    gridFee: string;
  }[];
  exact: Record<Payee, string>;
}

export function pricingRecord(priced: PricedEnergy): PricingRecord {
  return {
    tariffId: priced.segments[0]!.tariffId,
    versions: [...new Set(priced.segments.map((s) => s.version))],
    segments: priced.segments.map((s) => ({
      startMs: s.startMs,
      endMs: s.endMs,
      version: s.version,
      band: s.band,
    })),
    lines: priced.lines.map((l) => ({
      version: l.version,
      band: l.band,
      bandName: l.bandName,
      energyHalfNJ: formatRational(l.energyHalfNJ),
      energyAmount: formatRational(l.energyAmount),
      operatorFee: formatRational(l.operatorFee),
      gridFee: formatRational(l.gridFee),
    })),
    exact: {
      producer: formatRational(priced.exact.producer),
      operator: formatRational(priced.exact.operator),
      grid: formatRational(priced.exact.grid),
    },
  };
}
