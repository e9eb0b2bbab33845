import { domainBytes, sha256Hex } from './canonical.js';
import { parsePrice, unitsForWh, type Window } from './units.js';

export type MatchingRule = 'cda' | 'pool';
export const matchingRules: readonly MatchingRule[] = ['cda', 'pool'];

/** One match: what both households agreed to by their signed orders, recomputable by anyone. */
export interface Trade {
  /** sha256 of `tanglewatt/market/trade/v1\n` ‖ canonical JSON of every other field. */
  id: string;
  market: string;
  rule: MatchingRule;
  sellOrderId: string;
  buyOrderId: string;
  /** The message whose arrival made the match: a sell, a buy or an amend. */
  causeId: string;
  /** Which of the cause's fills this is, from 0. */
  fill: number;
  seller: string;
  sellerKey: string;
  buyer: string;
  buyerKey: string;
  payTo?: string;
  energyWh: number;
  priceUnitsPerWh: string;
  /** Both orders' windows intersected, starting no earlier than the match. */
  window: Window;
  matchedAtMs: number;
}

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
