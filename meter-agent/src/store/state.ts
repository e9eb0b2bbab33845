import { join } from 'node:path';
import type {
  ChannelBlockRefs,
  PaymentOutcome,
  AgentPaymentState as PaymentState,
  PeriodRecord,
} from '@tanglewatt/contract';
import { Journal } from '@tanglewatt/journal';
import { readJournalFile } from './journal-reader.js';

/** A closed period and what it asks of the outbox: journaled here, served as is by the read API. */
export type {
  ChannelBlockRefs,
  PaymentIntent,
  PeriodChannel,
  PeriodRecord,
  Role,
} from '@tanglewatt/contract';

export interface ChannelRootRecord {
  periodId: string;
  root: string;
  fromSeq: number;
  toSeq: number;
  /** Set once the period's messages are posted (older journals have none). */
  refs?: ChannelBlockRefs;
}

/** The readings hash a period's payment names: the channel's root when there is a channel. */
export function paymentReadingsHash(period: PeriodRecord): string {
  return period.channel?.root ?? period.readingsHash;
}

/** A period whose channel root is not known yet (its payment waits for it). */
export function awaitingChannelRoot(period: PeriodRecord): boolean {
  return period.channel !== undefined && period.channel.root === undefined;
}

/** The wallet-service's final word on a period's payment. */
export type { PaymentOutcome } from '@tanglewatt/contract';

export interface PurchaseRecord {
  id: string;
  energyMWs: string;
  startMs: number;
}

export interface PurchaseDone {
  id: string;
  deliveredHalfNJ: string;
  deliveredMWs: string;
  endMs: number;
  /** `window-ended`: a market trade's delivery window closed before the energy was all there. */
  reason: 'delivered' | 'cancelled' | 'window-ended';
}

/** A market trade this agent's household buys, as the agent took it from its wallet-service's book. */
export interface TradeTaken {
  /** The trade id (sha256 hex): also names its prepaid purchase (`trade:<id>`) and payment keys. */
  id: string;
  market: string;
  seller: string;
  /** Where its payments go: the sell order's payTo, else the seller's address. */
  payTo: string;
  energyWh: number;
  priceUnitsPerWh: string;
  window: { startMs: number; endMs: number };
  takenAtMs: number;
}

/** A payment the trade owes after more of it was delivered (each increment once, by its key). */
export interface TradeDue {
  tradeId: string;
  /** `market/<tradeId>/<owed so far>`: the same key for the same increment after any restart. */
  key: string;
  amount: string;
  owedUnits: string;
  creditedMWs: string;
  atMs: number;
  /** Set on the payment made as the trade closed: how it closed (named in the payment's note). */
  closing?: 'delivered' | 'shortfall';
}

/** How a trade ended: all delivered, or the window closed short (the shortfall recorded). */
export interface TradeClosed {
  tradeId: string;
  state: 'delivered' | 'shortfall';
  creditedMWs: string;
  shortfallMWs: string;
  owedUnits: string;
  closedAtMs: number;
}

export interface TradeEntry {
  trade: TradeTaken;
  dues: TradeDue[];
  closed?: TradeClosed;
}

export type StateRecord =
  | { kind: 'period'; period: PeriodRecord; outcome?: PaymentOutcome }
  | { kind: 'payment'; outcome: PaymentOutcome }
  | { kind: 'channel-root'; root: ChannelRootRecord }
  | { kind: 'purchase'; purchase: PurchaseRecord; done?: PurchaseDone }
  | { kind: 'purchase-done'; done: PurchaseDone }
  | { kind: 'trade'; trade: TradeTaken; dues?: TradeDue[]; closed?: TradeClosed }
  | { kind: 'trade-due'; due: TradeDue }
  | { kind: 'trade-closed'; closed: TradeClosed };

/** Where a period's payment stands, in the agent's words. */
export type { AgentPaymentState as PaymentState } from '@tanglewatt/contract';

export interface AgentState {
  periods: PeriodRecord[];
  outcomes: Map<string, PaymentOutcome>;
  purchases: Map<string, { purchase: PurchaseRecord; done?: PurchaseDone }>;
  /** Market trades taken, in the order they were taken. */
  trades: Map<string, TradeEntry>;
}

export function emptyState(): AgentState {
  return { periods: [], outcomes: new Map(), purchases: new Map(), trades: new Map() };
}

export function applyRecord(state: AgentState, record: StateRecord): void {
  switch (record.kind) {
    case 'period':
      state.periods.push(record.period);
      if (record.outcome) state.outcomes.set(record.outcome.key, record.outcome);
      break;
    case 'payment':
      state.outcomes.set(record.outcome.key, record.outcome);
      break;
    case 'channel-root': {
      const { periodId, root, fromSeq, toSeq, refs } = record.root;
      const period = state.periods.findLast((p) => p.id === periodId);
      if (period?.channel)
        period.channel = { ...period.channel, root, fromSeq, toSeq, ...(refs ? { refs } : {}) };
      break;
    }
    case 'purchase':
      state.purchases.set(record.purchase.id, {
        purchase: record.purchase,
        ...(record.done ? { done: record.done } : {}),
      });
      break;
    case 'purchase-done': {
      const entry = state.purchases.get(record.done.id);
      if (entry) entry.done = record.done;
      break;
    }
    case 'trade':
      state.trades.set(record.trade.id, {
        trade: record.trade,
        dues: [...(record.dues ?? [])],
        ...(record.closed ? { closed: record.closed } : {}),
      });
      break;
    case 'trade-due':
      state.trades.get(record.due.tradeId)?.dues.push(record.due);
      break;
    case 'trade-closed': {
      const entry = state.trades.get(record.closed.tradeId);
      if (entry) entry.closed = record.closed;
      break;
    }
  }
}

export function foldState(records: readonly StateRecord[]): AgentState {
  const state = emptyState();
  for (const r of records) applyRecord(state, r);
  state.periods.sort((a, b) => a.seq - b.seq);
  return state;
}

export function paymentState(period: PeriodRecord, outcomes: Map<string, PaymentOutcome>): PaymentState {
  if (period.payment.state === 'due') return outcomes.get(period.payment.key)?.result ?? 'queued';
  return period.payment.state;
}

/** Trade payments the wallet-service has not answered yet. */
export function unsettledTradeDues(state: AgentState): TradeDue[] {
  return [...state.trades.values()].flatMap((t) => t.dues.filter((d) => !state.outcomes.has(d.key)));
}

/** Periods whose payment the wallet-service has not answered yet: the outbox after a restart. */
export function unsettled(state: AgentState): PeriodRecord[] {
  return state.periods.filter((p) => paymentState(p, state.outcomes) === 'queued');
}

export const STATE_FILE = 'state.journal';

/** Reads the state journal without taking it over (for `status` and `periods` while the agent runs). */
export async function readState(dataDir: string): Promise<AgentState> {
  return foldState((await readJournalFile<StateRecord>(join(dataDir, STATE_FILE))).records);
}

/** Settled periods kept by compaction; the newest are kept, with everything still unsettled. */
const KEEP_SETTLED_PERIODS = 10_000;

/**
 * The agent's durable state: closed periods (each carrying its payment intent: the outbox), payment
 * outcomes and prepaid purchases. Writes are serialised, so a compaction never races an append.
 */
export class StateStore {
  #queue: Promise<unknown> = Promise.resolve();
  #records: number;

  private constructor(
    private readonly journal: Journal<StateRecord>,
    readonly state: AgentState,
    records: number,
  ) {
    this.#records = records;
  }

  static async open(dataDir: string): Promise<StateStore> {
    const { journal, records } = await Journal.open<StateRecord>(join(dataDir, STATE_FILE));
    return new StateStore(journal, foldState(records), records.length);
  }

  /** Journals the record (durably) and then applies it to `state`. */
  append(record: StateRecord): Promise<void> {
    return this.#serial(async () => {
      await this.journal.append(record);
      applyRecord(this.state, record);
      this.#records++;
    });
  }

  /**
   * Rewrites the journal as one record per period and purchase once at least 100 records, and half as
   * many as there are periods, are redundant (payment outcomes merge into their periods), or once there
   * are 1000 more settled periods than are kept. Each rewrite costs O(n) every n/2 periods at most.
   */
  compactIfWorthIt(): Promise<boolean> {
    return this.#serial(async () => {
      const live = this.state.periods.length + this.state.purchases.size + this.state.trades.size;
      const redundant = this.#records - live;
      const trim = this.state.periods.length > KEEP_SETTLED_PERIODS + 1000;
      if (redundant < Math.max(100, live / 2) && !trim) return false;
      const keepFrom = Math.max(0, this.state.periods.length - KEEP_SETTLED_PERIODS);
      const periods = this.state.periods.filter(
        (p, i) => i >= keepFrom || paymentState(p, this.state.outcomes) === 'queued',
      );
      const records: StateRecord[] = periods.map((period) => {
        const outcome =
          period.payment.state === 'due' ? this.state.outcomes.get(period.payment.key) : undefined;
        return outcome ? { kind: 'period', period, outcome } : { kind: 'period', period };
      });
      for (const { purchase, done } of this.state.purchases.values())
        records.push(done ? { kind: 'purchase', purchase, done } : { kind: 'purchase', purchase });
      for (const { trade, dues, closed } of this.state.trades.values()) {
        records.push(closed ? { kind: 'trade', trade, dues, closed } : { kind: 'trade', trade, dues });
        for (const due of dues) {
          const outcome = this.state.outcomes.get(due.key);
          if (outcome) records.push({ kind: 'payment', outcome });
        }
      }
      await this.journal.rewrite(records);
      this.#records = records.length;
      const kept = foldState(records);
      this.state.periods.splice(0, this.state.periods.length, ...kept.periods);
      return true;
    });
  }

  get recordCount(): number {
    return this.#records;
  }

  close(): Promise<void> {
    return this.#serial(() => this.journal.close());
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(op, op);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
