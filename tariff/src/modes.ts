import { TariffError } from './errors.js';
import {
  type BandLine,
  type EnergyInterval,
  energyBySegment,
  PAYEES,
  type Payee,
  type PricedEnergy,
  priceBand,
  pricePeriodEnergy,
  type Segment,
  segmentsOf,
  settleWithCarry,
  totals,
} from './pricing.js';
import {
  add,
  compare,
  isDecimal,
  min,
  mul,
  parseDecimal,
  type Rational,
  rational,
  sub,
  sum,
  ZERO,
} from './rational.js';
import { bandOf, HALF_NJ_PER_WH, type Tariff, type TariffHistory } from './schedule.js';

/** One member's period: energy taken from the community (import) and given to it (export). */
export interface MemberPeriod {
  startMs: number;
  endMs: number;
  import: readonly EnergyInterval[];
  export?: readonly EnergyInterval[];
}

export type Carry<K extends string> = Partial<Record<K, Rational>>;

function versionOf(history: TariffHistory, version: number): Tariff {
  return history.find((t) => t.version === version)!;
}

/** Energy per (version, band) key in a period, from its segments. */
function energyByKey(segments: readonly Segment[], energy: readonly Rational[]): Map<string, Rational> {
  const byKey = new Map<string, Rational>();
  segments.forEach((s, k) => {
    const key = `${s.version}/${s.band}`;
    byKey.set(key, add(byKey.get(key) ?? ZERO, energy[k]!));
  });
  return byKey;
}

function splitKey(key: string): { version: number; band: number } {
  const [version, band] = key.split('/').map(Number) as [number, number];
  return { version, band };
}

/** A member's import in one period, priced slot by slot. */
function priceImport(history: TariffHistory, period: MemberPeriod): PricedEnergy {
  return pricePeriodEnergy(history, {
    startMs: period.startMs,
    endMs: period.endMs,
    intervals: period.import,
  });
}

// ---------------------------------------------------------------------------------------------------------
// metered

export interface MeteredSettlement {
  priced: PricedEnergy;
  /** Whole base units per payee; the consumer pays their sum. */
  units: Record<Payee, bigint>;
  consumerUnits: bigint;
  carryOut: Record<Payee, Rational>;
}

/**
 * `metered`: each period is paid as metered. Its import is priced slot by slot and each payee gets
 * floor(exact + carry) whole units, the carry kept per payee; the consumer pays the sum of the payees' units.
 */
export function settleMetered(
  history: TariffHistory,
  periods: readonly MemberPeriod[],
  carryIn?: Carry<Payee>,
): MeteredSettlement[] {
  let carry = carryIn;
  return periods.map((period) => {
    const priced = priceImport(history, period);
    const settled = settleWithCarry(priced.exact, carry);
    carry = settled.carryOut;
    return {
      priced,
      units: settled.units,
      consumerUnits: PAYEES.reduce((total, p) => total + settled.units[p], 0n),
      carryOut: settled.carryOut,
    };
  });
}

// ---------------------------------------------------------------------------------------------------------
// net

export interface NetLine {
  tariffId: string;
  version: number;
  band: number;
  bandName: string;
  importHalfNJ: Rational;
  exportHalfNJ: Rational;
  /** import − export; only a positive net is paid. */
  netHalfNJ: Rational;
  /** The priced net import (absent when the net is ≤ 0). */
  priced: BandLine | undefined;
  /** Export beyond import in this band: not paid, returned for the caller to credit or forfeit. */
  surplusHalfNJ: Rational;
}

export interface NetSettlement {
  startMs: number;
  endMs: number;
  lines: NetLine[];
  exact: Record<Payee, Rational>;
  units: Record<Payee, bigint>;
  consumerUnits: bigint;
  carryOut: Record<Payee, Rational>;
}

/**
 * `net`: net metering over a billing cycle. Import and export are each split by (tariff version, band) as
 * in pricing; per (version, band) the net is import − export over the whole cycle. A positive net is priced
 * at that version's band price and fees; a negative net is surplus, paid nothing and reported. The cycle is
 * settled once, at its end: one set of whole units per payee, with the carry.
 */
export function settleNet(
  history: TariffHistory,
  cycle: { startMs: number; endMs: number; periods: readonly MemberPeriod[] },
  carryIn?: Carry<Payee>,
): NetSettlement {
  const imports = new Map<string, Rational>();
  const exports = new Map<string, Rational>();
  cycle.periods.forEach((period, i) => {
    if (period.startMs < cycle.startMs || period.endMs > cycle.endMs)
      throw new TariffError('INVALID_INPUT', `periods[${i}]: must lie within the billing cycle`);
    const segments = segmentsOf(history, period.startMs, period.endMs);
    for (const [into, intervals] of [
      [imports, period.import],
      [exports, period.export ?? []],
    ] as const) {
      const energy = energyBySegment(segments, intervals, period.startMs, period.endMs);
      for (const [key, e] of energyByKey(segments, energy)) into.set(key, add(into.get(key) ?? ZERO, e));
    }
  });
  const keys = [...new Set([...imports.keys(), ...exports.keys()])].sort((a, b) => {
    const x = splitKey(a);
    const y = splitKey(b);
    return x.version - y.version || x.band - y.band;
  });
  const lines = keys.map((key): NetLine => {
    const { version, band } = splitKey(key);
    const tariff = versionOf(history, version);
    const importHalfNJ = imports.get(key) ?? ZERO;
    const exportHalfNJ = exports.get(key) ?? ZERO;
    const netHalfNJ = sub(importHalfNJ, exportHalfNJ);
    const positive = compare(netHalfNJ, ZERO) > 0;
    return {
      tariffId: tariff.id,
      version,
      band,
      bandName: bandOf(tariff, band).name,
      importHalfNJ,
      exportHalfNJ,
      netHalfNJ,
      priced: positive ? priceBand(tariff, band, netHalfNJ) : undefined,
      surplusHalfNJ: positive ? ZERO : sub(exportHalfNJ, importHalfNJ),
    };
  });
  const exact = totals(lines.flatMap((l) => (l.priced ? [l.priced] : [])));
  const settled = settleWithCarry(exact, carryIn);
  return {
    startMs: cycle.startMs,
    endMs: cycle.endMs,
    lines,
    exact,
    units: settled.units,
    consumerUnits: PAYEES.reduce((total, p) => total + settled.units[p], 0n),
    carryOut: settled.carryOut,
  };
}

// ---------------------------------------------------------------------------------------------------------
// feed-in

export type FeedInPayee = Payee | 'member';

export interface FeedInLine {
  tariffId: string;
  version: number;
  band: number;
  bandName: string;
  exportHalfNJ: Rational;
  /** Export × the band's feed-in price, paid to the member. */
  amount: Rational;
}

export interface FeedInSettlement {
  priced: PricedEnergy;
  feedIn: FeedInLine[];
  exact: Record<FeedInPayee, Rational>;
  /** producer/operator/grid: what the member's import pays them; member: what its export earns. */
  units: Record<FeedInPayee, bigint>;
  carryOut: Record<FeedInPayee, Rational>;
}

/**
 * `feed-in`: import is paid as metered; export is paid to the member at its band's own feed-in price
 * (`feedInUnitsPerWh`, required for any band with export), with its own carry (payee `member`).
 */
export function settleFeedIn(
  history: TariffHistory,
  periods: readonly MemberPeriod[],
  carryIn?: Carry<FeedInPayee>,
): FeedInSettlement[] {
  let carry = carryIn;
  return periods.map((period) => {
    const priced = priceImport(history, period);
    const energy = energyBySegment(priced.segments, period.export ?? [], period.startMs, period.endMs);
    const feedIn = [...energyByKey(priced.segments, energy)].map(([key, exportHalfNJ]): FeedInLine => {
      const { version, band } = splitKey(key);
      const tariff = versionOf(history, version);
      const b = bandOf(tariff, band);
      if (b.feedInUnitsPerWh === undefined && exportHalfNJ.num > 0n)
        throw new TariffError(
          'INVALID_TARIFF',
          `bands.${b.name}.feedInUnitsPerWh: export in band ${b.name} (tariff ${tariff.id} v${version}) needs a feed-in price`,
        );
      const price = b.feedInUnitsPerWh ?? ZERO;
      return {
        tariffId: tariff.id,
        version,
        band,
        bandName: b.name,
        exportHalfNJ,
        amount: mul(mul(exportHalfNJ, rational(1n, HALF_NJ_PER_WH)), price),
      };
    });
    const exact = { ...priced.exact, member: sum(feedIn.map((l) => l.amount)) };
    const settled = settleWithCarry(exact, carry);
    carry = settled.carryOut;
    return { priced, feedIn, exact, units: settled.units, carryOut: settled.carryOut };
  });
}

// ---------------------------------------------------------------------------------------------------------
// allocation

export interface AllocationMember {
  id: string;
  /** This member's fixed share of the community's generation, in percent (exact decimal string). */
  keyPercent: string;
  consumption: readonly EnergyInterval[];
}

export interface AllocationMemberResult {
  id: string;
  /** generation × key, per (version, band), summed. */
  allocatedHalfNJ: Rational;
  /** min(allocation, consumption) per segment, summed: what the member takes from the community. */
  coveredHalfNJ: Rational;
  /** consumption − covered: left to the member's own supplier, not priced here. */
  residualHalfNJ: Rational;
  lines: BandLine[];
  exact: Record<Payee, Rational>;
  units: Record<Payee, bigint>;
  consumerUnits: bigint;
  carryOut: Record<Payee, Rational>;
}

export interface AllocationSettlement {
  members: AllocationMemberResult[];
  generationHalfNJ: Rational;
  /** Generation no member took: keys below 100 % and allocations above a member's consumption. */
  unallocatedHalfNJ: Rational;
}

/**
 * `allocation`: the community's generation in each segment of the period (one version and band) is shared
 * by fixed keys: member i is allocated generation × key_i / 100 and covers min(allocation, its consumption)
 * in that segment, priced at the band's price and fees. Keys are static: an allocation a member does not use
 * is not passed on to others, and keys may add up to less than 100 %; both remainders are `unallocated`
 * (the community's export). Whole units per member and payee, with each member's own carry.
 */
export function settleAllocation(
  history: TariffHistory,
  period: {
    startMs: number;
    endMs: number;
    generation: readonly EnergyInterval[];
    members: readonly AllocationMember[];
  },
  carryIn: Readonly<Record<string, Carry<Payee>>> = {},
): AllocationSettlement {
  const ids = new Set<string>();
  let keyTotal = ZERO;
  const keys = period.members.map((m, i) => {
    if (typeof m.id !== 'string' || m.id === '' || ids.has(m.id))
      throw new TariffError(
        'INVALID_INPUT',
        `members[${i}].id: must be a non-empty id not used by another member`,
      );
    ids.add(m.id);
    if (typeof m.keyPercent !== 'string' || !isDecimal(m.keyPercent))
      throw new TariffError(
        'INVALID_INPUT',
        `members[${i}].keyPercent: must be a percentage as a decimal string such as "12.5"`,
      );
    const key = mul(parseDecimal(m.keyPercent), rational(1n, 100n));
    keyTotal = add(keyTotal, key);
    if (compare(keyTotal, rational(1n)) > 0)
      throw new TariffError('INVALID_INPUT', `members[${i}].keyPercent: the keys add up to more than 100 %`);
    return key;
  });
  const segments = segmentsOf(history, period.startMs, period.endMs);
  const generation = energyBySegment(segments, period.generation, period.startMs, period.endMs);
  let taken = ZERO;
  const members = period.members.map((member, i): AllocationMemberResult => {
    const consumption = energyBySegment(segments, member.consumption, period.startMs, period.endMs);
    const allocated = generation.map((g) => mul(g, keys[i]!));
    const covered = allocated.map((a, k) => min(a, consumption[k]!));
    const byKey = energyByKey(segments, covered);
    const lines = [...byKey].map(([key, e]) => {
      const { version, band } = splitKey(key);
      return priceBand(versionOf(history, version), band, e);
    });
    const exact = totals(lines);
    const settled = settleWithCarry(exact, carryIn[member.id]);
    const coveredHalfNJ = sum(covered);
    taken = add(taken, coveredHalfNJ);
    return {
      id: member.id,
      allocatedHalfNJ: sum(allocated),
      coveredHalfNJ,
      residualHalfNJ: sub(sum(consumption), coveredHalfNJ),
      lines,
      exact,
      units: settled.units,
      consumerUnits: PAYEES.reduce((total, p) => total + settled.units[p], 0n),
      carryOut: settled.carryOut,
    };
  });
  const generationHalfNJ = sum(generation);
  return { members, generationHalfNJ, unallocatedHalfNJ: sub(generationHalfNJ, taken) };
}
