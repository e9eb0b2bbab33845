/**
 * Prices a closed period under the agent's tariff: from the period's readings as its channel publishes
 * them (whole mW at each sample's time), slot by slot, exactly, with a carry per payee kept in the period
 * record (so a restart picks it up from the journal like the single-price carry).
 */
import type { PeriodTariff, TariffPayee } from '@tanglewatt/contract';
import { isError } from '@tanglewatt/errors';
import {
  type BandLine,
  bandsMWs,
  importExportLines,
  PAYEES,
  type PowerReading,
  priceReadings,
  settleWithCarry,
  tariffAt,
} from '@tanglewatt/tariff';
import { channelSampleOf } from '../agent-channel.js';
import type { AgentConfig } from '../config.js';
import { type TariffConfig, tariffHistoryOf } from '../config-tariff.js';
import type { SampleRecord } from '../metering/records.js';
import type { PeriodRecord } from '../store/state.js';
import { add, formatRational, parseRational, type Rational, ZERO } from './rational.js';

export interface TariffPeriodInput {
  tariff: TariffConfig;
  policy: 'carry' | 'truncate';
  startMs: number;
  endMs: number;
  /** The metered sensor and the meter's gap threshold: the readings and stretches the meter counts. */
  sensor: string;
  gapMs: number;
  /** Journaled samples from at least `gapMs` before the period start. */
  samples: readonly SampleRecord[];
  previous: PeriodRecord | undefined;
}

const each = <T>(f: (payee: TariffPayee) => T) =>
  Object.fromEntries(PAYEES.map((p) => [p, f(p)])) as Record<TariffPayee, T>;

/** What each payee carried out of the previous period (the producer's single-price carry before a tariff). */
function carryIn(previous: PeriodRecord | undefined): Record<TariffPayee, Rational> {
  if (previous?.tariff) return each((p) => parseRational(previous.tariff!.carryOut[p]));
  const held = previous?.feeCarry;
  return {
    producer: previous ? parseRational(previous.carry.money) : ZERO,
    operator: held ? parseRational(held.operator) : ZERO,
    grid: held ? parseRational(held.grid) : ZERO,
  };
}

/**
 * The operator's and grid's carries a period priced without a tariff holds on to: those the previous
 * period carried out (under a tariff) or held. Undefined when both are zero.
 */
export function heldFeeCarry(previous: PeriodRecord | undefined): PeriodRecord['feeCarry'] {
  const held = previous?.tariff?.carryOut ?? previous?.feeCarry;
  if (!held) return undefined;
  if (parseRational(held.operator).num === 0n && parseRational(held.grid).num === 0n) return undefined;
  return { operator: held.operator, grid: held.grid };
}

export interface PeriodReadings {
  from?: PowerReading;
  readings: PowerReading[];
}

/**
 * Collects a period's published readings (valid, in rising time) and the last one before it, sample by
 * sample: the close reads them back from the journal, the live snapshot takes them as they are counted.
 */
export class ReadingsCollector {
  #from: PowerReading | undefined;
  readonly #readings: PowerReading[] = [];
  #lastMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly period: { startMs: number; endMs: number },
    readonly sensor: string,
    readonly gapMs: number,
    from?: PowerReading,
  ) {
    this.#from = from;
    if (from) this.#lastMs = from.tMs;
  }

  /** Adds a sample before the period's end (a later one is not the period's). */
  add(sample: SampleRecord): void {
    if (sample.tMs >= this.period.endMs) return;
    const published = channelSampleOf(sample, this.sensor);
    if (!published || sample.tMs <= this.#lastMs) return;
    this.#lastMs = sample.tMs;
    const reading = { tMs: sample.tMs, powerMW: published.powerMW };
    if (sample.tMs < this.period.startMs) this.#from = reading;
    else this.#readings.push(reading);
  }

  /** The last reading collected: the one before the next period. */
  get last(): PowerReading | undefined {
    return this.#readings.at(-1) ?? this.#from;
  }

  get count(): number {
    return this.#readings.length;
  }

  result(): PeriodReadings {
    const from = this.#from;
    const readings = [...this.#readings];
    return from && this.period.startMs - from.tMs <= this.gapMs ? { from, readings } : { readings };
  }
}

/** The period's published readings (valid, in rising time) and the last one before it. */
export function readingsOf(input: TariffPeriodInput): PeriodReadings {
  const collector = new ReadingsCollector(input, input.sensor, input.gapMs);
  for (const sample of input.samples) {
    if (sample.tMs >= input.endMs) break;
    collector.add(sample);
  }
  return collector.result();
}

/**
 * The period's tariff record: energy per band, exact amounts, carries and whole units per payee. Units are
 * floor(exact + carry-in); when the producer's is 0 nothing is paid and every payee carries all it is owed.
 */
export function priceTariffPeriod(input: TariffPeriodInput): PeriodTariff {
  return priceTariffReadings(input, readingsOf(input));
}

/** `priceTariffPeriod` from readings already collected (the live snapshot's). */
export function priceTariffReadings(
  input: Omit<TariffPeriodInput, 'samples' | 'sensor' | 'endMs'>,
  { from, readings }: PeriodReadings,
): PeriodTariff {
  const history = tariffHistoryOf(input.tariff);
  const priced = priceReadings(history, { ...(from ? { from } : {}), readings, gapMs: input.gapMs });
  // Export is the energy flowing the other way: the same readings negated, cut at the same slots.
  const negate = (r: PowerReading) => ({ tMs: r.tMs, powerMW: -r.powerMW });
  const exported = priceReadings(history, {
    ...(from ? { from: negate(from) } : {}),
    readings: readings.map(negate),
    gapMs: input.gapMs,
  });
  const carry = input.policy === 'carry' ? carryIn(input.previous) : each(() => ZERO);
  let { units, carryOut } = settleWithCarry(priced.exact, carry);
  if (units.producer === 0n) {
    units = each(() => 0n);
    carryOut = each((p) => add(priced.exact[p], carry[p]));
  }
  if (input.policy === 'truncate') carryOut = each(() => ZERO);
  const inForce = priced.versions.length
    ? priced.versions.join(',')
    : String(tariffAt(history, input.startMs)?.version ?? history[0]!.version);
  return {
    id: history[0]!.id,
    version: inForce,
    ...(from ? { from } : {}),
    gapMs: input.gapMs,
    bandsMWs: bandsMWs(priced),
    exact: each((p) => formatRational(priced.exact[p])),
    carryIn: each((p) => formatRational(carry[p])),
    carryOut: each((p) => formatRational(carryOut[p])),
    units: each((p) => units[p].toString()),
    energy: energyLines(priced.lines, exported.lines),
  };
}

/** Import and export per (version, band), whole half-nJ as text, in version and band order. */
function energyLines(
  imported: readonly BandLine[],
  exported: readonly BandLine[],
): NonNullable<PeriodTariff['energy']> {
  return importExportLines(imported, exported).map((e) => ({
    ...e,
    importHalfNJ: e.importHalfNJ.toString(),
    exportHalfNJ: e.exportHalfNJ.toString(),
  }));
}

/**
 * The tariff record of a closing period, its readings read back from the sample journal (so a period closed
 * while the journal is replayed after a restart is priced the same). A period no tariff version covers is
 * reported and left to the single price (undefined).
 */
export async function closingTariff(
  period: { startMs: number; endMs: number },
  k: {
    config: AgentConfig;
    samples: { readFrom(fromMs: number, nowMs: number): Promise<SampleRecord[]> };
    clock: { nowMs(): number };
    metered: string;
    gapMs: number;
    previous: PeriodRecord | undefined;
    problem: (message: string) => void;
  },
): Promise<PeriodTariff | undefined> {
  const { config, gapMs, previous } = k;
  if (!config.tariff) return undefined;
  const input = {
    tariff: config.tariff,
    policy: config.pricing,
    ...period,
    sensor: k.metered,
    gapMs,
    previous,
  };
  const journaled = await k.samples.readFrom(period.startMs - gapMs, k.clock.nowMs());
  try {
    return priceTariffPeriod({ ...input, samples: journaled });
  } catch (error) {
    if (!isError(error, 'NO_TARIFF')) throw error;
    k.problem(
      `period at ${new Date(input.startMs).toISOString()} priced at the single price: ${error.message}`,
    );
    return undefined;
  }
}
