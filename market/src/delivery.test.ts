import { paymentRequest } from '@tanglewatt/contract';
import { describe, expect, it } from 'vitest';
import { deliveryStatement, meteredInWindowMWs, settlementRequest } from './delivery.js';
import { at, author, book, W1 } from './testing.js';
import type { Trade } from './trades.js';
import { whToMWs } from './units.js';

/** 2 kWh at 0.35 units/Wh in W1: worth 700 units. */
function trade(priceUnitsPerWh = '0.35', energyWh = 2000): Trade {
  const b = book([
    author('alice').sell(at(1), { energyWh, priceUnitsPerWh, window: W1 }),
    author('bob').buy(at(2), { energyWh, maxPriceUnitsPerWh: priceUnitsPerWh, window: W1 }),
  ]);
  return b.trades[0]!;
}

const mid = W1.startMs + 1_800_000;

describe('delivery bookkeeping', () => {
  it('keeps the relay on and owes for what arrived while delivering', () => {
    const s = deliveryStatement(trade(), { deliveredMWs: whToMWs(500), nowMs: mid });
    expect(s).toMatchObject({
      state: 'delivering',
      relayOn: true,
      creditedMWs: whToMWs(500),
      shortfallMWs: 0n,
      owedUnits: 175n,
      dueUnits: 175n,
      tradeValueUnits: 700n,
    });
    expect(s.closedAtMs).toBeUndefined();
    expect(deliveryStatement(trade(), { deliveredMWs: 0n, nowMs: W1.startMs - 1 }).relayOn).toBe(false);
  });

  it('closes as delivered as soon as the energy is all there, and pays nothing for excess', () => {
    const s = deliveryStatement(trade(), { deliveredMWs: whToMWs(2100), nowMs: mid, paidUnits: 175n });
    expect(s).toMatchObject({
      state: 'delivered',
      relayOn: false,
      excessMWs: whToMWs(100),
      owedUnits: 700n,
      dueUnits: 525n,
      closedAtMs: mid,
    });
  });

  it('records a shortfall at the window end and owes only for what was delivered', () => {
    const s = deliveryStatement(trade(), { deliveredMWs: whToMWs(1500) + 1_234n, nowMs: W1.endMs });
    expect(s).toMatchObject({
      state: 'shortfall',
      relayOn: false,
      shortfallMWs: whToMWs(500) - 1_234n,
      // 1500.000343 Wh × 0.35 = 525.00012 → 525 (floored)
      owedUnits: 525n,
      closedAtMs: W1.endMs,
    });
  });

  it('shows an overpayment when paid ahead of a delivery that fell short', () => {
    const s = deliveryStatement(trade(), { deliveredMWs: whToMWs(1000), nowMs: W1.endMs, paidUnits: 400n });
    expect(s).toMatchObject({ owedUnits: 350n, dueUnits: 0n, overpaidUnits: 50n });
  });

  it('pays floor(total) however delivery is split into periods (owed is cumulative)', () => {
    const t = trade('0.333', 2000);
    let delivered = 0n;
    let paid = 0n;
    for (const periodMWs of [777_777n, 1_000_001n, 2_345_678n, 3_000_000n, whToMWs(1000)]) {
      delivered += periodMWs;
      paid += deliveryStatement(t, { deliveredMWs: delivered, nowMs: mid, paidUnits: paid }).dueUnits;
    }
    // floor(delivered / 3.6e6 × 0.333)
    expect(paid).toBe((delivered * 333n) / (3_600_000n * 1000n));
    expect(paid).toBe(deliveryStatement(t, { deliveredMWs: delivered, nowMs: mid }).owedUnits);
  });

  it('counts metered periods inside the window whole and straddling ones by their share of time', () => {
    const intervals = [
      { startMs: W1.startMs - 600_000, endMs: W1.startMs + 600_000, energyMWs: 1_000n }, // half inside
      { startMs: W1.startMs + 600_000, endMs: W1.startMs + 1_200_000, energyMWs: 5_000n },
      { startMs: W1.endMs, endMs: W1.endMs + 60_000, energyMWs: 9_999n }, // after
      { startMs: W1.endMs - 300_000, endMs: W1.endMs + 600_000, energyMWs: 1_000n }, // a third inside → 333
    ];
    expect(meteredInWindowMWs(intervals, W1)).toBe(500n + 5_000n + 333n);
  });

  it('turns what is due into a wallet-service payment request that the payments API accepts', () => {
    const t = trade();
    const s = deliveryStatement(t, { deliveredMWs: whToMWs(500), nowMs: mid });
    const request = settlementRequest(t, s, 'watt1qexample');
    expect(paymentRequest.safeParse(request).success).toBe(true);
    expect(request).toMatchObject({ amount: '175', idempotencyKey: `market/${t.id}/175` });
    expect(settlementRequest(t, { ...s, dueUnits: 0n }, 'watt1qexample')).toBeUndefined();
  });
});
