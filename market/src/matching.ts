import { compareBigints, compareKeys } from './ordering.js';
import { buyPriceTime, type OrderState, remainingWh } from './orders.js';
import type { MatchingRule } from './trades.js';
import { type ScaledPrice, windowsOverlap } from './units.js';

/** One fill the incoming order makes against a resting one, at `price` (base units per Wh × 10^18). */
export interface Fill {
  sell: OrderState;
  buy: OrderState;
  energyWh: number;
  price: ScaledPrice;
}

/**
 * Open resting orders. Sells are in price-time order (cheapest first); buys in `buyOrderFor(rule)`:
 * price-time (highest first) under CDA, arrival order under the pool rule.
 */
export interface Resting {
  sells: readonly OrderState[];
  buys: readonly OrderState[];
}

/**
 * A pair can trade when the owners differ (no self-trade: such a pair is skipped, neither order is
 * cancelled), the windows overlap and the ask is at most the bid. Expired orders are never resting.
 */
export function canTrade(sell: OrderState, buy: OrderState): boolean {
  return (
    sell.owner !== buy.owner &&
    sell.ownerKey !== buy.ownerKey &&
    sell.price <= buy.price &&
    windowsOverlap(sell.window, buy.window)
  );
}

/**
 * How much a buyer wanting `buyRemainingWh` takes from an offer. A buyer wanting at least what is left
 * takes it all; otherwise the fill is at least the minimum lot and leaves at least a minimum lot behind.
 * So a fill never makes an offer newly fillable for someone else, and matching only the incoming order
 * is enough (see `matchIncoming`). 0 means this pair cannot fill.
 */
export function fillWh(sellRemainingWh: number, sellMinLotWh: number, buyRemainingWh: number): number {
  if (sellRemainingWh <= 0 || buyRemainingWh <= 0) return 0;
  if (buyRemainingWh >= sellRemainingWh) return sellRemainingWh;
  const q = Math.min(buyRemainingWh, sellRemainingWh - sellMinLotWh);
  return q >= sellMinLotWh ? q : 0;
}

/**
 * The fills an incoming (new or amended) order makes. Before it arrived no resting pair could fill
 * (each earlier message was matched the same way), so only pairs with the incoming order are tried.
 */
export function matchIncoming(rule: MatchingRule, incoming: OrderState, resting: Resting): Fill[] {
  if (incoming.side === 'buy')
    return rule === 'cda'
      ? fillBuyPriceTime(incoming, resting.sells)
      : fillBuyLargestFirst(incoming, resting.sells);
  return fillSell(incoming, resting.buys, rule === 'cda' ? 'resting' : 'sell');
}

/** CDA, incoming buy: sells in price-time order, each at its own (the resting) price. */
function fillBuyPriceTime(buy: OrderState, sells: readonly OrderState[]): Fill[] {
  const fills: Fill[] = [];
  let wantWh = remainingWh(buy);
  for (const sell of sells) {
    if (wantWh === 0 || sell.price > buy.price) break; // sorted by price: nothing further is cheap enough
    if (!canTrade(sell, buy)) continue;
    const q = fillWh(remainingWh(sell), sell.minLotWh, wantWh);
    if (q === 0) continue;
    fills.push({ sell, buy, energyWh: q, price: sell.price });
    wantWh -= q;
  }
  return fills;
}

/**
 * Incoming sell: buys in the given order. Under CDA they are in price-time order and pay their own (the
 * resting) price; under the pool rule they are first come, first served and pay the offer's price.
 */
function fillSell(sell: OrderState, buys: readonly OrderState[], pricedBy: 'resting' | 'sell'): Fill[] {
  const fills: Fill[] = [];
  let leftWh = remainingWh(sell);
  for (const buy of buys) {
    if (leftWh === 0) break;
    if (pricedBy === 'resting' && buy.price < sell.price) break; // sorted by price, highest first
    if (!canTrade(sell, buy)) continue;
    const q = fillWh(leftWh, sell.minLotWh, remainingWh(buy));
    if (q === 0) continue;
    fills.push({ sell, buy, energyWh: q, price: pricedBy === 'resting' ? buy.price : sell.price });
    leftWh -= q;
  }
  return fills;
}

/**
 * Pool rule (the reference simulation): the buyer's demand is filled from the largest offers first, each at
 * the offer's price. Ties on remaining energy go to the cheaper offer, then to the earlier priority key.
 */
function fillBuyLargestFirst(buy: OrderState, sells: readonly OrderState[]): Fill[] {
  const candidates = sells.filter((sell) => canTrade(sell, buy)).sort(largestFirst);
  const fills: Fill[] = [];
  let wantWh = remainingWh(buy);
  for (const sell of candidates) {
    if (wantWh === 0) break;
    const q = fillWh(remainingWh(sell), sell.minLotWh, wantWh);
    if (q === 0) continue;
    fills.push({ sell, buy, energyWh: q, price: sell.price });
    wantWh -= q;
  }
  return fills;
}

export function largestFirst(a: OrderState, b: OrderState): number {
  return (
    remainingWh(b) - remainingWh(a) || compareBigints(a.price, b.price) || compareKeys(a.priority, b.priority)
  );
}

/** Pool buyers are served in arrival order: by priority key alone. */
export function buyArrival(a: OrderState, b: OrderState): number {
  return compareKeys(a.priority, b.priority);
}

export function buyOrderFor(rule: MatchingRule): (a: OrderState, b: OrderState) => number {
  return rule === 'cda' ? buyPriceTime : buyArrival;
}
