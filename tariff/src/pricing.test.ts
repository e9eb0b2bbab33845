import { describe, expect, it } from 'vitest';
import { TariffError } from './errors.js';
import { exampleTariff, prng } from './fixtures.js';
import {
  type EnergyInterval,
  intervalsFromSamples,
  monthlyFeesDue,
  PAYEES,
  pricePeriodEnergy,
  pricingRecord,
  segmentsOf,
  settleWithCarry,
} from './pricing.js';
import { add, compare, floor, type Rational, rational, ZERO } from './rational.js';
import { HALF_NJ_PER_WH, parseTariffHistory, type TariffInput } from './schedule.js';

const WH = HALF_NJ_PER_WH;
const MIN = 60_000;
const r = rational;
const history = parseTariffHistory([exampleTariff()]);
/** 2026-01-14 is a Wednesday; Berlin is UTC+1 in winter, so local 17:00 is 16:00Z. */
const wed = (h: number, m = 0, s = 0) => Date.UTC(2026, 0, 14, h - 1, m, s);

describe('pricing a period slot by slot', () => {
  it('splits 1,800 Wh metered 16:30–17:30 at the 17:00 standard/high boundary', () => {
    // One interval, 16:30–17:30 local, 1,800 Wh: half the time in each slot, so 900 Wh standard, 900 Wh high.
    // standard: 900 Wh × 0.3 = 270 units; operator 10 % = 27; grid 900 × 0.05 = 45.
    // high:     900 Wh × 0.5 = 450 units; operator 10 % = 45; grid 900 × 0.1  = 90.
    // producer 270 + 450 = 720, operator 27 + 45 = 72, grid 45 + 90 = 135; the consumer pays 927.
    const priced = pricePeriodEnergy(history, {
      startMs: wed(16, 30),
      endMs: wed(17, 30),
      intervals: [{ startMs: wed(16, 30), endMs: wed(17, 30), energyHalfNJ: 1800n * WH }],
    });
    expect(priced.segments).toEqual([
      {
        startMs: wed(16, 30),
        endMs: wed(17),
        tariffId: 'community',
        version: 1,
        band: 2,
        bandName: 'standard',
      },
      { startMs: wed(17), endMs: wed(17, 30), tariffId: 'community', version: 1, band: 1, bandName: 'high' },
    ]);
    expect(
      priced.lines.map((l) => [l.bandName, l.energyWh, l.energyAmount, l.operatorFee, l.gridFee]),
    ).toEqual([
      ['standard', r(900n), r(270n), r(27n), r(45n)],
      ['high', r(900n), r(450n), r(45n), r(90n)],
    ]);
    expect(priced.exact).toEqual({ producer: r(720n), operator: r(72n), grid: r(135n) });
    expect(priced.consumer).toEqual(r(927n));
  });

  it('splits an interval crossing a boundary pro rata in exact fractions', () => {
    // 1 Wh over 16:59–17:02: 1 of its 3 minutes is standard, 2 are high, so 1/3 Wh and 2/3 Wh.
    // energy: 1/3 × 0.3 = 1/10 and 2/3 × 0.5 = 1/3 → producer 1/10 + 1/3 = 13/30.
    // operator 10 % of that = 13/300; grid 1/3 × 0.05 + 2/3 × 0.1 = 1/60 + 4/60 = 1/12.
    const priced = pricePeriodEnergy(history, {
      startMs: wed(16, 0),
      endMs: wed(18, 0),
      intervals: [{ startMs: wed(16, 59), endMs: wed(17, 2), energyHalfNJ: WH }],
    });
    expect(priced.lines.map((l) => [l.bandName, l.energyWh])).toEqual([
      ['standard', r(1n, 3n)],
      ['high', r(2n, 3n)],
    ]);
    expect(priced.exact).toEqual({ producer: r(13n, 30n), operator: r(13n, 300n), grid: r(1n, 12n) });
    // 13/30 + 13/300 + 1/12 = 130/300 + 13/300 + 25/300 = 168/300 = 14/25.
    expect(priced.consumer).toEqual(r(14n, 25n));
  });

  it('records the versions, bands and exact amounts as plain JSON', () => {
    // The 16:59–17:02 example above: 1/3 Wh standard, 2/3 Wh high.
    const priced = pricePeriodEnergy(history, {
      startMs: wed(16, 0),
      endMs: wed(18, 0),
      intervals: [{ startMs: wed(16, 59), endMs: wed(17, 2), energyHalfNJ: WH }],
    });
    const record = pricingRecord(priced);
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
    expect(record).toMatchObject({
      tariffId: 'community',
      versions: [1],
      segments: [
        { startMs: wed(16), endMs: wed(17), version: 1, band: 2 },
        { startMs: wed(17), endMs: wed(18), version: 1, band: 1 },
      ],
      exact: { producer: '13/30', operator: '13/300', grid: '1/12' },
    });
    expect(record.lines[0]).toEqual({
      version: 1,
      band: 2,
      bandName: 'standard',
      energyHalfNJ: '2400000000000/1',
      energyAmount: '1/10',
      operatorFee: '1/100',
      gridFee: '1/60',
    });
  });

  it('builds intervals from samples, each spanning from the previous sample', () => {
    // Samples at 16:59:30, 17:00:30, 17:01:00 with 2, 4 and 1 Wh: the middle one spans the boundary, half
    // before: standard 2 + 2 = 4 Wh, high 2 + 1 = 3 Wh.
    const intervals = intervalsFromSamples(wed(16, 59), [
      { atMs: wed(16, 59, 30), energyHalfNJ: 2n * WH },
      { atMs: wed(17, 0, 30), energyHalfNJ: 4n * WH },
      { atMs: wed(17, 1), energyHalfNJ: WH },
    ]);
    const priced = pricePeriodEnergy(history, { startMs: wed(16, 59), endMs: wed(17, 1), intervals });
    expect(priced.lines.map((l) => [l.bandName, l.energyWh])).toEqual([
      ['standard', r(4n)],
      ['high', r(3n)],
    ]);
  });

  it('carves fees out of the price when the price includes them', () => {
    // 10 Wh of high at 0.5 = 5 units, which the consumer pays in full: operator 10 % = 0.5, grid 10 × 0.1 = 1,
    // producer 5 − 0.5 − 1 = 3.5.
    const included = parseTariffHistory([{ ...exampleTariff(), priceIncludesFees: true }]);
    const priced = pricePeriodEnergy(included, {
      startMs: wed(18),
      endMs: wed(19),
      intervals: [{ startMs: wed(18), endMs: wed(19), energyHalfNJ: 10n * WH }],
    });
    expect(priced.exact).toEqual({ producer: r(7n, 2n), operator: r(1n, 2n), grid: r(1n) });
    expect(priced.consumer).toEqual(r(5n));
  });

  it('switches tariff version at the change and records both', () => {
    // v1 ends and v2 starts at Sunday 2026-02-01 00:00 local; both price the weekend low, v2 at 0.25.
    // 2 Wh evenly over Saturday 23:30 – Sunday 00:30: 1 Wh × 0.2 = 0.2 (v1) + 1 Wh × 0.25 = 0.25 (v2).
    const v2: TariffInput = {
      ...exampleTariff(),
      version: 2,
      validFrom: '2026-02-01T00:00+01:00',
      validUntil: undefined,
      bands: exampleTariff().bands.map((b) => (b.name === 'low' ? { ...b, priceUnitsPerWh: '0.25' } : b)),
    };
    const both = parseTariffHistory([exampleTariff(), v2]);
    const change = Date.UTC(2026, 0, 31, 23, 0);
    const priced = pricePeriodEnergy(both, {
      startMs: change - 30 * MIN,
      endMs: change + 30 * MIN,
      intervals: [{ startMs: change - 30 * MIN, endMs: change + 30 * MIN, energyHalfNJ: 2n * WH }],
    });
    expect(priced.segments.map((s) => [s.version, s.bandName, s.startMs, s.endMs])).toEqual([
      [1, 'low', change - 30 * MIN, change],
      [2, 'low', change, change + 30 * MIN],
    ]);
    expect(priced.lines.map((l) => [l.version, l.energyAmount])).toEqual([
      [1, r(1n, 5n)],
      [2, r(1n, 4n)],
    ]);
  });

  it('follows the wall clock across daylight-saving changes', () => {
    // A Sunday slot boundary at 02:30 in Berlin. 29 March 2026: 02:00 CET jumps to 03:00 CEST at 01:00Z,
    // skipping 02:30, so the band changes at 01:00Z. 25 October 2026: 03:00 CEST falls back to 02:00 CET at
    // 01:00Z, so 02:30 comes twice (00:30Z and 01:30Z) and the low band returns in between.
    const sunday: TariffInput = {
      ...exampleTariff(),
      validFrom: '2026-01-01T00:00+01:00',
      validUntil: '2027-01-01T00:00+01:00',
      slots: [
        ...exampleTariff().slots.slice(0, 4),
        { days: ['sat'], from: '00:00', to: '24:00', band: 'low' },
        { days: ['sun'], from: '00:00', to: '02:30', band: 'low' },
        { days: ['sun'], from: '02:30', to: '24:00', band: 'standard' },
      ],
    };
    const h = parseTariffHistory([sunday]);
    const spring = Date.UTC(2026, 2, 29, 0, 0);
    expect(
      segmentsOf(h, spring, spring + 120 * MIN).map((s) => [s.bandName, (s.endMs - spring) / MIN]),
    ).toEqual([
      ['low', 60],
      ['standard', 120],
    ]);
    const autumn = Date.UTC(2026, 9, 25, 0, 0); // 02:00 CEST
    expect(
      segmentsOf(h, autumn, autumn + 120 * MIN).map((s) => [s.bandName, (s.endMs - autumn) / MIN]),
    ).toEqual([
      ['low', 30],
      ['standard', 60],
      ['low', 90],
      ['standard', 120],
    ]);
  });

  it('refuses energy outside any tariff version', () => {
    const before = Date.UTC(2025, 11, 31, 22, 0);
    expect(() => segmentsOf(history, before, before + 2 * 3_600_000)).toThrow(
      'period: no tariff version is in force at 2025-12-31T22:00:00.000Z',
    );
  });

  it.each<[string, { startMs: number; endMs: number; intervals: EnergyInterval[] }, string]>([
    [
      'a period ending before it starts',
      { startMs: wed(10), endMs: wed(9), intervals: [] },
      'period.endMs: must be after startMs',
    ],
    [
      'a fractional ms',
      { startMs: wed(10) + 0.5, endMs: wed(11), intervals: [] },
      'period.startMs: must be whole ms',
    ],
    [
      'intervals that are not a list',
      { startMs: wed(10), endMs: wed(11), intervals: undefined as unknown as EnergyInterval[] },
      'intervals: must be a list of { startMs, endMs, energyHalfNJ }',
    ],
    [
      'an empty interval',
      {
        startMs: wed(10),
        endMs: wed(11),
        intervals: [{ startMs: wed(10), endMs: wed(10), energyHalfNJ: 1n }],
      },
      'intervals[0].endMs: must be after startMs',
    ],
    [
      'negative energy',
      {
        startMs: wed(10),
        endMs: wed(11),
        intervals: [{ startMs: wed(10), endMs: wed(11), energyHalfNJ: -1n }],
      },
      'intervals[0].energyHalfNJ: must be a bigint ≥ 0 (half-nJ)',
    ],
    [
      'energy as a number',
      {
        startMs: wed(10),
        endMs: wed(11),
        intervals: [{ startMs: wed(10), endMs: wed(11), energyHalfNJ: 5 as unknown as bigint }],
      },
      'intervals[0].energyHalfNJ: must be a bigint',
    ],
    [
      'an interval before the period',
      {
        startMs: wed(10),
        endMs: wed(11),
        intervals: [{ startMs: wed(9), endMs: wed(11), energyHalfNJ: 1n }],
      },
      'intervals[0].startMs: must not be before 2026-01-14T09:00:00.000Z',
    ],
    [
      'an interval after the period',
      {
        startMs: wed(10),
        endMs: wed(11),
        intervals: [{ startMs: wed(10), endMs: wed(12), energyHalfNJ: 1n }],
      },
      'intervals[0].endMs: must not be after the period end',
    ],
    [
      'overlapping intervals',
      {
        startMs: wed(10),
        endMs: wed(11),
        intervals: [
          { startMs: wed(10), endMs: wed(10, 30), energyHalfNJ: 1n },
          { startMs: wed(10, 29), endMs: wed(11), energyHalfNJ: 1n },
        ],
      },
      "intervals[1].startMs: must not be before 2026-01-14T09:30:00.000Z (the period start or the previous interval's end)",
    ],
  ])('refuses %s in one line naming the field', (_name, period, message) => {
    expect(() => pricePeriodEnergy(history, period)).toThrow(TariffError);
    expect(() => pricePeriodEnergy(history, period)).toThrow(message);
  });

  it('refuses samples that do not move forward', () => {
    expect(() =>
      intervalsFromSamples(wed(10), [
        { atMs: wed(10, 1), energyHalfNJ: 1n },
        { atMs: wed(10, 1), energyHalfNJ: 1n },
      ]),
    ).toThrow('samples[1].atMs: must be whole ms after the previous sample (2026-01-14T09:01:00.000Z)');
  });
});

describe('whole units with a carry per payee', () => {
  it('pays floor(exact + carry) and carries the rest, payee by payee', () => {
    // Period 1: producer 13/30 → 0 paid, carry 13/30; operator 13/300 → 0; grid 1/12 → 0.
    // Period 2 with the same exact amounts: producer 26/30 → 0, carry 26/30; grid 2/12.
    // Period 3: producer 39/30 → 1 paid, carry 9/30 = 3/10.
    const exact = { producer: r(13n, 30n), operator: r(13n, 300n), grid: r(1n, 12n) };
    let carry: Partial<Record<'producer' | 'operator' | 'grid', Rational>> = {};
    const paid: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const s = settleWithCarry(exact, carry);
      paid.push(s.units.producer);
      carry = s.carryOut;
    }
    expect(paid).toEqual([0n, 0n, 1n]);
    expect(carry).toEqual({ producer: r(3n, 10n), operator: r(39n, 300n), grid: r(1n, 4n) });
  });

  it('pays each payee floor of its exact total over any run and conserves energy (seeded random periods)', () => {
    const random = prng(20_260_114);
    const start = Date.UTC(2026, 0, 5, 0, 0); // Monday 01:00 local
    for (let run = 0; run < 20; run++) {
      let carry: Partial<Record<'producer' | 'operator' | 'grid', Rational>> = {};
      const paid = { producer: 0n, operator: 0n, grid: 0n };
      let exactTotal = { producer: ZERO, operator: ZERO, grid: ZERO };
      let t = start + Math.floor(random() * 7 * 24 * 60) * MIN;
      for (let period = 0; period < 30; period++) {
        const endMs = t + (1 + Math.floor(random() * 180)) * MIN;
        const intervals: EnergyInterval[] = [];
        for (let s = t; s < endMs; ) {
          const e = Math.min(endMs, s + 1 + Math.floor(random() * 600_000));
          intervals.push({ startMs: s, endMs: e, energyHalfNJ: BigInt(Math.floor(random() * 1e12)) * 997n });
          s = e;
        }
        const priced = pricePeriodEnergy(history, { startMs: t, endMs, intervals });
        // Splitting at boundaries neither creates nor loses energy.
        expect(priced.energyHalfNJ).toEqual(r(intervals.reduce((a, i) => a + i.energyHalfNJ, 0n)));
        const settled = settleWithCarry(priced.exact, carry);
        for (const p of PAYEES) {
          paid[p] += settled.units[p];
          expect(compare(settled.carryOut[p], ZERO)).toBeGreaterThanOrEqual(0);
          expect(compare(settled.carryOut[p], r(1n))).toBeLessThan(0);
        }
        exactTotal = {
          producer: add(exactTotal.producer, priced.exact.producer),
          operator: add(exactTotal.operator, priced.exact.operator),
          grid: add(exactTotal.grid, priced.exact.grid),
        };
        carry = settled.carryOut;
        t = endMs;
      }
      for (const p of PAYEES) expect(paid[p]).toBe(floor(exactTotal[p]));
    }
  });
});

describe('monthly fees', () => {
  it('are due at each local month start in the range, at the version in force', () => {
    // The example charges the operator 500 units a month. January 2026 in Berlin starts 2025-12-31T23:00Z
    // (the version's own start); February would start 2026-01-31T23:00Z, when the version has ended.
    const due = monthlyFeesDue(history, Date.UTC(2025, 11, 31, 23, 0), Date.UTC(2026, 1, 15));
    expect(due).toEqual([
      {
        month: '2026-01',
        dueMs: Date.UTC(2025, 11, 31, 23, 0),
        tariffId: 'community',
        version: 1,
        units: { operator: 500n, grid: 0n },
      },
    ]);
    const open = parseTariffHistory([{ ...exampleTariff(), validUntil: undefined }]);
    // Summer time: 1 April 2026 00:00 CEST is 31 March 22:00Z.
    expect(
      monthlyFeesDue(open, Date.UTC(2026, 0, 15), Date.UTC(2026, 3, 15)).map((f) => [f.month, f.dueMs]),
    ).toEqual([
      ['2026-02', Date.UTC(2026, 0, 31, 23, 0)],
      ['2026-03', Date.UTC(2026, 1, 28, 23, 0)],
      ['2026-04', Date.UTC(2026, 2, 31, 22, 0)],
    ]);
  });
});
