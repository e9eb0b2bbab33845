import { describe, expect, it } from 'vitest';
import { type MemberPeriod, settleMetered } from './modes.js';
import { HALF_NJ_PER_WH, parseTariffHistory, type TariffInput } from './schedule.js';

/**
 * The seed paper's community trade (P2PET on IOTA, Tables 2 and 3). The tables' cells are not in the text
 * we have; its narrative gives: 50 kWh sold to the consumer community, 20 from P102, 19 from P103 and 11 from
 * P105; then P107 buys 10 kWh "for 100 token" from what P101, P104, P105 and P106 have left (5, 2.5, 1.5 and
 * 1.5 kWh). Read as the project's market reads it (market/src/sim/reference.ts): "KW" is kWh; P107's 10 kWh
 * come 5 from P101, 2.5 from P104, 1.5 from P105 and 1.0 from P106 (P105 and P106 tie, the earlier offer
 * fills first); the price is 100 tokens / 10 kWh = 0.01 token/Wh = 10 000 base units/Wh (1 token = 10^6
 * base units), assumed for the 50 kWh sale too, whose price the paper does not give.
 *
 * Rounding: none is needed. Every energy is a whole number of Wh and the price a whole number of units per
 * Wh, so each share is exact in base units, and so are 20 % and 80 % of it (multiples of 5 units).
 */
const UNITS_PER_TOKEN = 1_000_000n;
const WINDOW_START = Date.UTC(2021, 5, 1, 11, 0);
const WINDOW_END = Date.UTC(2021, 5, 1, 12, 0);

const trades = [
  { seller: 'P102', buyer: 'C201', wh: 20_000n },
  { seller: 'P103', buyer: 'C201', wh: 19_000n },
  { seller: 'P105', buyer: 'C201', wh: 11_000n },
  { seller: 'P101', buyer: 'P107', wh: 5_000n },
  { seller: 'P104', buyer: 'P107', wh: 2_500n },
  { seller: 'P105', buyer: 'P107', wh: 1_500n },
  { seller: 'P106', buyer: 'P107', wh: 1_000n },
];

function tariff(priceIncludesFees: boolean): TariffInput {
  return {
    id: 'seed-community',
    version: 1,
    timeZone: 'UTC',
    validFrom: '2021-01-01T00:00Z',
    priceIncludesFees,
    bands: [{ digit: 1, name: 'flat', priceUnitsPerWh: '10000' }],
    slots: [
      { days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '00:00', to: '24:00', band: 'flat' },
    ],
    fees: { grid: { percentOfEnergy: '20' } },
  };
}

/** Each trade delivered evenly over the window in 1 s samples (E / 3600 per second: a whole number of half-nJ). */
function delivery(wh: bigint): MemberPeriod {
  const perSecond = (wh * HALF_NJ_PER_WH) / 3600n;
  expect(perSecond * 3600n).toBe(wh * HALF_NJ_PER_WH);
  return {
    startMs: WINDOW_START,
    endMs: WINDOW_END,
    import: Array.from({ length: 3600 }, (_, s) => ({
      startMs: WINDOW_START + s * 1000,
      endMs: WINDOW_START + (s + 1) * 1000,
      energyHalfNJ: perSecond,
    })),
  };
}

function settle(priceIncludesFees: boolean) {
  const history = parseTariffHistory([tariff(priceIncludesFees)]);
  const received = new Map<string, bigint>();
  const paid = new Map<string, bigint>();
  let grid = 0n;
  for (const trade of trades) {
    const [settled] = settleMetered(history, [delivery(trade.wh)]);
    // Nothing is left over: the carry of every payee is exactly 0.
    expect(Object.values(settled!.carryOut).every((c) => c.num === 0n)).toBe(true);
    received.set(trade.seller, (received.get(trade.seller) ?? 0n) + settled!.units.producer);
    paid.set(trade.buyer, (paid.get(trade.buyer) ?? 0n) + settled!.consumerUnits);
    grid += settled!.units.grid;
    expect(settled!.units.operator).toBe(0n);
  }
  const tokens = (m: Map<string, bigint>) => Object.fromEntries([...m].map(([k, v]) => [k, v]));
  return { received: tokens(received), paid: tokens(paid), grid };
}

describe("the seed community's trade (Tables 2–3) with a 20 % grid fee", () => {
  const T = UNITS_PER_TOKEN;

  it('settles exactly when the fee is 1 of every 5 tokens paid (price includes the fee)', () => {
    // C201 pays 50 000 Wh × 10 000 = 500 tokens: P102 20 000 Wh → 200 tokens, 80 % = 160; P103 190 → 152;
    // P105 110 → 88; grid 20 % of 500 = 100.
    // P107 pays 10 000 Wh → 100 tokens: P101 50 → 40; P104 25 → 20; P105 15 → 12; P106 10 → 8; grid 20.
    const { received, paid, grid } = settle(true);
    expect(paid).toEqual({ C201: 500n * T, P107: 100n * T });
    expect(received).toEqual({
      P102: 160n * T,
      P103: 152n * T,
      P105: (88n + 12n) * T,
      P101: 40n * T,
      P104: 20n * T,
      P106: 8n * T,
    });
    expect(grid).toBe(120n * T);
    // Every unit paid is received: 600 tokens = 480 to producers + 120 to the grid.
    expect(Object.values(received).reduce((a, b) => a + b, 0n) + grid).toBe(600n * T);
  });

  it('settles exactly when the fee is added on top of the energy price', () => {
    // Producers get the full price (C201's sellers 500 tokens, P107's 100); the grid 20 % on top:
    // C201 pays 500 + 100 = 600 tokens, P107 100 + 20 = 120.
    const { received, paid, grid } = settle(false);
    expect(paid).toEqual({ C201: 600n * T, P107: 120n * T });
    expect(received).toEqual({
      P102: 200n * T,
      P103: 190n * T,
      P105: (110n + 15n) * T,
      P101: 50n * T,
      P104: 25n * T,
      P106: 10n * T,
    });
    expect(grid).toBe(120n * T);
  });
});
