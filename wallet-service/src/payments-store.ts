import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Payment, PaymentRequest, PaymentState } from '@tanglewatt/contract';
import { CompactOnGrowth, type FileLayer, Journal, JournalFailedError } from '@tanglewatt/journal';
import { IdempotencyConflictError, NotCancellableError } from './errors.js';
import { compactPaymentEvents } from './payments-compaction.js';
import {
  type PaymentEvent,
  PaymentsState,
  type StoredPayment,
  type StoredTransaction,
  type TransactionKind,
  type TransactionState,
} from './payments-state.js';

export type { StoredTransaction, TransactionKind, TransactionState } from './payments-state.js';

/**
 * The payment outbox and the transactions made for it, kept as an append-only journal of events.
 * A request is durable before it is acknowledged; a signed transaction is durable before it is posted,
 * so after a crash the very same transaction (same id) is re-posted rather than a second one built.
 */

function samePayment(a: StoredPayment, request: PaymentRequest): boolean {
  const shares = (p: { role: string; to: string; amount: string }[] | undefined) =>
    JSON.stringify((p ?? []).map(({ role, to, amount }) => [role, to, amount]));
  return (
    a.to === request.to &&
    a.amount === request.amount &&
    JSON.stringify(a.metadata ?? {}) === JSON.stringify(request.metadata ?? {}) &&
    shares(a.shares) === shares(request.shares)
  );
}

/** How each share goes out, in the request's order. */
export type ShareKinds = { micro: boolean; depositUnits?: bigint }[];

export class PaymentsStore extends EventEmitter<{
  payment: [Payment];
  transaction: [StoredTransaction];
  /** The journal refused a write: nothing more can be recorded until the service restarts. */
  failed: [JournalFailedError];
}> {
  private readonly state = new PaymentsState();
  /**
   * Keys a step is working on right now (being signed, or being cancelled): neither may start on a key the
   * other holds, so a payment is never both cancelled and paid.
   */
  private readonly busy = new Set<string>();
  private failedReported = false;
  /** The last request in line for each key, so requests for one key never overlap. */
  private readonly keyQueues = new Map<string, Promise<void>>();
  private readonly compaction: CompactOnGrowth<PaymentEvent>;

  private constructor(
    private readonly journal: Journal<PaymentEvent>,
    compactAfterBytes: number,
  ) {
    super();
    this.compaction = new CompactOnGrowth(journal, (e) => compactPaymentEvents(e).events, compactAfterBytes);
  }

  /** The journal is compacted (see payments-compaction.ts) on open and after growing by `compactAfterBytes`. */
  static async open(
    dataDir: string,
    options: { compactAfterBytes?: number; files?: FileLayer } = {},
  ): Promise<PaymentsStore> {
    const opened = await Journal.open<PaymentEvent>(join(dataDir, 'payments.journal'), {
      files: options.files,
    });
    const { events, changed } = compactPaymentEvents(opened.records);
    if (changed > 0) await opened.journal.rewrite(events);
    const store = new PaymentsStore(opened.journal, options.compactAfterBytes ?? 4 * 1024 * 1024);
    for (const event of events) store.apply(event, false);
    return store;
  }

  close(): Promise<void> {
    return this.journal.close();
  }

  /**
   * Records a payment request. The same key with the same content returns the existing payment
   * (`created: false`); the same key with other content is refused.
   */
  async request(
    request: PaymentRequest,
    options: { micro: boolean; depositUnits?: bigint; shares?: ShareKinds },
  ): Promise<{ payment: Payment; created: boolean }> {
    // Requests for one key run one after another, so only the first ever reaches the journal: the one
    // answered 202 is the one stored, replayed and paid.
    const key = request.idempotencyKey;
    const before = this.keyQueues.get(key) ?? Promise.resolve();
    const mine = before.then(() => this.requestInOrder(request, options));
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.keyQueues.set(key, settled);
    void settled.then(() => {
      if (this.keyQueues.get(key) === settled) this.keyQueues.delete(key);
    });
    return mine;
  }

  private async requestInOrder(
    request: PaymentRequest,
    options: { micro: boolean; depositUnits?: bigint; shares?: ShareKinds },
  ): Promise<{ payment: Payment; created: boolean }> {
    const existing = this.state.payments.get(request.idempotencyKey);
    if (existing) {
      if (!samePayment(existing, request)) throw new IdempotencyConflictError(request.idempotencyKey);
      return { payment: this.view(existing), created: false };
    }
    const event: PaymentEvent = {
      t: 'requested',
      at: new Date().toISOString(),
      key: request.idempotencyKey,
      to: request.to,
      amount: request.amount,
      ...(request.metadata ? { metadata: request.metadata } : {}),
      micro: options.micro,
      ...(options.depositUnits !== undefined ? { depositUnits: options.depositUnits.toString() } : {}),
      ...(request.shares?.length
        ? {
            shares: request.shares.map((share, i) => {
              const kind = options.shares?.[i] ?? { micro: false };
              return {
                ...share,
                micro: kind.micro,
                ...(kind.depositUnits !== undefined ? { depositUnits: kind.depositUnits.toString() } : {}),
              };
            }),
          }
        : {}),
    };
    await this.append(event);
    this.apply(event, true);
    return { payment: this.view(this.state.payments.get(request.idempotencyKey)!), created: true };
  }

  async recordSigned(tx: Omit<StoredTransaction, 'state' | 'blockIds' | 'signedAt'>): Promise<void> {
    await this.commit({ t: 'signed', at: new Date().toISOString(), ...tx });
  }

  async recordPosted(txId: string, blockId: string): Promise<void> {
    await this.commit({ t: 'posted', at: new Date().toISOString(), txId, blockId });
  }

  async recordIncluded(
    txId: string,
    blockId: string,
    milestoneIndex: number,
    milestoneTimestamp: number,
  ): Promise<void> {
    await this.commit({
      t: 'included',
      at: new Date().toISOString(),
      txId,
      blockId,
      milestoneIndex,
      milestoneTimestamp,
    });
  }

  async recordConflicting(txId: string, reason: string, options: { rejected?: boolean } = {}): Promise<void> {
    await this.commit({
      t: 'conflicting',
      at: new Date().toISOString(),
      txId,
      reason,
      ...(options.rejected ? { rejected: true } : {}),
    });
  }

  /** Payments that the transaction `txId` (not ours, or one we no longer follow) carried to their payees. */
  async recordIncludedElsewhere(
    winner: { txId: string; blockId: string; milestoneIndex: number; milestoneTimestamp: number },
    items: { key: string; outputId: string }[],
  ): Promise<void> {
    if (items.length === 0) return;
    await this.commit({ t: 'includedElsewhere', at: new Date().toISOString(), ...winner, items });
  }

  /** Payments nothing more can be done for (e.g. the payee address is not of this network). */
  async recordFailed(keys: string[], reason: string): Promise<void> {
    if (keys.length === 0) return;
    await this.commit({ t: 'failed', at: new Date().toISOString(), keys, reason });
  }

  /**
   * Cancels a payment no transaction carries yet. Cancelling a cancelled payment again is a no-op;
   * one that is signed, included or failed cannot be cancelled.
   */
  async cancel(key: string): Promise<Payment | undefined> {
    const p = this.state.payments.get(key);
    if (!p) return undefined;
    if (p.state === 'cancelled') return this.view(p);
    if (this.busy.has(key) || p.txId !== undefined)
      throw new NotCancellableError(
        `payment "${key}" is already signed${p.txId ? ` in transaction ${p.txId}` : ''}: it can no longer be cancelled`,
      );
    if (p.state === 'included')
      throw new NotCancellableError(
        `payment "${key}" is already included in transaction ${p.transactionId}: it can no longer be cancelled`,
      );
    if (p.state === 'failed')
      throw new NotCancellableError(`payment "${key}" has failed (${p.error}): nothing is left to cancel`);
    this.busy.add(key);
    try {
      await this.commit({ t: 'cancelled', at: new Date().toISOString(), key });
    } finally {
      this.busy.delete(key);
    }
    return this.view(p);
  }

  /**
   * Claims keys for signing. False (and nothing held) when any of them is being cancelled, cancelled or no
   * longer waiting; otherwise the caller must `release` them once the signed transaction is journaled.
   */
  hold(keys: string[]): boolean {
    const waiting = (k: string) => {
      const p = this.state.payments.get(k);
      return (
        p !== undefined &&
        !this.busy.has(k) &&
        p.txId === undefined &&
        (p.state === 'queued' || p.state === 'conflicting')
      );
    };
    if (!keys.every(waiting)) return false;
    for (const k of keys) this.busy.add(k);
    return true;
  }

  release(keys: string[]): void {
    for (const k of keys) this.busy.delete(k);
  }

  /**
   * Records that a transaction this store did not sign (another copy of this wallet: a restored backup, a
   * second data dir) made a payment: a waiting payment with the same key, payee and amount is done, and a
   * key not seen yet is remembered as paid, so a later request for it is answered, not paid again.
   */
  async adopt(payment: Omit<Extract<PaymentEvent, { t: 'adopted' }>, 't' | 'at'>): Promise<boolean> {
    const existing = this.state.payments.get(payment.key);
    if (existing?.state === 'included') return false;
    if (existing && (existing.to !== payment.to || existing.amount !== payment.amount)) return false;
    await this.commit({ t: 'adopted', at: new Date().toISOString(), ...payment });
    return true;
  }

  /** Every output any transaction of this store spends or tried to spend. */
  knownInputs(): Set<string> {
    return new Set([...this.state.transactions.values()].flatMap((t) => t.inputs));
  }

  /** A note on why a payment waits (e.g. not enough funds); shown to callers, cleared by progress. */
  async note(key: string, message: string): Promise<void> {
    if (this.state.payments.get(key)?.error === message) return;
    await this.commit({ t: 'note', at: new Date().toISOString(), key, message });
  }

  /** Appends to the journal; a journal that failed (full disk, failed sync) is reported once as `failed`. */
  private async append(event: PaymentEvent): Promise<void> {
    try {
      await this.journal.append(event);
    } catch (error) {
      if (error instanceof JournalFailedError && !this.failedReported) {
        this.failedReported = true;
        this.emit('failed', error);
      }
      throw error;
    }
  }

  private async commit(event: PaymentEvent): Promise<void> {
    await this.append(event);
    this.apply(event, true);
    this.compaction.check();
  }

  private apply(event: PaymentEvent, emit: boolean): void {
    const { touched, tx } = this.state.apply(event);
    if (!emit) return;
    if (tx) this.emit('transaction', tx);
    for (const p of touched) this.emit('payment', this.view(p));
  }

  private view(p: StoredPayment): Payment {
    const { txId: _txId, sequence: _sequence, rejections: _rejections, ...payment } = p;
    return payment;
  }

  get(key: string): Payment | undefined {
    const p = this.state.payments.get(key);
    return p ? this.view(p) : undefined;
  }

  /** Payments waiting for a transaction, oldest first. */
  awaitingTransaction(): Payment[] {
    return [...this.state.payments.values()]
      .filter(
        (p) =>
          p.txId === undefined &&
          !this.busy.has(p.idempotencyKey) &&
          (p.state === 'queued' || p.state === 'conflicting'),
      )
      .sort((a, b) => a.sequence - b.sequence)
      .map((p) => this.view(p));
  }

  /**
   * Every block this service posted, newest first: Stardust cannot look blocks up by tag, so this is
   * how our own tagged blocks are found again.
   */
  postedBlocks(
    limit = 100,
  ): { blockId: string; transactionId: string; kind: TransactionKind; state: TransactionState }[] {
    const all = [...this.state.transactions.values()].flatMap((t) =>
      t.blockIds.map((blockId) => ({
        blockId,
        transactionId: t.txId,
        kind: t.kind,
        state: t.state,
        at: t.lastPostedAt ?? t.signedAt,
      })),
    );
    return all
      .sort((a, b) => (a.at < b.at ? 1 : -1))
      .slice(0, limit)
      .map(({ at: _at, ...block }) => block);
  }

  /** Payments not settled for good yet (not included, cancelled or failed), oldest first. */
  unsettled(): Payment[] {
    return [...this.state.payments.values()]
      .filter((p) => p.state === 'queued' || p.state === 'submitted' || p.state === 'conflicting')
      .sort((a, b) => a.sequence - b.sequence)
      .map((p) => this.view(p));
  }

  /** Transactions signed or posted and not yet final. */
  /** Every transaction journaled (kept until compaction), oldest first. */
  allTransactions(): StoredTransaction[] {
    return [...this.state.transactions.values()];
  }

  openTransactions(): StoredTransaction[] {
    return [...this.state.transactions.values()].filter((t) => t.state === 'signed' || t.state === 'posted');
  }

  /** Transactions included by a milestone after `milestoneIndex`. */
  includedAfter(milestoneIndex: number): StoredTransaction[] {
    return [...this.state.transactions.values()].filter(
      (t) => t.state === 'included' && (t.milestoneIndex ?? 0) > milestoneIndex,
    );
  }

  transaction(txId: string): StoredTransaction | undefined {
    return this.state.transactions.get(txId);
  }

  list(
    filter: { state?: PaymentState; periodId?: string; peer?: string; limit?: number; offset?: number } = {},
  ): {
    total: number;
    items: Payment[];
  } {
    const all = [...this.state.payments.values()]
      .filter(
        (p) =>
          (!filter.state || p.state === filter.state) &&
          (!filter.periodId || p.metadata?.periodId === filter.periodId) &&
          (!filter.peer || p.to === filter.peer),
      )
      .sort((a, b) => b.sequence - a.sequence);
    const offset = filter.offset ?? 0;
    return {
      total: all.length,
      items: all.slice(offset, offset + (filter.limit ?? 100)).map((p) => this.view(p)),
    };
  }
}
