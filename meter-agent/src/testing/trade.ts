// Test support: a market trade as the wallet-service's book shows it.
import type { MarketTrade } from '@tanglewatt/contract';
import { CONSUMER } from './fixtures.js';

export const SELLER = 'watt1qz3ks8qmzw5eusw9jm6mhv3q4ymsvcmn9xltwm8h9yuwd4zvgsf5k0h7m0c';

/** A 1 Wh trade at 1000 units/Wh bought by CONSUMER (the fixtures' household) from SELLER; `id` is one hex digit. */
export function marketTrade(id: string, nowMs: number, overrides: Partial<MarketTrade> = {}): MarketTrade {
  return {
    id: id.repeat(64).slice(0, 64),
    market: 'test',
    rule: 'cda',
    sellOrderId: 'b'.repeat(64),
    buyOrderId: 'c'.repeat(64),
    causeId: 'c'.repeat(64),
    fill: 0,
    seller: SELLER,
    sellerKey: 'd'.repeat(64),
    buyer: CONSUMER,
    buyerKey: 'e'.repeat(64),
    energyWh: 1,
    priceUnitsPerWh: '1000',
    window: { startMs: nowMs, endMs: nowMs + 10 * 60_000 },
    matchedAtMs: nowMs,
    ...overrides,
  };
}
