import { type PowerPoint, segmentHalfNJ } from './energy.js';
import { meteredValue, type SampleRecord } from './records.js';

/**
 * Delivered energy of the segments that end after `fromMs`, by the Meter's own rules (valid consecutive
 * samples, no further apart than the gap threshold, wall clock going forward). Rebuilds a prepaid
 * purchase's progress from the journal after a restart.
 */
export function deliveredSince(
  samples: readonly SampleRecord[],
  sensor: string,
  gapThresholdMs: number,
  fromMs: number,
): bigint {
  let total = 0n;
  let bridge: PowerPoint | null = null;
  let lastTMs: number | null = null;
  for (const sample of samples) {
    if (lastTMs !== null && sample.tMs <= lastTMs) continue;
    lastTMs = sample.tMs;
    const value = meteredValue(sample, sensor);
    if (value.kind !== 'valid') {
      if (bridge && sample.tMs - bridge.tMs > gapThresholdMs) bridge = null;
      continue;
    }
    if (bridge && value.point.tMs - bridge.tMs <= gapThresholdMs && value.point.tMs > fromMs)
      total += segmentHalfNJ(bridge, value.point).deliveredHalfNJ;
    bridge = value.point;
  }
  return total;
}
