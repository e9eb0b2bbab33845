import { createHash, type Hash } from 'node:crypto';
import { addParts, type EnergyParts, NO_ENERGY, type PowerPoint, splitSegment } from './energy.js';
import type { PeriodCalendar } from './periods.js';
import {
  type MeterResume,
  meteredValue,
  type PeriodQuality,
  type SampleRecord,
} from './records.js';

export interface MeterOptions {
  /** The sensor whose power is billed. */
  meteredSensor: string;
  /** Two valid samples further apart than this are a gap: nothing is integrated between them. */
  gapThresholdMs: number;
  calendar: PeriodCalendar;
}

/** Where metering starts: the open period and the integration state the previous period left. */
export interface MeterStart {
  seq: number;
  startMs: number;
  resume: MeterResume;
}

export interface PeriodTotals {
  seq: number;
  startMs: number;
  endMs: number;
  energy: EnergyParts;
  quality: PeriodQuality;
  /** sha256 of the period's journaled sample lines. */
  readingsHash: string;
  resume: MeterResume;
}

export interface MeterStep {
  /** Periods this sample completed, oldest first. */
  closed: PeriodTotals[];
  /** Energy integrated because of this sample (the segment ending at it). */
  integrated: EnergyParts;
  /** The sample was older than the last one (wall clock went back) and was not used. */
  ignored: boolean;
}

export interface OpenPeriodView {
  seq: number;
  startMs: number;
  endMs: number;
  energy: EnergyParts;
  quality: PeriodQuality;
}

const MAX_GAPS_LISTED = 20;

/** A period being counted: its quality counters as they grow, with a sum where the record has a mean. */
interface Accumulator extends Omit<PeriodQuality, 'gapMs' | 'meanPowerUW'> {
  seq: number;
  startMs: number;
  endMs: number;
  energy: EnergyParts;
  validSamples: number;
  sumPowerUW: number;
  hash: Hash;
  /** State just before the first sample at or after endMs: where a restart resumes the next period. */
  resume?: MeterResume;
}

function accumulator(seq: number, startMs: number, endMs: number): Accumulator {
  return {
    seq,
    startMs,
    endMs,
    energy: NO_ENERGY,
    samples: 0,
    missedTicks: 0,
    readErrors: 0,
    overflows: 0,
    clockSteps: 0,
    coveredMs: 0,
    gapCount: 0,
    gaps: [],
    validSamples: 0,
    sumPowerUW: 0,
    minPowerUW: null,
    maxPowerUW: null,
    hash: createHash('sha256'),
  };
}

function quality(acc: Accumulator): PeriodQuality {
  return {
    samples: acc.samples,
    missedTicks: acc.missedTicks,
    readErrors: acc.readErrors,
    overflows: acc.overflows,
    clockSteps: acc.clockSteps,
    coveredMs: acc.coveredMs,
    gapMs: acc.endMs - acc.startMs - acc.coveredMs,
    gapCount: acc.gapCount,
    gaps: [...acc.gaps],
    minPowerUW: acc.minPowerUW,
    meanPowerUW: acc.validSamples ? Math.round(acc.sumPowerUW / acc.validSamples) : null,
    maxPowerUW: acc.maxPowerUW,
  };
}

/**
 * Integrates samples into payment periods. A pure fold over the journaled samples: fed the same samples
 * from the same start it closes the same periods with the same energy, which is how a restart rebuilds
 * the open period from the journal.
 *
 * Rules: the trapezoid between consecutive valid samples no further apart than the gap threshold; a
 * segment crossing a period boundary is split at it exactly; longer gaps are recorded, not bridged.
 * A period closes once no later sample can add to it: a valid sample at or after its end arrived, or the
 * last valid sample is already too old to bridge.
 */
export class Meter {
  readonly #options: MeterOptions;
  readonly #accs: Accumulator[];
  #bridge: PowerPoint | null;
  #uncoveredSinceMs: number | null;
  #lastTMs: number | null;

  constructor(options: MeterOptions, start: MeterStart) {
    this.#options = options;
    this.#accs = [accumulator(start.seq, start.startMs, options.calendar.endAfter(start.startMs))];
    this.#bridge = start.resume.bridge;
    this.#lastTMs = start.resume.lastTMs;
    // Nothing to bridge from: the period is uncovered from its start until the first valid sample.
    this.#uncoveredSinceMs = start.resume.bridge ? null : (start.resume.uncoveredSinceMs ?? start.startMs);
  }

  get open(): OpenPeriodView {
    const acc = this.#accs[0]!;
    return {
      seq: acc.seq,
      startMs: acc.startMs,
      endMs: acc.endMs,
      energy: acc.energy,
      quality: quality(acc),
    };
  }

  get resume(): MeterResume {
    return { bridge: this.#bridge, uncoveredSinceMs: this.#uncoveredSinceMs, lastTMs: this.#lastTMs };
  }

  add(sample: SampleRecord): MeterStep {
    const t = sample.tMs;
    if (this.#lastTMs !== null && t <= this.#lastTMs) {
      this.#accs.at(-1)!.clockSteps++;
      return { closed: [], integrated: NO_ENERGY, ignored: true };
    }
    if (t < this.#accs[0]!.startMs) {
      // Before the open period (a resume point set by hand): usable as a bridge, counted nowhere.
      const value = meteredValue(sample, this.#options.meteredSensor);
      if (value.kind === 'valid') {
        this.#bridge = value.point;
        this.#uncoveredSinceMs = null;
      }
      this.#lastTMs = t;
      return { closed: [], integrated: NO_ENERGY, ignored: false };
    }
    for (const acc of this.#accs) if (acc.endMs <= t && !acc.resume) acc.resume = this.resume;
    this.#extendThrough(t);
    const acc = this.#accFor(t)!;
    acc.samples++;
    acc.missedTicks += sample.missedTicks ?? 0;
    acc.hash.update(`${JSON.stringify(sample)}\n`);

    const value = meteredValue(sample, this.#options.meteredSensor);
    let integrated = NO_ENERGY;
    let closed: PeriodTotals[] = [];
    if (value.kind === 'valid') {
      const p = value.point;
      acc.validSamples++;
      acc.sumPowerUW += p.powerUW;
      acc.minPowerUW = acc.minPowerUW === null ? p.powerUW : Math.min(acc.minPowerUW, p.powerUW);
      acc.maxPowerUW = acc.maxPowerUW === null ? p.powerUW : Math.max(acc.maxPowerUW, p.powerUW);
      if (this.#bridge && t - this.#bridge.tMs <= this.#options.gapThresholdMs) {
        integrated = this.#integrate(this.#bridge, p);
      } else {
        this.#recordGap(this.#uncoveredSinceMs ?? this.#bridge?.tMs ?? t, t);
      }
      this.#bridge = p;
      this.#uncoveredSinceMs = null;
      closed = this.#closeThrough(t);
    } else {
      if (value.kind === 'overflow') acc.overflows++;
      else acc.readErrors++;
      if (this.#bridge && t - this.#bridge.tMs > this.#options.gapThresholdMs) {
        this.#uncoveredSinceMs = this.#bridge.tMs;
        this.#bridge = null;
      }
      // While a valid sample could still bridge into it, the period stays open.
      if (!this.#bridge) closed = this.#closeThrough(t);
    }
    this.#lastTMs = t;
    return { closed, integrated, ignored: false };
  }

  #extendThrough(t: number): void {
    for (let last = this.#accs.at(-1)!; last.endMs <= t; last = this.#accs.at(-1)!) {
      this.#accs.push(accumulator(last.seq + 1, last.endMs, this.#options.calendar.endAfter(last.endMs)));
    }
  }

  #accFor(t: number): Accumulator | undefined {
    return this.#accs.find((a) => a.startMs <= t && t < a.endMs);
  }

  /** Splits segment a→b at every boundary inside it; pieces before the oldest open period are dropped. */
  #integrate(a: PowerPoint, b: PowerPoint): EnergyParts {
    const cuts = [...new Set(this.#accs.flatMap((acc) => [acc.startMs, acc.endMs]))]
      .filter((c) => c > a.tMs && c < b.tMs)
      .sort((x, y) => x - y);
    const pieces = splitSegment(a, b, cuts);
    let total = NO_ENERGY;
    const edges = [a.tMs, ...cuts, b.tMs];
    for (const [i, piece] of pieces.entries()) {
      total = addParts(total, piece);
      const owner = this.#accFor(edges[i]!);
      if (!owner) continue; // belongs to a period already closed (seen again on replay)
      owner.energy = addParts(owner.energy, piece);
      owner.coveredMs += edges[i + 1]! - edges[i]!;
    }
    return total;
  }

  #recordGap(fromMs: number, toMs: number): void {
    for (const acc of this.#accs) {
      const from = Math.max(fromMs, acc.startMs);
      const to = Math.min(toMs, acc.endMs);
      if (to <= from) continue;
      acc.gapCount++;
      if (acc.gaps.length < MAX_GAPS_LISTED) acc.gaps.push({ fromMs: from, toMs: to });
    }
  }

  #closeThrough(t: number): PeriodTotals[] {
    const closed: PeriodTotals[] = [];
    while (this.#accs[0]!.endMs <= t) {
      const acc = this.#accs.shift()!;
      if (this.#uncoveredSinceMs !== null) {
        const from = Math.max(this.#uncoveredSinceMs, acc.startMs);
        if (from < acc.endMs) {
          acc.gapCount++;
          if (acc.gaps.length < MAX_GAPS_LISTED) acc.gaps.push({ fromMs: from, toMs: acc.endMs });
        }
      }
      closed.push({
        seq: acc.seq,
        startMs: acc.startMs,
        endMs: acc.endMs,
        energy: acc.energy,
        quality: quality(acc),
        readingsHash: acc.hash.digest('hex'),
        resume: acc.resume ?? this.resume,
      });
    }
    return closed;
  }
}
