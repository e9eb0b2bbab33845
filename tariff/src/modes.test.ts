import { describe, expect, it } from 'vitest';
import { exampleTariff } from './fixtures.js';
import { type MemberPeriod, settleAllocation, settleFeedIn, settleMetered, settleNet } from './modes.js';
import { type Rational, rational, sum } from './rational.js';
import { HALF_NJ_PER_WH, parseTariffHistory } from './schedule.js';

const WH = HALF_NJ_PER_WH;
const r = rational;
const history = parseTariffHistory([exampleTariff()]);
/** Wednesday 14 January 2026 and Saturday 17 January, local Berlin time (UTC+1). */
const wed = (h: number, m = 0) => Date.UTC(2026, 0, 14, h - 1, m);
const sat = (h: number, m = 0) => Date.UTC(2026, 0, 17, h - 1, m);
const even = (startMs: number, endMs: number, wh: bigint) => [{ startMs, endMs, energyHalfNJ: wh * WH }];
const hour = (at: (h: number) => number, h: number, importWh: bigint, exportWh = 0n): MemberPeriod => ({
  startMs: at(h),
  endMs: at(h + 1),
  import: importWh ? even(at(h), at(h + 1), importWh) : [],
  export: exportWh ? even(at(h), at(h + 1), exportWh) : [],
});
const whOf = (halfNJ: Rational) => r(halfNJ.num, halfNJ.den * WH);

describe('metered', () => {
  it('pays each period as metered, carrying fractions per payee', () => {
    // 16:00–17:00 standard, 10 Wh: producer 10 × 0.3 = 3, operator 0.3, grid 10 × 0.05 = 0.5 → 3, 0, 0.
    // 17:00–18:00 high, 7 Wh: producer 3.5, operator 0.35, grid 0.7.
    //   producer floor(3.5) = 3 (carry 0.5); operator floor(0.3 + 0.35) = 0 (carry 0.65);
    //   grid floor(0.5 + 0.7) = 1 (carry 0.2). The consumer pays 3, then 4.
    const [first, second] = settleMetered(history, [hour(wed, 16, 10n), hour(wed, 17, 7n)]);
    expect(first!.units).toEqual({ producer: 3n, operator: 0n, grid: 0n });
    expect(first!.consumerUnits).toBe(3n);
    expect(second!.units).toEqual({ producer: 3n, operator: 0n, grid: 1n });
    expect(second!.consumerUnits).toBe(4n);
    expect(second!.carryOut).toEqual({ producer: r(1n, 2n), operator: r(13n, 20n), grid: r(1n, 5n) });
  });
});

describe('net', () => {
  it('nets import against export per band over the cycle and settles once', () => {
    // low  03:00: import 1 Wh, export 5 Wh → net −4 Wh: surplus 4 Wh, paid nothing.
    // standard 10:00: import 10, export 4 → net 6 Wh: producer 6 × 0.3 = 1.8, operator 0.18, grid 6 × 0.05 = 0.3.
    // high 18:00: import 2 → producer 2 × 0.5 = 1, operator 0.1, grid 2 × 0.1 = 0.2.
    // Cycle: producer 2.8 → 2, operator 0.28 → 0, grid 0.5 → 0; the consumer pays 2 units.
    const net = settleNet(history, {
      startMs: wed(0),
      endMs: wed(24),
      periods: [hour(wed, 3, 1n, 5n), hour(wed, 10, 10n, 4n), hour(wed, 18, 2n)],
    });
    expect(net.lines.map((l) => [l.bandName, whOf(l.netHalfNJ), whOf(l.surplusHalfNJ)])).toEqual([
      ['high', r(2n), r(0n)],
      ['standard', r(6n), r(0n)],
      ['low', r(-4n), r(4n)],
    ]);
    expect(net.exact).toEqual({ producer: r(14n, 5n), operator: r(7n, 25n), grid: r(1n, 2n) });
    expect(net.units).toEqual({ producer: 2n, operator: 0n, grid: 0n });
    expect(net.consumerUnits).toBe(2n);
    expect(net.carryOut).toEqual({ producer: r(4n, 5n), operator: r(7n, 25n), grid: r(1n, 2n) });
  });

  it('refuses a period outside the cycle', () => {
    expect(() =>
      settleNet(history, { startMs: wed(0), endMs: wed(12), periods: [hour(wed, 12, 1n)] }),
    ).toThrow('periods[0]: must lie within the billing cycle');
  });
});

describe('feed-in', () => {
  it('pays export at the band’s feed-in price with its own carry', () => {
    // Saturday is all low (0.2, feed-in 0.08). Each hour: import 3 Wh, export 10 Wh.
    // import: producer 3 × 0.2 = 0.6, operator 0.06, grid 3 × 0.02 = 0.06; export: member 10 × 0.08 = 0.8.
    // Hour 1: all 0 units. Hour 2: producer floor(1.2) = 1, operator 0.12 → 0, grid 0.12 → 0,
    // member floor(1.6) = 1 (carry 0.6).
    const [first, second] = settleFeedIn(history, [hour(sat, 12, 3n, 10n), hour(sat, 13, 3n, 10n)]);
    expect(first!.exact).toEqual({
      producer: r(3n, 5n),
      operator: r(3n, 50n),
      grid: r(3n, 50n),
      member: r(4n, 5n),
    });
    expect(first!.units).toEqual({ producer: 0n, operator: 0n, grid: 0n, member: 0n });
    expect(second!.units).toEqual({ producer: 1n, operator: 0n, grid: 0n, member: 1n });
    expect(second!.carryOut.member).toEqual(r(3n, 5n));
  });

  it('refuses export in a band without a feed-in price', () => {
    expect(() => settleFeedIn(history, [hour(wed, 10, 0n, 1n)])).toThrow(
      'bands.standard.feedInUnitsPerWh: export in band standard (tariff community v1) needs a feed-in price',
    );
  });
});

describe('allocation', () => {
  it('shares generation by static keys, covering at most each member’s consumption', () => {
    // Saturday 10:00–11:00, low (0.2; operator 10 %; grid 0.02/Wh). Generation 100 Wh.
    // A 50 %: allocated 50, consumes 30 → covers 30. B 30 %: allocated 30, consumes 40 → covers 30, 10 left
    // to its supplier. C 10 %: allocated 10, consumes 5 → covers 5.
    // Unallocated: 100 − (30 + 30 + 5) = 35 Wh (10 beyond the keys' 90 %, 20 unused by A, 5 by C).
    // A and B pay: 30 × 0.2 = 6 producer, operator 0.6, grid 0.6 → 6, 0, 0. C: 1 producer, 0.1, 0.1 → 1, 0, 0.
    const result = settleAllocation(history, {
      startMs: sat(10),
      endMs: sat(11),
      generation: even(sat(10), sat(11), 100n),
      members: [
        { id: 'A', keyPercent: '50', consumption: even(sat(10), sat(11), 30n) },
        { id: 'B', keyPercent: '30', consumption: even(sat(10), sat(11), 40n) },
        { id: 'C', keyPercent: '10', consumption: even(sat(10), sat(11), 5n) },
      ],
    });
    expect(
      result.members.map((m) => [
        m.id,
        whOf(m.allocatedHalfNJ),
        whOf(m.coveredHalfNJ),
        whOf(m.residualHalfNJ),
      ]),
    ).toEqual([
      ['A', r(50n), r(30n), r(0n)],
      ['B', r(30n), r(30n), r(10n)],
      ['C', r(10n), r(5n), r(0n)],
    ]);
    expect(whOf(result.unallocatedHalfNJ)).toEqual(r(35n));
    // Nothing lost: covered by members + unallocated = generation.
    expect(sum([...result.members.map((m) => m.coveredHalfNJ), result.unallocatedHalfNJ])).toEqual(
      result.generationHalfNJ,
    );
    expect(result.members.map((m) => m.units)).toEqual([
      { producer: 6n, operator: 0n, grid: 0n },
      { producer: 6n, operator: 0n, grid: 0n },
      { producer: 1n, operator: 0n, grid: 0n },
    ]);
    expect(result.members[2]!.exact).toEqual({ producer: r(1n), operator: r(1n, 10n), grid: r(1n, 10n) });
  });

  it('allocates segment by segment, so generation in one band does not cover consumption in another', () => {
    // Wednesday 16:30–17:30: 60 Wh generated evenly (30 standard before 17:00, 30 high after). D holds the
    // whole key and consumes 40 Wh, all before 17:00: it covers 30 Wh standard and 0 high, 10 Wh residual,
    // 30 Wh unallocated. D pays 30 × 0.3 = 9 producer, operator 0.9, grid 30 × 0.05 = 1.5 → 9, 0, 1.
    const result = settleAllocation(history, {
      startMs: wed(16, 30),
      endMs: wed(17, 30),
      generation: even(wed(16, 30), wed(17, 30), 60n),
      members: [{ id: 'D', keyPercent: '100', consumption: even(wed(16, 30), wed(17), 40n) }],
    });
    const d = result.members[0]!;
    expect([whOf(d.coveredHalfNJ), whOf(d.residualHalfNJ), whOf(result.unallocatedHalfNJ)]).toEqual([
      r(30n),
      r(10n),
      r(30n),
    ]);
    expect(d.lines.map((l) => [l.bandName, whOf(l.energyHalfNJ)])).toEqual([
      ['standard', r(30n)],
      ['high', r(0n)],
    ]);
    expect(d.units).toEqual({ producer: 9n, operator: 0n, grid: 1n });
  });

  it.each<[string, { id: string; keyPercent: string }[], string]>([
    [
      'keys above 100 %',
      [
        { id: 'A', keyPercent: '60' },
        { id: 'B', keyPercent: '40.5' },
      ],
      'members[1].keyPercent: the keys add up to more than 100 %',
    ],
    [
      'a key that is not a decimal',
      [{ id: 'A', keyPercent: '1/3' }],
      'members[0].keyPercent: must be a percentage as a decimal string',
    ],
    [
      'one id twice',
      [
        { id: 'A', keyPercent: '10' },
        { id: 'A', keyPercent: '10' },
      ],
      'members[1].id: must be a non-empty id not used by another member',
    ],
  ])('refuses %s', (_name, keys, message) => {
    const members = keys.map((k) => ({ ...k, consumption: [] }));
    expect(() =>
      settleAllocation(history, { startMs: sat(10), endMs: sat(11), generation: [], members }),
    ).toThrow(message);
  });
});
