import { describe, expect, it } from 'vitest';
import { checkStatedPricing } from './check.js';
import { exampleTariff } from './fixtures.js';
import { settleWithCarry } from './pricing.js';
import { add, rational, ZERO } from './rational.js';
import { bandsMWs, type PowerReading, priceReadings, readingsBySegment } from './readings.js';
import { parseTariffHistory } from './schedule.js';

const history = parseTariffHistory([exampleTariff()]);
/** 2026-01-14 is a Wednesday; Berlin is UTC+1 in winter, so local 17:00 is 16:00Z. */
const wed = (h: number, m = 0, s = 0) => Date.UTC(2026, 0, 14, h - 1, m, s);
/** 600 W is 600,000 mW: 10 Wh a minute. */
const W600 = 600_000;
const at = (tMs: number, powerMW = W600): PowerReading => ({ tMs, powerMW });
const r = rational;

describe('pricing readings slot by slot', () => {
  it('pays producer, operator and grid for a period crossing the 17:00 standard/high boundary', () => {
    // 600 W from 16:58 to 17:02 (readings a minute apart, the first one before the period):
    // 16:58–17:00 standard, 20 Wh: energy 20 × 0.3 = 6, operator 10 % = 0.6, grid 20 × 0.05 = 1.
    // 17:00–17:02 high,     20 Wh: energy 20 × 0.5 = 10, operator 10 % = 1,  grid 20 × 0.1 = 2.
    // producer 16, operator 1.6, grid 3 → pays 16, 1, 3 and carries 0.6 to the operator.
    const priced = priceReadings(history, {
      from: at(wed(16, 58)),
      readings: [at(wed(16, 59)), at(wed(17)), at(wed(17, 1)), at(wed(17, 2))],
      gapMs: 120_000,
    });
    expect(priced.exact).toEqual({ producer: r(16n), operator: r(8n, 5n), grid: r(3n) });
    // 20 Wh = 72,000 J = 72,000,000 mW·s in each band (1 = high, 2 = standard).
    expect(bandsMWs(priced)).toEqual({ '1': '72000000', '2': '72000000' });
    const settled = settleWithCarry(priced.exact);
    expect(settled.units).toEqual({ producer: 16n, operator: 1n, grid: 3n });
    expect(settled.carryOut.operator).toEqual(r(3n, 5n));
  });

  it('cuts a stretch that crosses the boundary at the boundary', () => {
    // One stretch 16:59:30–17:00:30 at 600 W is 10 Wh: 5 Wh standard, 5 Wh high.
    // producer 5 × 0.3 + 5 × 0.5 = 4; operator 0.4; grid 5 × 0.05 + 5 × 0.1 = 0.75.
    const priced = priceReadings(history, {
      from: at(wed(16, 59, 30)),
      readings: [at(wed(17, 0, 30))],
      gapMs: 120_000,
    });
    expect(priced.exact).toEqual({ producer: r(4n), operator: r(2n, 5n), grid: r(3n, 4n) });
    expect(bandsMWs(priced)).toEqual({ '1': '18000000', '2': '18000000' });
  });

  it('counts nothing across a gap longer than gapMs, and nothing flowing back', () => {
    const priced = priceReadings(history, {
      from: at(wed(10)),
      readings: [at(wed(10, 5)), at(wed(10, 6), -W600)],
      gapMs: 120_000,
    });
    // 10:00 → 10:05 is a gap; 10:05 → 10:06 runs from +600 W to −600 W: half a minute at a mean 300 W
    // flows the metered way, 2.5 Wh standard → producer 0.75, operator 0.075, grid 0.125.
    expect(priced.exact).toEqual({ producer: r(3n, 4n), operator: r(3n, 40n), grid: r(1n, 8n) });
  });

  it('carries each payee’s fraction so that five periods pay floor of the total', () => {
    // Each period as in the first test: operator 1.6 exact. Carries: 1.6 → 1 (0.6), 2.2 → 2 (0.2),
    // 1.8 → 1 (0.8), 2.4 → 2 (0.4), 2.0 → 2 (0): 8 = floor(5 × 1.6). Producer 5 × 16, grid 5 × 3.
    const exact = { producer: r(16n), operator: r(8n, 5n), grid: r(3n) };
    let carry = { producer: ZERO, operator: ZERO, grid: ZERO };
    const paid: bigint[] = [];
    const total = { producer: 0n, operator: 0n, grid: 0n };
    for (let i = 0; i < 5; i++) {
      const { units, carryOut } = settleWithCarry(exact, carry);
      paid.push(units.operator);
      total.producer += units.producer;
      total.operator += units.operator;
      total.grid += units.grid;
      carry = carryOut;
    }
    expect(paid).toEqual([1n, 2n, 1n, 2n, 2n]);
    expect(total).toEqual({ producer: 80n, operator: 8n, grid: 15n });
    expect(add(carry.operator, carry.grid)).toEqual(ZERO);
  });
});

describe('checking a stated payment against the readings and the tariff', () => {
  const readings = {
    from: at(wed(16, 58)),
    readings: [at(wed(16, 59)), at(wed(17)), at(wed(17, 1)), at(wed(17, 2))],
    gapMs: 120_000,
  };
  const stated = {
    tariff: { id: 'community', version: '1' },
    bands: { '1': '72000000', '2': '72000000' },
    carry: { producer: '0/1', operator: '1/2', grid: '0/1' },
    units: { producer: 16n, operator: 2n, grid: 3n },
  };

  it('passes the amounts floor(exact + carry-in) gives', () => {
    // operator: 1.6 + 0.5 = 2.1 → 2.
    expect(checkStatedPricing(history, readings, stated)).toMatchObject({ ok: true, code: 'PASS' });
  });

  it('names the share that differs', () => {
    const check = checkStatedPricing(history, readings, { ...stated, units: { ...stated.units, grid: 2n } });
    expect(check.code).toBe('SHARE_MISMATCH');
    expect(check.detail).toMatch(/^grid: stated 2, tariff gives 3 /);
  });

  it('refuses another tariff, other band energies and a negative carry', () => {
    expect(checkStatedPricing(history, readings, { ...stated, tariff: { id: 'x', version: '1' } }).code).toBe(
      'TARIFF_MISMATCH',
    );
    expect(checkStatedPricing(history, readings, { ...stated, bands: { '1': '1' } }).code).toBe(
      'BANDS_MISMATCH',
    );
    expect(
      checkStatedPricing(history, readings, { ...stated, carry: { ...stated.carry, grid: '-1/2' } }).code,
    ).toBe('CARRY_INVALID');
  });
});

describe('readings by segment (what allocation shares)', () => {
  it('cuts stretches at the span’s ends and at slot boundaries, and bridges no gap', () => {
    // 600 W is 10 Wh a minute = 72e9 half-nJ a minute (1 Wh = 7.2e12 half-nJ).
    // Span 16:59:30–17:01:30. Stretch 16:59–17:01 crosses the span start and 17:00:
    //   16:59:30–17:00 standard: 5 Wh; 17:00–17:01 high: 10 Wh (16:59–16:59:30 is outside the span).
    // Stretch 17:01–17:05 is longer than gapMs (3 min): not counted. Nothing else is in the span.
    const { segments, halfNJ } = readingsBySegment(
      history,
      { readings: [at(wed(16, 59)), at(wed(17, 1)), at(wed(17, 5))], gapMs: 180_000 },
      { startMs: wed(16, 59, 30), endMs: wed(17, 1, 30) },
    );
    expect(segments.map((s) => s.bandName)).toEqual(['standard', 'high']);
    expect(halfNJ).toEqual([5n * 7_200_000_000_000n, 10n * 7_200_000_000_000n]);
  });

  it('leaves out a stretch that ends at the span start and counts one crossing its end up to it', () => {
    // 16:58–16:59 ends where the span starts: out. 16:59–17:01 is cut at 17:00 (the span's end): 10 Wh in.
    const { halfNJ } = readingsBySegment(
      history,
      { readings: [at(wed(16, 58)), at(wed(16, 59)), at(wed(17, 1))], gapMs: 180_000 },
      { startMs: wed(16, 59), endMs: wed(17) },
    );
    expect(halfNJ).toEqual([10n * 7_200_000_000_000n]);
  });
});
