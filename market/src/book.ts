import type { AckView, Book, OrderView } from '@tanglewatt/contract';
import type { Rejection, RejectionReason } from './errors.js';
import { buyOrderFor, type Fill, matchIncoming } from './matching.js';
import {
  type SignatureVerifier,
  type SignedMessage,
  type VerifiedMessage,
  verifyMessage,
} from './messages.js';
import { compareKeys, compareStrings, type OrderKey } from './ordering.js';
import {
  committedWh,
  ExpiryQueue,
  type OrderState,
  type OrderStatus,
  remainingWh,
  SortedOrders,
  sellPriceTime,
} from './orders.js';
import { type MatchingRule, makeTrade, type Trade } from './trades.js';
import { formatPrice, parsePrice, type Window, windowIntersection, windowsOverlap } from './units.js';

/**
 * Energy (Wh) a producer's meter can deliver in a window, e.g. from its meter history. Offers overlapping
 * a window count against it in full (conservative for windows that only partly overlap: use aligned slots).
 */
/**
 * Wh a producer's meter can deliver in a window, as known when `asOf` (the offer or amend being checked)
 * was seen: a capacity that depends on later history would change trades already made.
 */
export type CapacityFn = (producer: string, window: Window, asOf: VerifiedMessage) => number;

export interface BookOptions {
  market: string;
  rule: MatchingRule;
  /** The book's "now" (e.g. the latest confirmed milestone's time): later messages wait in `pending`. */
  nowMs: number;
  capacityWh: CapacityFn;
  /**
   * Whether a key may speak for an identity (e.g. a DID's verification method in force when the message
   * was confirmed). Default: any.
   */
  isAuthorized?: (identity: string, publicKey: string, message: VerifiedMessage) => boolean;
  /** When the network first saw a message (e.g. its block's milestone time); enables CLOCK_SKEW. */
  observedAtMs?: (message: VerifiedMessage) => number | undefined;
  /** Largest accepted |timestamp − observed|; default 5 minutes. */
  maxClockSkewMs?: number;
  verifier?: SignatureVerifier;
  signatureCache?: Set<string>;
}

/** The book's shapes cross to every household's dashboard, so the wire contract holds them. */
export type { AckView, Book, OrderView } from '@tanglewatt/contract';

const DEFAULT_MAX_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Rebuilds the book from a set of received messages (parsed JSON, any order, duplicates allowed). The same
 * set and options give the same book on every household: messages are deduplicated by id, sorted into the
 * total order (see ordering.ts) and applied one by one.
 */
export function rebuildBook(received: readonly unknown[], options: BookOptions): Book {
  const rejections: Rejection[] = [];
  const byId = new Map<string, VerifiedMessage>();
  for (const raw of received) {
    const verdict = verifyMessage(raw, {
      market: options.market,
      ...(options.verifier && { verifier: options.verifier }),
      ...(options.signatureCache && { signatureCache: options.signatureCache }),
    });
    if (!verdict.ok) {
      rejections.push(verdict.rejection);
      continue;
    }
    const late = admissionProblem(verdict.verified, options);
    if (late) {
      rejections.push(rejectionOf(verdict.verified, late.reason, late.detail));
      continue;
    }
    const seen = byId.get(verdict.verified.id);
    if (!seen) {
      byId.set(verdict.verified.id, verdict.verified);
      continue;
    }
    // Same content signed twice: keep the smaller signature so every household keeps the same copy.
    const [kept, dropped] =
      compareStrings(verdict.verified.message.signature, seen.message.signature) < 0
        ? [verdict.verified, seen]
        : [seen, verdict.verified];
    byId.set(kept.id, kept);
    rejections.push(rejectionOf(dropped, 'DUPLICATE', 'the same message was already received'));
  }

  const ordered = [...byId.values()].sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
  const engine = new BookEngine(options);
  const pending: string[] = [];
  for (const m of ordered) {
    if (m.message.timestampMs > options.nowMs) pending.push(m.id);
    else engine.apply(m);
  }
  engine.expireUntil(options.nowMs);
  engine.resolveAcks();
  return engine.view(pending, [...rejections, ...engine.rejections].sort(compareRejections));
}

function admissionProblem(
  m: VerifiedMessage,
  options: BookOptions,
): { reason: RejectionReason; detail: string } | undefined {
  const { identity, author, timestampMs } = m.message;
  if (options.isAuthorized && !options.isAuthorized(identity, author, m))
    return {
      reason: 'IDENTITY_MISMATCH',
      detail: `key ${author.slice(0, 16)}… may not speak for ${identity}`,
    };
  const observed = options.observedAtMs?.(m);
  const skew = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  if (observed !== undefined && Math.abs(timestampMs - observed) > skew)
    return {
      reason: 'CLOCK_SKEW',
      detail: `timestamp ${timestampMs} is ${timestampMs - observed} ms from first seen ${observed} (limit ±${skew})`,
    };
  return undefined;
}

export function keyOf(m: VerifiedMessage): OrderKey {
  return { timestampMs: m.message.timestampMs, author: m.message.author, seq: m.message.seq, id: m.id };
}

function rejectionOf(m: VerifiedMessage, reason: RejectionReason, detail: string): Rejection {
  return {
    reason,
    detail,
    messageId: m.id,
    kind: m.message.kind,
    author: m.message.author,
    identity: m.message.identity,
    timestampMs: m.message.timestampMs,
  };
}

/** Rejections in a fixed order: by time, author, id, then content (equal entries are interchangeable). */
function compareRejections(a: Rejection, b: Rejection): number {
  return (
    (a.timestampMs ?? -1) - (b.timestampMs ?? -1) ||
    compareStrings(a.author ?? '', b.author ?? '') ||
    compareStrings(a.messageId ?? '', b.messageId ?? '') ||
    compareStrings(JSON.stringify(a), JSON.stringify(b))
  );
}

type Ack = VerifiedMessage & { message: Extract<SignedMessage, { kind: 'ack' }> };

/** Applies messages in total order. Not exported from the package: `rebuildBook` is the way in. */
class BookEngine {
  readonly rejections: Rejection[] = [];
  private readonly orders = new Map<string, OrderState>();
  private readonly placement: OrderState[] = [];
  private readonly sellsByOwner = new Map<string, OrderState[]>();
  private readonly sells = new SortedOrders(sellPriceTime);
  private readonly buys: SortedOrders;
  private readonly expiries = new ExpiryQueue();
  private readonly lastSeq = new Map<string, number>();
  private readonly trades: Trade[] = [];
  private readonly pendingAcks: Ack[] = [];
  private readonly acks: AckView[] = [];
  private readonly accepted: string[] = [];
  private readonly rejected = new Set<string>();

  constructor(private readonly options: BookOptions) {
    this.buys = new SortedOrders(buyOrderFor(options.rule));
  }

  apply(m: VerifiedMessage): void {
    const { message } = m;
    this.expireUntil(message.timestampMs);
    const last = this.lastSeq.get(message.author);
    if (last !== undefined && message.seq <= last) {
      this.reject(m, 'REPLAY', `seq ${message.seq} after seq ${last} from this author`);
      return;
    }
    this.lastSeq.set(message.author, message.seq);
    switch (message.kind) {
      case 'sell':
      case 'buy':
        this.place(m, message);
        break;
      case 'cancel':
        this.cancel(m, message.body.orderId);
        break;
      case 'amend':
        this.amend(m, message);
        break;
      case 'ack':
        this.accepted.push(m.id);
        this.pendingAcks.push(m as Ack);
        break;
    }
  }

  expireUntil(t: number): void {
    for (const order of this.expiries.popEndedBy(t)) {
      if (order.status !== 'open') continue;
      this.unrest(order);
      this.close(order, 'expired', order.window.endMs, 'expiry');
    }
  }

  private place(m: VerifiedMessage, message: Extract<SignedMessage, { kind: 'sell' | 'buy' }>): void {
    const { window } = message.body;
    if (window.endMs <= message.timestampMs) {
      this.reject(
        m,
        'EXPIRED',
        `window ended at ${window.endMs}, before the message (${message.timestampMs})`,
      );
      return;
    }
    const problem =
      message.kind === 'sell'
        ? this.overCommitment(m, message.identity, window, message.body.energyWh)
        : undefined;
    if (problem) {
      this.reject(m, 'OVER_COMMITTED', problem);
      return;
    }
    const order: OrderState = {
      id: m.id,
      side: message.kind,
      owner: message.identity,
      ownerKey: message.author,
      window: { startMs: window.startMs, endMs: window.endMs },
      energyWh: message.body.energyWh,
      filledWh: 0,
      price: parsePrice(
        message.kind === 'sell' ? message.body.priceUnitsPerWh : message.body.maxPriceUnitsPerWh,
      ),
      minLotWh: message.kind === 'sell' ? message.body.minLotWh : 1,
      priority: keyOf(m),
      status: 'open',
      placedAtMs: message.timestampMs,
    };
    if (message.kind === 'sell' && message.body.payTo !== undefined) order.payTo = message.body.payTo;
    this.orders.set(order.id, order);
    this.placement.push(order);
    if (order.side === 'sell') {
      const mine = this.sellsByOwner.get(order.owner) ?? [];
      mine.push(order);
      this.sellsByOwner.set(order.owner, mine);
    }
    this.expiries.push(order);
    this.accepted.push(m.id);
    this.match(order, m);
  }

  /** Why an offer of `energyWh` in `window` would exceed the producer's capacity, if it would. */
  private overCommitment(
    asOf: VerifiedMessage,
    producer: string,
    window: Window,
    energyWh: number,
    except?: OrderState,
  ): string | undefined {
    let committed = energyWh;
    for (const other of this.sellsByOwner.get(producer) ?? [])
      if (other !== except && windowsOverlap(other.window, window)) committed += committedWh(other);
    const reported = this.options.capacityWh(producer, window, asOf);
    const capacity = Number.isNaN(reported) ? 0 : reported; // a broken meter feed must not disable the check
    return committed > capacity
      ? `${committed} Wh offered in [${window.startMs}, ${window.endMs}) but the meter can deliver ${capacity} Wh`
      : undefined;
  }

  private target(m: VerifiedMessage, orderId: string): OrderState | undefined {
    const order = this.orders.get(orderId);
    if (!order || order.ownerKey !== m.message.author || order.owner !== m.message.identity) {
      this.reject(m, 'UNKNOWN_OFFER', `no order ${orderId.slice(0, 16)}… of this author`);
      return undefined;
    }
    if (order.status !== 'open') {
      this.reject(m, 'ORDER_CLOSED', `order ${orderId.slice(0, 16)}… is ${order.status}`);
      return undefined;
    }
    return order;
  }

  private cancel(m: VerifiedMessage, orderId: string): void {
    const order = this.target(m, orderId);
    if (!order) return;
    this.unrest(order);
    this.close(order, 'cancelled', m.message.timestampMs, m.id);
    this.accepted.push(m.id);
  }

  /**
   * New total energy and/or price. A new price or more energy moves the order's time priority to the
   * amend; less energy keeps it. Either way the order is matched again as if it had just arrived.
   */
  private amend(m: VerifiedMessage, message: Extract<SignedMessage, { kind: 'amend' }>): void {
    const order = this.target(m, message.body.orderId);
    if (!order) return;
    const energyWh = message.body.energyWh ?? order.energyWh;
    const price =
      message.body.priceUnitsPerWh === undefined ? order.price : parsePrice(message.body.priceUnitsPerWh);
    if (order.side === 'sell' && energyWh > order.energyWh) {
      const problem = this.overCommitment(m, order.owner, order.window, energyWh, order);
      if (problem) {
        this.reject(m, 'OVER_COMMITTED', problem);
        return;
      }
    }
    this.unrest(order);
    const losesPriority = price !== order.price || energyWh > order.energyWh;
    order.energyWh = energyWh;
    order.price = price;
    if (losesPriority) order.priority = keyOf(m);
    this.accepted.push(m.id);
    if (energyWh <= order.filledWh) {
      this.close(order, 'filled', message.timestampMs, m.id);
      return;
    }
    this.match(order, m);
  }

  /** Matches an incoming order, records the trades, and leaves what is left of it resting. */
  private match(incoming: OrderState, cause: VerifiedMessage): void {
    const fills = matchIncoming(this.options.rule, incoming, {
      sells: this.sells.items,
      buys: this.buys.items,
    });
    fills.forEach((fill, index) => {
      this.trades.push(this.tradeOf(fill, cause, index));
      for (const order of [fill.sell, fill.buy]) {
        order.filledWh += fill.energyWh;
        if (order.filledWh === order.energyWh) {
          if (order !== incoming) this.unrest(order);
          this.close(order, 'filled', cause.message.timestampMs, cause.id);
        }
      }
    });
    if (incoming.status === 'open') (incoming.side === 'sell' ? this.sells : this.buys).add(incoming);
  }

  private tradeOf(fill: Fill, cause: VerifiedMessage, index: number): Trade {
    const t = cause.message.timestampMs;
    const common = windowIntersection(fill.sell.window, fill.buy.window)!;
    return makeTrade({
      market: this.options.market,
      rule: this.options.rule,
      sellOrderId: fill.sell.id,
      buyOrderId: fill.buy.id,
      causeId: cause.id,
      fill: index,
      seller: fill.sell.owner,
      sellerKey: fill.sell.ownerKey,
      buyer: fill.buy.owner,
      buyerKey: fill.buy.ownerKey,
      ...(fill.sell.payTo !== undefined && { payTo: fill.sell.payTo }),
      energyWh: fill.energyWh,
      priceUnitsPerWh: formatPrice(fill.price),
      window: { startMs: Math.max(common.startMs, t), endMs: common.endMs },
      matchedAtMs: t,
    });
  }

  private unrest(order: OrderState): void {
    (order.side === 'sell' ? this.sells : this.buys).remove(order);
  }

  private close(order: OrderState, status: OrderStatus, atMs: number, by: string): void {
    order.status = status;
    order.closedAtMs = atMs;
    order.closedBy = by;
  }

  /** Acks change no quantity, so they are checked against every trade the messages made. */
  resolveAcks(): void {
    const tradesById = new Map(this.trades.map((t) => [t.id, t]));
    const seen = new Set<string>();
    for (const ack of this.pendingAcks) {
      const { author, identity, body } = ack.message;
      const trade = tradesById.get(body.tradeId);
      const party =
        trade?.sellerKey === author && trade.seller === identity
          ? 'seller'
          : trade?.buyerKey === author && trade.buyer === identity
            ? 'buyer'
            : undefined;
      if (!party) {
        this.reject(
          ack,
          'UNKNOWN_TRADE',
          `no trade ${body.tradeId.slice(0, 16)}… with this author as a party`,
        );
        continue;
      }
      if (seen.has(`${body.tradeId}:${party}`)) {
        this.reject(ack, 'DUPLICATE', `trade already acknowledged by its ${party}`);
        continue;
      }
      seen.add(`${body.tradeId}:${party}`);
      this.acks.push({ tradeId: body.tradeId, party, messageId: ack.id });
    }
  }

  private reject(m: VerifiedMessage, reason: RejectionReason, detail: string): void {
    this.rejected.add(m.id);
    this.rejections.push(rejectionOf(m, reason, detail));
  }

  view(pending: string[], rejections: Rejection[]): Book {
    return {
      market: this.options.market,
      rule: this.options.rule,
      nowMs: this.options.nowMs,
      orders: this.placement.map(orderView),
      trades: [...this.trades],
      acks: [...this.acks],
      accepted: this.accepted.filter((id) => !this.rejected.has(id)),
      pending,
      rejections,
    };
  }
}

export function orderView(order: OrderState): OrderView {
  const view: OrderView = {
    id: order.id,
    side: order.side,
    owner: order.owner,
    ownerKey: order.ownerKey,
    window: { ...order.window },
    energyWh: order.energyWh,
    filledWh: order.filledWh,
    remainingWh: remainingWh(order),
    priceUnitsPerWh: formatPrice(order.price),
    minLotWh: order.minLotWh,
    status: order.status,
    placedAtMs: order.placedAtMs,
    priority: { ...order.priority },
  };
  if (order.payTo !== undefined) view.payTo = order.payTo;
  if (order.closedAtMs !== undefined) view.closedAtMs = order.closedAtMs;
  if (order.closedBy !== undefined) view.closedBy = order.closedBy;
  return view;
}
