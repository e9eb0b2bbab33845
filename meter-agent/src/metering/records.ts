import type { SensorSample } from '@tanglewatt/contract';
import type { PowerPoint } from './energy.js';

/** A sample's readings, a period's quality and where its integration resumes all cross the wire too. */
export type { Gap, MeterResume, PeriodQuality, SensorSample } from '@tanglewatt/contract';

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
