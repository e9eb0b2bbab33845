import { describe, expect, it } from 'vitest';
import { seededRandom } from '../sensors/prng.js';
import { segmentHalfNJ, splitSegment, trapezoidHalfNJ } from './energy.js';
import { Meter } from './meter.js';
import { fixedCalendar } from './periods.js';
import type { SampleRecord } from './records.js';

const T0 = Date.UTC(2024, 5, 1, 10);

function sample(tMs: number, powerUW: number): SampleRecord {
  return { tMs, readings: [{ sensor: 'load', busVoltageMV: 12_000, currentUA: 0, powerUW }] };
}

/** Integrates one aligned hour of samples and returns the period's delivered energy in J. */
function integrateHour(samples: SampleRecord[]): { joules: number; samples: number; gapCount: number } {
  const meter = new Meter(
    { meteredSensor: 'load', gapThresholdMs: 3000, calendar: fixedCalendar(3600) },
    { seq: 1, startMs: T0, resume: { bridge: null, uncoveredSinceMs: null, lastTMs: null } },
  );
  const closed = samples.flatMap((s) => meter.add(s).closed);
  const period = closed[0]!;
  return {
    joules: Number(period.energy.deliveredHalfNJ) / 2e9,
    samples: period.quality.samples,
    gapCount: period.quality.gapCount,
  };
}

describe('trapezoid energy', () => {
  it('is exact for constant and linear power', () => {
    expect(trapezoidHalfNJ(1_000_000n, 1_000_000n, 1000n).deliveredHalfNJ).toBe(2_000_000_000n); // 1 W × 1 s = 1 J
    expect(trapezoidHalfNJ(0n, 2_000_000n, 1000n).deliveredHalfNJ).toBe(2_000_000_000n);
  });

  it('splits a sign change into delivered and returned parts whose difference is exact', () => {
    const parts = trapezoidHalfNJ(3_000_000n, -1_000_000n, 1000n);
    // Zero at 750 ms: delivered 3 W × 0.75 s / 2 = 1.125 J, returned 1 W × 0.25 s / 2 = 0.125 J.
    expect(parts).toEqual({ deliveredHalfNJ: 2_250_000_000n, returnedHalfNJ: 250_000_000n });
    const odd = trapezoidHalfNJ(7n, -3n, 13n);
    expect(odd.deliveredHalfNJ - odd.returnedHalfNJ).toBe((7n - 3n) * 13n);
    expect(odd.returnedHalfNJ).toBeGreaterThanOrEqual(0n);
  });

  it('splits a segment at boundaries without losing or inventing a half-nJ', () => {
    const a = { tMs: 1000, powerUW: 1_234_567 };
    const b = { tMs: 3999, powerUW: -987_654 };
    const pieces = splitSegment(a, b, [1001, 2500, 3998]);
    const total = segmentHalfNJ(a, b);
    expect(pieces.reduce((s, p) => s + p.deliveredHalfNJ, 0n)).toBe(total.deliveredHalfNJ);
    expect(pieces.reduce((s, p) => s + p.returnedHalfNJ, 0n)).toBe(total.returnedHalfNJ);
    for (const p of pieces) expect(p.deliveredHalfNJ >= 0n && p.returnedHalfNJ >= 0n).toBe(true);
  });
});

describe('energy of a known trace', () => {
  // p(t) = 60 W + 40 W · sin(2π t / 700 s): ∫ over 3600 s = 216 000 J + 40·700/2π·(1 − cos(2π·3600/700)) J
  const powerW = (s: number) => 60 + 40 * Math.sin((2 * Math.PI * s) / 700);
  const analyticJ = 60 * 3600 + ((40 * 700) / (2 * Math.PI)) * (1 - Math.cos((2 * Math.PI * 3600) / 700));
  const trace = Array.from({ length: 3601 }, (_, i) => sample(T0 + i * 1000, Math.round(powerW(i) * 1e6)));

  it('is within 0.1 % of the analytic value at 1 Hz', () => {
    const result = integrateHour(trace);
    expect(Math.abs(result.joules - analyticJ) / analyticJ).toBeLessThan(0.001);
    expect(result.gapCount).toBe(0);
  });

  it('is still within 0.1 % with 5 % of the samples dropped', () => {
    const random = seededRandom(2024);
    const kept = trace.filter((_, i) => i === 0 || i === 3600 || random() >= 0.05);
    const dropped = trace.length - kept.length;
    expect(dropped / trace.length).toBeGreaterThan(0.04);
    expect(dropped / trace.length).toBeLessThan(0.06);
    const result = integrateHour(kept);
    expect(result.samples).toBe(kept.length - 1); // the last sample opens the next period
    expect(Math.abs(result.joules - analyticJ) / analyticJ).toBeLessThan(0.001);
  });

  it('does not integrate across a gap longer than the threshold, and records it', () => {
    const withHole = trace.filter((_, i) => i < 1000 || i > 1010); // 12 s without samples
    const result = integrateHour(withHole);
    expect(result.gapCount).toBe(1);
    expect(result.joules).toBeLessThan(analyticJ * 0.999);
  });

  it('integrates a solar bell over a compressed day to within 0.1 %', () => {
    // Gaussian of σ = 600 s centred in the hour, 500 W peak; tails beyond ±3σ are negligible.
    const bell = (s: number) => 500 * Math.exp(-0.5 * ((s - 1800) / 600) ** 2);
    const samples = Array.from({ length: 3601 }, (_, i) => sample(T0 + i * 1000, Math.round(bell(i) * 1e6)));
    const analytic = 500 * 600 * Math.sqrt(2 * Math.PI) * 0.9973; // erf(3/√2)
    const result = integrateHour(samples);
    expect(Math.abs(result.joules - analytic) / analytic).toBeLessThan(0.001);
  });

  it('gives a constant load exactly its energy per period even when samples straddle boundaries', () => {
    const meter = new Meter(
      { meteredSensor: 'load', gapThresholdMs: 3000, calendar: fixedCalendar(60) },
      { seq: 1, startMs: T0, resume: { bridge: null, uncoveredSinceMs: T0 - 700, lastTMs: null } },
    );
    const closed = Array.from({ length: 3 * 60 + 2 }, (_, i) =>
      sample(T0 - 700 + i * 1000, 2_000_000),
    ).flatMap((s) => meter.add(s).closed);
    expect(closed.map((p) => p.seq)).toEqual([1, 2, 3]);
    // 2 W × 60 s = 120 J = 2.4e11 half-nJ in each, the segments across boundaries split exactly.
    for (const period of closed) {
      expect(period.energy.deliveredHalfNJ).toBe(240_000_000_000n);
      expect(period.quality.coveredMs).toBe(60_000);
      expect(period.quality.gapCount).toBe(0);
    }
  });
});
