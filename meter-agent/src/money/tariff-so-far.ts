/**
 * What the tariff gives the open period so far, for the live snapshot: its readings are collected as the
 * samples are counted and priced by the same function as the close, so at the close the two agree.
 */
import type { PeriodTariff, TariffNow } from '@tanglewatt/contract';
import { isError } from '@tanglewatt/errors';
import { segmentsOf, tariffAt } from '@tanglewatt/tariff';
import { type TariffConfig, tariffHistoryOf } from '../config-tariff.js';
import type { SampleRecord } from '../metering/records.js';
import type { PeriodRecord } from '../store/state.js';
import { priceTariffReadings, ReadingsCollector } from './tariff-period.js';

type Span = { startMs: number; endMs: number };

export class TariffSoFar {
  #collector: ReadingsCollector | undefined;
  #cached: { key: string; priced: PeriodTariff | undefined } | undefined;

  constructor(
    private readonly tariff: TariffConfig,
    private readonly policy: 'carry' | 'truncate',
    private readonly sensor: string,
    private readonly gapMs: number,
  ) {}

  /** Starts on the open period from the journal (its samples and those up to `gapMs` before it). */
  seed(open: Span, journaled: readonly SampleRecord[]): void {
    this.#collector = new ReadingsCollector(open, this.sensor, this.gapMs);
    for (const sample of journaled) this.#collector.add(sample);
  }

  /** A counted sample; `open` is the period open once it is counted (a new one after a close). */
  add(sample: SampleRecord, open: Span): void {
    const current = this.#collector;
    if (!current || current.period.startMs !== open.startMs)
      this.#collector = new ReadingsCollector(open, this.sensor, this.gapMs, current?.last);
    this.#collector!.add(sample);
  }

  /**
   * The open period's tariff record if it closed now after `previous` (units with the carry-in, as it
   * would pay); undefined before seeding, or when no tariff version covers it (the close uses the single
   * price then).
   */
  price(previous: PeriodRecord | undefined): PeriodTariff | undefined {
    const collector = this.#collector;
    if (!collector) return undefined;
    const key = `${collector.period.startMs}/${collector.count}/${previous?.seq}`;
    if (this.#cached?.key === key) return this.#cached.priced;
    let priced: PeriodTariff | undefined;
    try {
      priced = priceTariffReadings(
        {
          tariff: this.tariff,
          policy: this.policy,
          startMs: collector.period.startMs,
          gapMs: this.gapMs,
          previous,
        },
        collector.result(),
      );
    } catch (error) {
      if (!isError(error, 'NO_TARIFF')) throw error;
      priced = undefined;
    }
    this.#cached = { key, priced };
    return priced;
  }

  /**
   * The version and band in force at `nowMs` and until when, at most `periodEndMs`, with the energy per band
   * of `priced` (the open period so far); undefined when no version is in force.
   */
  bandAt(nowMs: number, periodEndMs: number, priced: PeriodTariff | undefined): TariffNow | undefined {
    const history = tariffHistoryOf(this.tariff);
    const tariff = tariffAt(history, nowMs);
    if (!tariff) return undefined;
    // Only the version in force now is looked at, so no gap after it can fail the look-up.
    const endMs = Math.min(Math.max(periodEndMs, nowMs + 1), tariff.validUntilMs ?? Number.POSITIVE_INFINITY);
    const [segment] = segmentsOf([tariff], nowMs, endMs);
    if (!segment) return undefined;
    return {
      id: segment.tariffId,
      version: segment.version,
      band: segment.band,
      bandName: segment.bandName,
      untilMs: segment.endMs,
      bandsMWs: priced?.bandsMWs ?? {},
    };
  }
}
