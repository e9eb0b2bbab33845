import { describe, expect, it } from 'vitest';
import { UNITS_PER_TOKEN } from './format.js';
import { REFERENCE_P107_PURCHASE_WH, referenceProducers, referenceTable, runReference } from './reference.js';

const sources = (trades: { seller: string; energyWh: number }[]) => trades.map((t) => [t.seller, t.energyWh]);
const tokens = (n: number) => BigInt(n) * UNITS_PER_TOKEN;

describe('reference scenario (pool rule)', () => {
  const result = runReference('pool');
  const row = (id: string) => result.rows.find((r) => r.identity === id)!;

  it('reconstructs holdings of 66.5 kWh', () => {
    expect(referenceProducers.reduce((a, p) => a + p.holdingsWh, 0)).toBe(66_500);
  });

  it('sells 50 kWh from the largest offers: 20 from P102, 19 from P103, 11 from P105', () => {
    expect(sources(result.sale)).toEqual([
      ['P102', 20_000],
      ['P103', 19_000],
      ['P105', 11_000],
    ]);
    const after = Object.fromEntries(result.rows.map((r) => [r.identity, r.afterSaleWh]));
    expect(after).toMatchObject({
      P101: 5_000,
      P102: 0,
      P103: 0,
      P104: 2_500,
      P105: 1_500,
      P106: 1_500,
      P107: 6_000,
    });
  });

  it('fills P107’s 10 kWh from the others, largest first, P105 before P106 on the tie', () => {
    expect(sources(result.purchase)).toEqual([
      ['P101', 5_000],
      ['P104', 2_500],
      ['P105', 1_500],
      ['P106', 1_000],
    ]);
    const paid = result.purchase.reduce((a, t) => a + BigInt(t.energyWh) * BigInt(t.priceUnitsPerWh), 0n);
    expect(paid).toBe(tokens(100)); // 10 000 Wh × 10 000 units/Wh
    expect(result.purchase.every((t) => t.priceUnitsPerWh === '10000')).toBe(true);
  });

  it('ends with these balances and energy', () => {
    const end = Object.fromEntries(result.rows.map((r) => [r.identity, r.endUnits]));
    expect(end).toEqual({
      P101: tokens(50),
      P102: tokens(200),
      P103: tokens(190),
      P104: tokens(25),
      P105: tokens(125),
      P106: tokens(10),
      P107: 0n,
      C201: 0n,
    });
    expect(row('P106')).toMatchObject({ energyWh: 500, unsoldWh: 500 });
    expect(row('P107')).toMatchObject({
      energyWh: 16_000,
      unsoldWh: 6_000,
      boughtWh: REFERENCE_P107_PURCHASE_WH,
    });
    expect(result.rows.reduce((a, r) => a + r.startUnits, 0n)).toBe(
      result.rows.reduce((a, r) => a + r.endUnits, 0n),
    );
  });

  it('has every trade acknowledged by both parties and nothing rejected', () => {
    expect(result.book.acks).toHaveLength(2 * result.book.trades.length);
    expect(result.book.rejections).toEqual([]);
    expect(result.statements.every((s) => s.state === 'delivered')).toBe(true);
  });

  it('prints the table', () => {
    const table = referenceTable(result);
    expect(table).toContain('C201 buys 50.0 kWh: P102 20.0, P103 19.0, P105 11.0');
    expect(table).toContain('P107 buys 10.0 kWh: P101 5.0, P104 2.5, P105 1.5, P106 1.0');
    expect(table).toMatch(/P107\s+6\.0\s+6\.0\s+0\.0\s+10\.0\s+16\.0\s+6\.0\s+100\s+0/);
  });
});

describe('reference scenario under the continuous double auction', () => {
  it('fills the same purchases by time priority instead (all offers share one price)', () => {
    const result = runReference('cda');
    expect(sources(result.sale)).toEqual([
      ['P101', 5_000],
      ['P102', 20_000],
      ['P103', 19_000],
      ['P104', 2_500],
      ['P105', 3_500],
    ]);
    expect(sources(result.purchase)).toEqual([
      ['P105', 9_000],
      ['P106', 1_000],
    ]);
  });
});
