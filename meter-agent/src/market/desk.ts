import type {
  MarketSnapshot,
  MarketTrade,
  PaymentRequest,
  MeterTradeView as TradeView,
} from '@tanglewatt/contract';
import { deliveryStatement, settlementRequest, type TradeTerms, whToMWs } from '@tanglewatt/market';
import type { Clock } from '../clock.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { HALF_NJ_PER_MWS } from '../money/pricing.js';
import type { PrepaidDelivery, PurchaseProgress } from '../prepaid.js';
import type {
  AgentState,
  PaymentOutcome,
  PurchaseDone,
  StateStore,
  TradeClosed,
  TradeDue,
  TradeEntry,
  TradeTaken,
} from '../store/state.js';

/** What the desk asks of the wallet-service (`WalletServiceClient` is one; tests pass a fake). */
export interface MarketSource {
  market(): Promise<MarketSnapshot>;
  ackTrade(tradeId: string): Promise<unknown>;
}

export const TRADE_PURCHASE_PREFIX = 'trade:';

export function purchaseIdOf(tradeId: string): string {
  return `${TRADE_PURCHASE_PREFIX}${tradeId}`;
}

/** The trade a prepaid purchase delivers, if it is a trade's. */
export function tradeIdOfPurchase(purchaseId: string): string | undefined {
  return purchaseId.startsWith(TRADE_PURCHASE_PREFIX)
    ? purchaseId.slice(TRADE_PURCHASE_PREFIX.length)
    : undefined;
}

export function tradedMWsOf(trade: Pick<TradeTaken, 'energyWh'>): bigint {
  return whToMWs(trade.energyWh);
}

/** How one trade stands, for the status snapshot and GET /trades. */
export type { MeterTradeView as TradeView } from '@tanglewatt/contract';

export interface TradeDeskOptions {
  source: MarketSource;
  state: StateStore;
  prepaid: PrepaidDelivery;
  clock: Clock;
  log: Logger;
  /** This household's wallet address: trades with it as buyer are ours. */
  buyer: string;
  ack: boolean;
  /** Hands a journaled trade payment to the payment outbox. */
  enqueue(due: TradeDue, request: PaymentRequest): void;
  onProblem(message: string): void;
  onChange(): void;
}

/**
 * Runs this household's market trades. It takes each trade the wallet-service's book shows with us as
 * buyer (journaled before anything happens), delivers it through a prepaid purchase inside the trade's
 * window (one trade at a time, in window order), pays the seller what the delivered energy is worth at the
 * trade's price after every period and at the end (each increment once: its key names the cumulative
 * amount owed), and closes it when delivered, or at the window's end with the shortfall recorded.
 */
export class TradeDesk {
  readonly #o: TradeDeskOptions;
  #queue: Promise<void> = Promise.resolve();
  #acked = new Set<string>();
  #warnedStale = new Set<string>();
  #lastPollError: string | undefined;

  constructor(options: TradeDeskOptions) {
    this.#o = options;
  }

  /** After a restart: re-queue unanswered trade payments. */
  resume(): void {
    const { state } = this.#o;
    for (const entry of state.state.trades.values())
      for (const due of entry.dues)
        if (!state.state.outcomes.has(due.key)) this.#o.enqueue(due, this.requestOf(entry, due));
  }

  /** The wallet-service request for a trade payment, rebuilt from its journal record the same way every time. */
  requestOf(entry: TradeEntry, due: TradeDue): PaymentRequest {
    const payment = tradePayment(
      entry.trade,
      BigInt(due.creditedMWs),
      BigInt(due.owedUnits) - BigInt(due.amount),
      due.closing,
    );
    if (!payment || payment.request.idempotencyKey !== due.key)
      throw new Error(`trade payment ${due.key} cannot be rebuilt from its journal record`);
    return payment.request;
  }

  /** Reads the book, takes new trades and acknowledges them; then moves every trade on. */
  poll(): Promise<void> {
    return this.#serial(async () => {
      let snapshot: MarketSnapshot | undefined;
      try {
        snapshot = await this.#o.source.market();
        this.#lastPollError = undefined;
      } catch (error) {
        const message = `reading the market failed: ${errorMessage(error)}`;
        if (message !== this.#lastPollError) this.#o.onProblem(message);
        this.#lastPollError = message;
      }
      if (snapshot) {
        for (const trade of snapshot.trades) if (trade.buyer === this.#o.buyer) await this.#take(trade);
        if (this.#o.ack) await this.#acknowledge(snapshot);
      }
      await this.#advance();
    });
  }

  /** Moves trades on without reading the book: window starts and ends (called every second or so). */
  tick(): Promise<void> {
    return this.#serial(() => this.#advance());
  }

  /** A period closed: pay what the trades delivered since the last payment. */
  onPeriodClosed(): Promise<void> {
    return this.#serial(async () => {
      for (const entry of this.#open()) if (this.#purchaseOf(entry)) await this.#settle(entry);
    });
  }

  /** A prepaid purchase ended; runs inside the sample chain, so it only queues the work. */
  onPurchaseDone(done: PurchaseDone): Promise<void> {
    if (tradeIdOfPurchase(done.id) !== undefined) void this.tick();
    return Promise.resolve();
  }

  views(limit = 20): TradeView[] {
    return [...this.#o.state.state.trades.values()]
      .slice(-limit)
      .reverse()
      .map((entry) => this.#view(entry));
  }

  /** Resolves when the work queued so far is done (tests, stop). */
  settled(): Promise<void> {
    return this.#queue;
  }

  #serial(op: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(op).catch((error) => this.#o.onProblem(`market: ${errorMessage(error)}`));
    this.#queue = next;
    return next;
  }

  async #take(trade: MarketTrade): Promise<void> {
    const { state, clock, log } = this.#o;
    if (state.state.trades.has(trade.id)) return;
    const nowMs = clock.nowMs();
    if (trade.window.endMs <= nowMs) {
      if (!this.#warnedStale.has(trade.id))
        log.info({ trade: trade.id }, 'market trade ended before this agent saw it: not taken');
      this.#warnedStale.add(trade.id);
      return;
    }
    const taken: TradeTaken = {
      id: trade.id,
      market: trade.market,
      seller: trade.seller,
      payTo: trade.payTo ?? trade.seller,
      energyWh: trade.energyWh,
      priceUnitsPerWh: trade.priceUnitsPerWh,
      window: { startMs: trade.window.startMs, endMs: trade.window.endMs },
      takenAtMs: nowMs,
    };
    await state.append({ kind: 'trade', trade: taken });
    log.info(
      {
        trade: trade.id,
        seller: taken.seller,
        energyWh: taken.energyWh,
        priceUnitsPerWh: taken.priceUnitsPerWh,
        window: taken.window,
      },
      'market trade taken',
    );
    this.#o.onChange();
  }

  async #acknowledge(snapshot: MarketSnapshot): Promise<void> {
    const ours = new Set(snapshot.acks.filter((a) => a.party === 'buyer').map((a) => a.tradeId));
    for (const entry of this.#open()) {
      const id = entry.trade.id;
      if (ours.has(id) || this.#acked.has(id)) continue;
      if (!snapshot.trades.some((t) => t.id === id)) continue;
      try {
        await this.#o.source.ackTrade(id);
        this.#acked.add(id);
      } catch (error) {
        this.#o.onProblem(`acknowledging trade ${id.slice(0, 16)} failed: ${errorMessage(error)}`);
      }
    }
  }

  /** Starts, ends and closes trades by the clock and the purchases' state. */
  async #advance(): Promise<void> {
    const { prepaid, clock } = this.#o;
    const nowMs = clock.nowMs();
    for (const entry of this.#open()) {
      const { trade } = entry;
      const purchase = this.#purchaseOf(entry);
      if (purchase?.done) await this.#close(entry, nowMs);
      else if (purchase) {
        if (nowMs >= trade.window.endMs) await prepaid.end(purchase.purchase.id, 'window-ended');
      } else if (nowMs >= trade.window.endMs) await this.#close(entry, nowMs);
    }
    if (prepaid.active) return;
    const next = this.#open()
      .filter((e) => !this.#purchaseOf(e) && e.trade.window.startMs <= nowMs && nowMs < e.trade.window.endMs)
      .sort(
        (a, b) => a.trade.window.startMs - b.trade.window.startMs || (a.trade.id < b.trade.id ? -1 : 1),
      )[0];
    if (!next) return;
    await prepaid.start(tradedMWsOf(next.trade), purchaseIdOf(next.trade.id));
    this.#o.log.info({ trade: next.trade.id }, 'market trade delivering');
    this.#o.onChange();
  }

  /** Journals a payment for whatever the trade owes beyond what it already asked for. */
  async #settle(entry: TradeEntry, closing?: TradeClosed['state']): Promise<void> {
    const creditedMWs = this.#creditedHalfNJOf(entry) / HALF_NJ_PER_MWS;
    const payment = tradePayment(entry.trade, creditedMWs, asked(entry), closing);
    if (!payment || entry.dues.some((d) => d.key === payment.request.idempotencyKey)) return;
    const due: TradeDue = {
      tradeId: entry.trade.id,
      key: payment.request.idempotencyKey,
      amount: payment.request.amount,
      owedUnits: payment.owedUnits.toString(),
      creditedMWs: creditedMWs.toString(),
      atMs: this.#o.clock.nowMs(),
      ...(closing ? { closing } : {}),
    };
    await this.#o.state.append({ kind: 'trade-due', due });
    this.#o.log.info({ trade: entry.trade.id, key: due.key, amount: due.amount }, 'market trade payment due');
    this.#o.enqueue(due, payment.request);
    this.#o.onChange();
  }

  async #close(entry: TradeEntry, nowMs: number): Promise<void> {
    const terms = termsOf(entry.trade);
    const creditedMWs = this.#creditedHalfNJOf(entry) / HALF_NJ_PER_MWS;
    const statement = deliveryStatement(terms, {
      deliveredMWs: creditedMWs,
      nowMs: Math.max(nowMs, entry.trade.window.endMs),
      paidUnits: asked(entry),
    });
    const state = statement.state === 'delivered' ? 'delivered' : 'shortfall';
    await this.#settle(entry, state);
    const closed: TradeClosed = {
      tradeId: entry.trade.id,
      state,
      creditedMWs: statement.creditedMWs.toString(),
      shortfallMWs: (statement.tradedMWs - statement.creditedMWs).toString(),
      owedUnits: statement.owedUnits.toString(),
      closedAtMs: nowMs,
    };
    await this.#o.state.append({ kind: 'trade-closed', closed });
    this.#o.log.info(
      {
        trade: entry.trade.id,
        state,
        creditedMWs: closed.creditedMWs,
        shortfallMWs: closed.shortfallMWs,
        owedUnits: closed.owedUnits,
      },
      'market trade closed',
    );
    this.#o.onChange();
  }

  #open(): TradeEntry[] {
    return [...this.#o.state.state.trades.values()].filter((e) => !e.closed);
  }

  #purchaseOf(entry: TradeEntry) {
    return this.#o.state.state.purchases.get(purchaseIdOf(entry.trade.id));
  }

  #creditedHalfNJOf(entry: TradeEntry): bigint {
    return creditedHalfNJOf(entry, this.#o.state.state, this.#o.prepaid.active);
  }

  #view(entry: TradeEntry): TradeView {
    const { trade, closed } = entry;
    const purchase = this.#purchaseOf(entry);
    const outcomes = this.#o.state.state.outcomes;
    const credited = this.#creditedHalfNJOf(entry) / HALF_NJ_PER_MWS;
    const owed = deliveryStatement(termsOf(trade), { deliveredMWs: credited, nowMs: 0 }).owedUnits;
    return {
      id: trade.id,
      seller: trade.seller,
      payTo: trade.payTo,
      energyWh: trade.energyWh,
      priceUnitsPerWh: trade.priceUnitsPerWh,
      window: trade.window,
      state: closed ? closed.state : purchase ? 'delivering' : 'waiting',
      creditedMWs: credited.toString(),
      shortfallMWs: closed?.shortfallMWs ?? '0',
      owedUnits: owed.toString(),
      paidUnits: entry.dues
        .filter((d) => accepted(outcomes.get(d.key)))
        .reduce((sum, d) => sum + BigInt(d.amount), 0n)
        .toString(),
      unanswered: entry.dues.filter((d) => !outcomes.has(d.key)).length,
    };
  }
}

/**
 * The payment for a trade that has `creditedMWs` delivered and `askedUnits` already asked for: what the
 * delivered energy is worth at the trade's price, floored, less what was asked. A pure function of its
 * inputs, so a journaled payment rebuilds to the same request (same key, same metadata) after a restart.
 */
export function tradePayment(
  trade: TradeTaken,
  creditedMWs: bigint,
  askedUnits: bigint,
  closing?: TradeClosed['state'],
): { request: PaymentRequest; owedUnits: bigint } | undefined {
  const terms = termsOf(trade);
  const statement = deliveryStatement(terms, {
    deliveredMWs: creditedMWs,
    nowMs: trade.window.startMs,
    paidUnits: askedUnits,
  });
  const request = settlementRequest(
    terms,
    { ...statement, state: closing ?? (statement.state === 'delivered' ? 'delivered' : 'delivering') },
    trade.payTo,
  );
  return request && { request, owedUnits: statement.owedUnits };
}

/** Energy credited to one trade (half-nJ): delivered under its purchase, capped at the trade. */
export function creditedHalfNJOf(
  entry: TradeEntry,
  state: AgentState,
  active: PurchaseProgress | undefined,
): bigint {
  const cap = tradedMWsOf(entry.trade) * HALF_NJ_PER_MWS;
  const purchase = state.purchases.get(purchaseIdOf(entry.trade.id));
  if (!purchase) return 0n;
  const delivered = purchase.done
    ? BigInt(purchase.done.deliveredHalfNJ)
    : active?.purchase.id === purchase.purchase.id
      ? active.deliveredHalfNJ
      : 0n;
  return delivered < cap ? delivered : cap;
}

/** Energy credited to all trades so far: what periods leave out of their own payments. */
export function tradesCreditedHalfNJ(state: AgentState, active: PurchaseProgress | undefined): bigint {
  let total = 0n;
  for (const entry of state.trades.values()) total += creditedHalfNJOf(entry, state, active);
  return total;
}

function termsOf({ id, market, energyWh, priceUnitsPerWh, window }: TradeTaken): TradeTerms {
  return { id, market, energyWh, priceUnitsPerWh, window };
}

/** What the trade's payments asked for so far (answered or not): never asked twice. */
function asked(entry: TradeEntry): bigint {
  return entry.dues.reduce((sum, d) => sum + BigInt(d.amount), 0n);
}

function accepted(outcome: PaymentOutcome | undefined): boolean {
  return outcome?.result === 'accepted';
}
