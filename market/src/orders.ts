import { compareBigints, compareKeys, type OrderKey } from './ordering.js';
import type { ScaledPrice, Window } from './units.js';

export type Side = 'sell' | 'buy';
export type OrderStatus = 'open' | 'filled' | 'cancelled' | 'expired';

/** A sell offer or buy order as the book holds it while processing. */
export interface OrderState {
  id: string;
  side: Side;
  owner: string;
  ownerKey: string;
  window: Window;
  /** Total energy as last amended, the filled part included. */
  energyWh: number;
  filledWh: number;
  /** A sell's asking price or a buy's highest price, base units per Wh scaled by 10^18. */
  price: ScaledPrice;
  /** Smallest fill a sell accepts (unless it takes all that is left); 1 for buys. */
  minLotWh: number;
  payTo?: string;
  priority: OrderKey;
  status: OrderStatus;
  placedAtMs: number;
  closedAtMs?: number;
  /** The message that closed it (cancel, amend or the matching message), or `expiry`. */
  closedBy?: string;
}

export function remainingWh(order: OrderState): number {
  return order.status === 'open' ? order.energyWh - order.filledWh : 0;
}

/** Energy a producer stands to deliver under an offer: what is sold plus what is still offered. */
export function committedWh(order: OrderState): number {
  return order.filledWh + remainingWh(order);
}

/** Price-time priority: cheapest sell first; highest buy first; then the earlier priority key. */
export function sellPriceTime(a: OrderState, b: OrderState): number {
  return compareBigints(a.price, b.price) || compareKeys(a.priority, b.priority);
}

export function buyPriceTime(a: OrderState, b: OrderState): number {
  return compareBigints(b.price, a.price) || compareKeys(a.priority, b.priority);
}

/** Open orders of one side, kept sorted by a comparator (every key is unique: it ends in the message id). */
export class SortedOrders {
  readonly items: OrderState[] = [];

  constructor(private readonly compare: (a: OrderState, b: OrderState) => number) {}

  private indexFor(order: OrderState): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compare(this.items[mid]!, order) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(order: OrderState): void {
    this.items.splice(this.indexFor(order), 0, order);
  }

  /** Call before changing anything the comparator reads. */
  remove(order: OrderState): void {
    const i = this.indexFor(order);
    if (this.items[i] === order) this.items.splice(i, 1);
  }
}

/** A min-heap of orders by window end, so expiries cost log n each instead of a scan per message. */
export class ExpiryQueue {
  private readonly heap: OrderState[] = [];

  push(order: OrderState): void {
    const h = this.heap;
    h.push(order);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.window.endMs <= h[i]!.window.endMs) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  /** Removes and returns every order whose window ends at or before `t`, earliest end first. */
  popEndedBy(t: number): OrderState[] {
    const ended: OrderState[] = [];
    const h = this.heap;
    while (h.length > 0 && h[0]!.window.endMs <= t) {
      ended.push(h[0]!);
      const last = h.pop()!;
      if (h.length === 0) break;
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.window.endMs < h[m]!.window.endMs) m = l;
        if (r < h.length && h[r]!.window.endMs < h[m]!.window.endMs) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return ended;
  }
}
