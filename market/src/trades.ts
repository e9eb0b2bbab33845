import type { Trade } from '@tanglewatt/contract';
import { domainBytes, sha256Hex } from './canonical.js';
import { parsePrice, unitsForWh } from './units.js';

export type { MatchingRule, Trade } from '@tanglewatt/contract';
export { matchingRules } from '@tanglewatt/contract';

export const TRADE_DOMAIN = 'tanglewatt/market/trade/v1';

export function tradeIdOf(content: Omit<Trade, 'id'>): string {
  return sha256Hex(domainBytes(TRADE_DOMAIN, content));
}

export function makeTrade(content: Omit<Trade, 'id'>): Trade {
  return { id: tradeIdOf(content), ...content };
}

/** What the whole trade is worth: floor(energyWh × price). */
export function tradeValueUnits(trade: Pick<Trade, 'energyWh' | 'priceUnitsPerWh'>): bigint {
  return unitsForWh(trade.energyWh, parsePrice(trade.priceUnitsPerWh));
}
