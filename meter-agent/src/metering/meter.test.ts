import { describe, expect, it } from 'vitest';
import { seededRandom } from '../sensors/prng.js';
import { Meter, type MeterOptions, type MeterStart, type PeriodTotals } from './meter.js';
import { fixedCalendar } from './periods.js';
import type { SampleRecord } from './records.js';

const T0 = Date.UTC(2024, 5, 1, 10);
const options: MeterOptions = { meteredSensor: 'load', gapThresholdMs: 3000, calendar: fixedCalendar(10) };
const fresh: MeterStart = {
  seq: 1,
  startMs: T0,
  resume: { bridge: null, uncoveredSinceMs: null, lastTMs: null },
};

function ok(tMs: number, powerUW: number): SampleRecord {
  return { tMs, readings: [{ sensor: 'load', busVoltageMV: 5000, currentUA: powerUW / 5, powerUW }] };
}
function failed(tMs: number): SampleRecord {
  return { tMs, readings: [{ sensor: 'load', error: 'EIO' }] };
}

function run(samples: SampleRecord[], start = fresh): PeriodTotals[] {
  const meter = new Meter(options, start);
  return samples.flatMap((s) => meter.add(s).closed);
}

describe('Meter', () => {
  it('bridges a read error when the next valid sample is within the gap threshold', () => {
    const samples = [
      ok(T0, 1_000_000),
      failed(T0 + 1000),
      ok(T0 + 2000, 1_000_000),
      ok(T0 + 10_000, 1_000_000),
    ];
    const [period] = run(samples);
    expect(period!.quality.readErrors).toBe(1);
    expect(period!.quality.gapCount).toBe(1); // 2 s → 10 s is longer than 3 s
    expect(period!.energy.deliveredHalfNJ).toBe(2n * 1_000_000n * 2000n);
  });

  it('keeps a period open while a read error after its end may still be bridged', () => {
    const meter = new Meter(options, fresh);
    expect(meter.add(ok(T0 + 9_500, 1_000_000)).closed).toEqual([]);
    expect(meter.add(failed(T0 + 10_500)).closed).toEqual([]);
    const closed = meter.add(ok(T0 + 11_500, 1_000_000)).closed;
    expect(closed.map((p) => p.seq)).toEqual([1]);
    // 9.5 s → 10 s of 1 W belongs to period 1.
    expect(closed[0]!.energy.deliveredHalfNJ).toBe(2n * 1_000_000n * 500n);
  });

  it('closes a period once the last valid sample is too old to bridge', () => {
    const meter = new Meter(options, fresh);
    meter.add(ok(T0 + 9_000, 1_000_000));
    expect(meter.add(failed(T0 + 11_000)).closed).toEqual([]);
    const closed = meter.add(failed(T0 + 12_500)).closed;
    expect(closed.map((p) => p.seq)).toEqual([1]);
    expect(closed[0]!.quality.gaps.at(-1)).toEqual({ fromMs: T0 + 9_000, toMs: T0 + 10_000 });
  });

  it('closes every period that passed while nothing was sampled, contiguous, with gaps', () => {
    const closed = run([ok(T0 + 1000, 500_000), ok(T0 + 2000, 500_000), ok(T0 + 45_000, 500_000)]);
    expect(closed.map((p) => [p.seq, p.startMs - T0, p.endMs - T0])).toEqual([
      [1, 0, 10_000],
      [2, 10_000, 20_000],
      [3, 20_000, 30_000],
      [4, 30_000, 40_000],
    ]);
    expect(closed[1]!.quality).toMatchObject({ samples: 0, coveredMs: 0, gapMs: 10_000, gapCount: 1 });
    expect(closed[1]!.energy.deliveredHalfNJ).toBe(0n);
  });

  it('ignores a sample whose wall time went backwards, and counts it', () => {
    const closed = run([ok(T0 + 1000, 1), ok(T0 + 2000, 1), ok(T0 + 1500, 1), ok(T0 + 10_000, 1)]);
    expect(closed[0]!.quality.clockSteps).toBe(1);
  });

  it('records quality: min / mean / max power, overflows, missed ticks', () => {
    const overflow: SampleRecord = {
      tMs: T0 + 3000,
      readings: [{ sensor: 'load', busVoltageMV: 5000, currentUA: 0, powerUW: 9, overflow: true }],
    };
    const closed = run([
      ok(T0 + 1000, 100),
      { ...ok(T0 + 2000, 300), missedTicks: 2 },
      overflow,
      ok(T0 + 4000, -200),
      ok(T0 + 10_000, 0),
    ]);
    expect(closed[0]!.quality).toMatchObject({
      samples: 4,
      overflows: 1,
      missedTicks: 2,
      minPowerUW: -200,
      maxPowerUW: 300,
      meanPowerUW: 67,
    });
    expect(closed[0]!.energy.returnedHalfNJ).toBeGreaterThan(0n);
  });

  it('rebuilds exactly the same periods when replayed from any period record (restart)', () => {
    const random = seededRandom(7);
    const samples: SampleRecord[] = [];
    let t = T0 + 137;
    for (let i = 0; i < 400; i++) {
      t += 700 + Math.floor(random() * 900) + (random() < 0.02 ? 5000 : 0);
      samples.push(random() < 0.05 ? failed(t) : ok(t, Math.floor(random() * 3_000_000) - 500_000));
    }
    const all = run(samples);
    expect(all.length).toBeGreaterThan(20);
    for (const from of [all[3]!, all[10]!, all[17]!]) {
      const next = { seq: from.seq + 1, startMs: from.endMs, resume: from.resume };
      const replayed = run(
        samples.filter((s) => s.tMs >= from.endMs),
        next,
      );
      expect(replayed).toEqual(all.filter((p) => p.seq > from.seq));
    }
  });
});
