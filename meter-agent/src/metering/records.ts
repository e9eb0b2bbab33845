import type { PowerPoint } from './energy.js';

/** One sensor's part of a sample: a reading, or why there is none. */
export type SensorSample =
  | { sensor: string; busVoltageMV: number; currentUA: number; powerUW: number; overflow?: true }
  | { sensor: string; error: string };

/** One tick of the sampler, as journaled. Integers only, so the journal line is canonical. */
export interface SampleRecord {
  /** Wall-clock time of the tick, ms since the epoch. */
  tMs: number;
  /** Ticks skipped (late timer, blocked loop) just before this one. */
  missedTicks?: number;
  readings: SensorSample[];
}

/** What integration needs from a sample: the metered sensor's power, or why it cannot be used. */
export type MeteredValue =
  | { kind: 'valid'; point: PowerPoint }
  | { kind: 'read-error' | 'overflow' | 'absent'; tMs: number };

export function meteredValue(sample: SampleRecord, sensor: string): MeteredValue {
  const reading = sample.readings.find((r) => r.sensor === sensor);
  if (!reading) return { kind: 'absent', tMs: sample.tMs };
  if ('error' in reading) return { kind: 'read-error', tMs: sample.tMs };
  // An overflowed reading is saturated: using it would under-count by an unknown amount.
  if (reading.overflow) return { kind: 'overflow', tMs: sample.tMs };
  return { kind: 'valid', point: { tMs: sample.tMs, powerUW: reading.powerUW } };
}

export interface Gap {
  fromMs: number;
  toMs: number;
}

/** How well a period was observed. */
export interface PeriodQuality {
  /** Samples taken (valid or not). */
  samples: number;
  /** Ticks skipped because the sampler ran late; never made up by a burst. */
  missedTicks: number;
  readErrors: number;
  overflows: number;
  /** Samples ignored because the wall clock went backwards. */
  clockSteps: number;
  /** Time covered by integration; the rest of the period is gap. */
  coveredMs: number;
  gapMs: number;
  gapCount: number;
  /** The first gaps (at most 20), clipped to the period. */
  gaps: Gap[];
  minPowerUW: number | null;
  meanPowerUW: number | null;
  maxPowerUW: number | null;
}

/** Integration state at a period's end: where the next period's integration continues from. */
export interface MeterResume {
  /** Last valid point before the end that a later sample may still integrate from. */
  bridge: PowerPoint | null;
  /** Set while integration is interrupted: the time the uncovered stretch began. */
  uncoveredSinceMs: number | null;
  /** Time of the last sample taken before the end (to detect a clock going backwards). */
  lastTMs: number | null;
}
