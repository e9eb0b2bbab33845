import { rational } from '@tanglewatt/tariff';
import { describe, expect, it } from 'vitest';
import { buildBill, type LedgerPayment, type MeterReading } from './build.js';
import { parseBillConfig } from './config.js';
import { exactText } from './exact.js';
import { billToJson } from './json.js';

const HOUSE = 'tw1household';
const WH = 3_600_000n; // mWs per Wh

const config = parseBillConfig(
  {
    timeZone: 'Europe/Berlin',
    retailUnitsPerWh: { '1': '0.40', '2': '0.25' },
    feedInUnitsPerWh: '0.08',
    co2GramsPerKWh: '400',
  },
  { from: '2026-11-01', to: '2026-11-30' },
);

let tx = 0;
function payment(
  direction: 'sent' | 'received',
  amountUnits: bigint,
  description: object,
  extra: Partial<LedgerPayment> = {},
): LedgerPayment {
  tx++;
  return {
    direction,
    transactionId: `0x${tx.toString(16).padStart(64, '0')}`,
    blockId: `0x${(tx + 100).toString(16).padStart(64, '0')}`,
    milestoneIndex: 1000 + tx,
    milestoneTimestamp: Date.parse('2026-11-10T12:00:00Z') / 1000 + tx,
    counterparty: direction === 'sent' ? 'tw1producer' : 'tw1buyer',
    amountUnits,
    description,
    ...extra,
  };
}

const reading = (periodId: string, startIso: string, wh: bigint): MeterReading => ({
  channelId: 'ab'.repeat(32),
  periodId,
  startMs: Date.parse(startIso),
  endMs: Date.parse(startIso) + 900_000,
  energyMWs: wh * WH,
});

describe('buildBill: a November with two bands, fees and a feed-in sale (worked by hand)', () => {
  // Bought: 2,000 Wh band 1 + 3,000 Wh band 2 for 1,300 to the producer, 150 operator, 100 grid;
  // 1,000 Wh without bands (band 1) for 300. Sold: 2,000 Wh (band 1) for 240.
  const payments: LedgerPayment[] = [
    payment(
      'sent',
      1300n,
      {
        k: 'house-7/p1',
        o: 0,
        a: '1300',
        periodId: 'house-7/p1',
        energyMWs: (5000n * WH).toString(),
        periodStart: '2026-11-03T16:00:00.000Z',
        periodEnd: '2026-11-03T17:00:00.000Z',
        bands: { '1': (2000n * WH).toString(), '2': (3000n * WH).toString() },
        shares: [
          { role: 'operator', o: 1, a: '150', to: 'tw1operator' },
          { role: 'grid', o: 2, a: '100', to: 'tw1grid' },
        ],
        tariff: { id: 'community', version: 3 },
      },
      {
        shares: [
          { role: 'operator', units: 150n },
          { role: 'grid', units: 100n },
        ],
      },
    ),
    payment('sent', 300n, {
      k: 'house-7/p2',
      o: 0,
      a: '300',
      energyMWs: (1000n * WH).toString(),
      periodStart: '2026-11-04T08:00:00.000Z',
      somethingNew: { ignored: true },
    }),
    payment('received', 240n, {
      k: 'buyer/p9',
      o: 1,
      a: '240',
      energyMWs: (2000n * WH).toString(),
      periodStart: '2026-11-05T11:00:00.000Z',
    }),
    // Local midnight of 1 December in Berlin is 23:00 UTC on 30 November: outside the cycle.
    payment('sent', 999n, {
      k: 'house-7/late',
      o: 0,
      energyMWs: (10n * WH).toString(),
      periodStart: '2026-11-30T23:30:00.000Z',
    }),
  ];
  const readings = [
    reading('m/1', '2026-11-03T16:00:00Z', 4000n),
    reading('m/2', '2026-11-04T08:00:00Z', 2500n),
    reading('m/3', '2026-11-05T11:00:00Z', 500n),
    reading('m/3', '2026-11-05T11:00:00Z', 500n), // read twice: counts once
    reading('m/4', '2026-11-06T12:00:00Z', -2500n),
    reading('m/0', '2026-10-31T22:00:00Z', 9000n), // 31 Oct 23:00 Berlin: before the cycle
  ];
  const bill = buildBill({ household: HOUSE, config, payments, readings });

  it('counts energy per band bought and sold, exactly', () => {
    expect(bill.bands.map((b) => [b.digit, b.boughtMWs / WH, b.soldMWs / WH])).toEqual([
      [1, 3000n, 2000n],
      [2, 3000n, 0n],
    ]);
    expect(bill.boughtMWs).toBe(6000n * WH);
    expect(bill.soldMWs).toBe(2000n * WH);
  });

  it('totals what was paid (producers, operator, grid) and earned, in base units', () => {
    expect(bill.energyPaidUnits).toBe(1300n + 300n);
    expect(bill.operatorFeeUnits).toBe(150n);
    expect(bill.gridFeeUnits).toBe(100n);
    expect(bill.paidUnits).toBe(1600n + 150n + 100n);
    expect(bill.earnedUnits).toBe(240n);
  });

  it('compares with the retail supplier and the feed-in price: savings = (1950 − 1850) + (240 − 160) = 180', () => {
    // Retail: 3,000 Wh × 0.40 + 3,000 Wh × 0.25 = 1,200 + 750; feed-in: 2,000 Wh × 0.08.
    expect(bill.retailBaselineUnits).toEqual(rational.rational(1950n));
    expect(bill.feedInBaselineUnits).toEqual(rational.rational(160n));
    expect(bill.savingsUnits).toEqual(rational.rational(180n));
  });

  it('reads self-sufficiency 6000/7000 and self-consumption 2000/2500 from the meter, and CO₂ 6 kWh × 400 g', () => {
    expect(bill.consumptionMWs).toBe(7000n * WH);
    expect(bill.productionMWs).toBe(2500n * WH);
    expect(bill.selfSufficiency).toEqual(rational.rational(6n, 7n));
    expect(bill.selfConsumption).toEqual(rational.rational(4n, 5n));
    expect(bill.co2AvoidedGrams).toEqual(rational.rational(2400n));
  });

  it('has a line per paid period with its transaction and block, oldest first', () => {
    expect(bill.lines.map((l) => [l.direction, l.terms.key, l.transactionId, l.blockId])).toEqual(
      payments
        .slice(0, 3)
        .map((p) => [
          p.direction === 'sent' ? 'bought' : 'sold',
          (p.description as { k: string }).k,
          p.transactionId,
          p.blockId,
        ]),
    );
    const json = billToJson(bill);
    expect(json.lines[0]).toMatchObject({
      bands: { '1': (2000n * WH).toString(), '2': (3000n * WH).toString() },
      operatorUnits: '150',
      gridUnits: '100',
      tariff: { id: 'community', version: 3 },
    });
    expect(json.lines[1]!.bands).toEqual({ '1': (1000n * WH).toString() });
    expect(json.totals).toMatchObject({
      paidUnits: '1850',
      earnedUnits: '240',
      netUnits: '-1610',
      savingsUnits: '180',
      boughtWh: '6000',
    });
    expect(json.selfSufficiency).toBe('6/7');
    expect(json.cycle).toEqual({
      from: '2026-10-31T23:00:00.000Z',
      to: '2026-11-30T23:00:00.000Z',
      timeZone: 'Europe/Berlin',
    });
    expect(bill.warnings).toEqual([]);
  });
});

describe('buildBill: edge cases', () => {
  it('takes a payment without shares as all to the producer and without bands as band 1', () => {
    const bill = buildBill({
      household: HOUSE,
      config,
      payments: [
        payment('sent', 7n, { k: 'x', o: 0, energyMWs: '1000', periodStart: '2026-11-02T00:00:00.000Z' }),
      ],
      readings: [],
    });
    expect([bill.paidUnits, bill.energyPaidUnits, bill.operatorFeeUnits, bill.gridFeeUnits]).toEqual([
      7n,
      7n,
      0n,
      0n,
    ]);
    expect(bill.bands.map((b) => b.digit)).toEqual([1]);
    // 1000 mWs is 1/3600 Wh: kept exact, never rounded.
    expect(exactText(bill.retailBaselineUnits)).toBe('1/9000');
    expect(bill.selfSufficiency).toBeNull();
  });

  it('bills a payment without a period by its milestone time', () => {
    const inside = payment('sent', 5n, { k: 'no-period', o: 0, energyMWs: '3600000' });
    const bill = buildBill({ household: HOUSE, config, payments: [inside], readings: [] });
    expect(bill.lines).toHaveLength(1);
  });

  it('refuses, naming the field, a band it has no retail price for', () => {
    const narrow = parseBillConfig(
      { retailUnitsPerWh: { '1': '0.3' } },
      { from: '2026-11-01', to: '2026-11-30' },
    );
    expect(() =>
      buildBill({
        household: HOUSE,
        config: narrow,
        payments: [
          payment('sent', 1n, {
            k: 'b3',
            o: 0,
            energyMWs: '10',
            bands: { '3': '10' },
            periodStart: '2026-11-02T00:00:00.000Z',
          }),
        ],
        readings: [],
      }),
    ).toThrow('retailUnitsPerWh: no price for band 3, which this cycle bought energy in');
  });

  it('warns, and keeps the rest, for a description field it cannot read', () => {
    const bill = buildBill({
      household: HOUSE,
      config,
      payments: [
        payment('sent', 4n, { k: 'odd', o: 0, energyMWs: 'lots', periodStart: '2026-11-02T00:00:00.000Z' }),
      ],
      readings: [],
    });
    expect(bill.paidUnits).toBe(4n);
    expect(bill.warnings).toEqual([
      'payment "odd": energyMWs is not readable, left out',
      'payment "odd" states no energyMWs: counted as 0',
    ]);
  });
});

describe('parseBillConfig', () => {
  it('names the field at fault in one line', () => {
    expect(() =>
      parseBillConfig(
        { retailUnitsPerWh: '0.3', timeZone: 'Mars/Base' },
        { from: '2026-11-01', to: '2026-11-30' },
      ),
    ).toThrow('timeZone: an IANA time zone such as "Europe/Berlin"');
    expect(() =>
      parseBillConfig({ retailUnitsPerWh: '-1' }, { from: '2026-11-01', to: '2026-11-30' }),
    ).toThrow(/^retailUnitsPerWh: /);
    expect(() =>
      parseBillConfig({ retailUnitsPerWh: '1', extra: 1 }, { from: '2026-11-01', to: '2026-11-30' }),
    ).toThrow('config: unknown field(s): extra');
    expect(() =>
      parseBillConfig({ retailUnitsPerWh: '1' }, { from: '2026-11-30', to: '2026-11-01' }),
    ).toThrow('to: must be after from');
    expect(() => parseBillConfig({ retailUnitsPerWh: '1' }, { from: 'yesterday', to: '2026-11-01' })).toThrow(
      /^from: /,
    );
  });

  it('reads dates as local days (the end day included) and instants as given', () => {
    const c = parseBillConfig(
      { retailUnitsPerWh: '1', timeZone: 'Europe/Berlin' },
      { from: '2026-03-01', to: '2026-03-31' },
    );
    expect(new Date(c.fromMs).toISOString()).toBe('2026-02-28T23:00:00.000Z');
    // Summer time began on 29 March: 1 April starts at 22:00 UTC.
    expect(new Date(c.toMs).toISOString()).toBe('2026-03-31T22:00:00.000Z');
    const i = parseBillConfig(
      { retailUnitsPerWh: '1' },
      { from: '2026-03-01T10:00:00Z', to: '2026-03-01T12:00:00+01:00' },
    );
    expect([i.fromMs, i.toMs]).toEqual([
      Date.parse('2026-03-01T10:00:00Z'),
      Date.parse('2026-03-01T11:00:00Z'),
    ]);
  });
});
