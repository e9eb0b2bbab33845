import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Payment, PaymentMetadata, PaymentRequest, PaymentState } from '@tanglewatt/contract';
import { CompactOnGrowth, type FileLayer, Journal, JournalFailedError } from '@tanglewatt/journal';
import { outputIdOf } from '@tanglewatt/ledger';
import { IdempotencyConflictError, NotCancellableError } from './errors.js';
import { compactPaymentEvents } from './payments-compaction.js';

/**
 * The payment outbox and the transactions made for it, kept as an append-only journal of events.
 * A request is durable before it is acknowledged; a signed transaction is durable before it is posted,
 * so after a crash the very same transaction (same id) is re-posted rather than a second one built.
 */

export type TransactionKind = 'payments' | 'claim' | 'consolidation';

type Event =
  | {
      t: 'requested';
      at: string;
      key: string;
      to: string;
      amount: string;
      metadata?: PaymentMetadata;
      micro: boolean;
      depositUnits?: string;
    }
  | {
      t: 'signed';
      at: string;
      txId: string;
      kind: TransactionKind;
      keys: string[];
      /** Essence output index of each key's payment, same order as `keys`. */
      outputIndexes: number[];
      inputs: string[];
      payloadJson: string;
    }
  | { t: 'posted'; at: string; txId: string; blockId: string }
  | {
      t: 'included';
      at: string;
      txId: string;
      blockId: string;
      milestoneIndex: number;
      milestoneTimestamp: number;
    }
  | {
      t: 'conflicting';
      at: string;
      txId: string;
      reason: string;
      /**
       * The ledger refused the transaction itself (not a lost race for an input): its payments get one
       * more transaction from fresh inputs, and fail if that one is refused too.
       */
      rejected?: boolean;
    }
  | {
      /** Another transaction (the one that won our input) already paid these payments. */
      t: 'includedElsewhere';
      at: string;
      txId: string;
      blockId: string;
      milestoneIndex: number;
      milestoneTimestamp: number;
      items: { key: string; outputId: string }[];
    }
  | { t: 'cancelled'; at: string; key: string }
  | { t: 'failed'; at: string; keys: string[]; reason: string }
  | { t: 'note'; at: string; key: string; message: string }
  | {
      /** A payment found made by a transaction this store did not sign (another copy of this wallet). */
      t: 'adopted';
      at: string;
      key: string;
      to: string;
      amount: string;
      metadata?: PaymentMetadata;
      txId: string;
      outputId: string;
      blockId: string;
      milestoneIndex: number;
      milestoneTimestamp: number;
    };

export type TransactionState = 'signed' | 'posted' | 'included' | 'conflicting';

export interface StoredTransaction {
  txId: string;
  kind: TransactionKind;
  keys: string[];
  outputIndexes: number[];
  inputs: string[];
  payloadJson: string;
  state: TransactionState;
  blockIds: string[];
  signedAt: string;
  lastPostedAt?: string;
  milestoneIndex?: number;
}

interface Internal extends Payment {
  /** The transaction currently carrying this payment, if any. */
  txId?: string;
  sequence: number;
  /** Transactions of this payment the ledger itself refused (not counting lost races). */
  rejections: number;
}

function samePayment(a: Internal, request: PaymentRequest): boolean {
  return (
    a.to === request.to &&
    a.amount === request.amount &&
    JSON.stringify(a.metadata ?? {}) === JSON.stringify(request.metadata ?? {})
  );
}

export class PaymentsStore extends EventEmitter<{
  payment: [Payment];
  transaction: [StoredTransaction];
  /** The journal refused a write: nothing more can be recorded until the service restarts. */
  failed: [JournalFailedError];
}> {
  private readonly payments = new Map<string, Internal>();
  private readonly transactions = new Map<string, StoredTransaction>();
  /** Micro-payment outputs created for included payments, by output id: to notice when we take one back. */
  private readonly microOutputs = new Map<string, string>();
  /**
   * Keys a step is working on right now (being signed, or being cancelled): neither may start on a key the
   * other holds, so a payment is never both cancelled and paid.
   */
  private readonly busy = new Set<string>();
  private sequence = 0;
  private failedReported = false;
  /** The last request in line for each key, so requests for one key never overlap. */
  private readonly keyQueues = new Map<string, Promise<void>>();
  private readonly compaction: CompactOnGrowth<Event>;

  private constructor(
    private readonly journal: Journal<Event>,
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
    const opened = await Journal.open<Event>(join(dataDir, 'payments.journal'), { files: options.files });
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
    options: { micro: boolean; depositUnits?: bigint },
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
    options: { micro: boolean; depositUnits?: bigint },
  ): Promise<{ payment: Payment; created: boolean }> {
    const existing = this.payments.get(request.idempotencyKey);
    if (existing) {
      if (!samePayment(existing, request)) throw new IdempotencyConflictError(request.idempotencyKey);
      return { payment: this.view(existing), created: false };
    }
    const event: Event = {
      t: 'requested',
      at: new Date().toISOString(),
      key: request.idempotencyKey,
      to: request.to,
      amount: request.amount,
      ...(request.metadata ? { metadata: request.metadata } : {}),
      micro: options.micro,
      ...(options.depositUnits !== undefined ? { depositUnits: options.depositUnits.toString() } : {}),
    };
    await this.append(event);
    this.apply(event, true);
    return { payment: this.view(this.payments.get(request.idempotencyKey)!), created: true };
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
    const p = this.payments.get(key);
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
      const p = this.payments.get(k);
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
  async adopt(payment: Omit<Extract<Event, { t: 'adopted' }>, 't' | 'at'>): Promise<boolean> {
    const existing = this.payments.get(payment.key);
    if (existing?.state === 'included') return false;
    if (existing && (existing.to !== payment.to || existing.amount !== payment.amount)) return false;
    await this.commit({ t: 'adopted', at: new Date().toISOString(), ...payment });
    return true;
  }

  /** Every output any transaction of this store spends or tried to spend. */
  knownInputs(): Set<string> {
    return new Set([...this.transactions.values()].flatMap((t) => t.inputs));
  }

  /** A note on why a payment waits (e.g. not enough funds); shown to callers, cleared by progress. */
  async note(key: string, message: string): Promise<void> {
    if (this.payments.get(key)?.error === message) return;
    await this.commit({ t: 'note', at: new Date().toISOString(), key, message });
  }

  /** Appends to the journal; a journal that failed (full disk, failed sync) is reported once as `failed`. */
  private async append(event: Event): Promise<void> {
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

  private async commit(event: Event): Promise<void> {
    await this.append(event);
    this.apply(event, true);
    this.compaction.check();
  }

  private apply(event: Event, emit: boolean): void {
    const touched: Internal[] = [];
    let tx: StoredTransaction | undefined;
    switch (event.t) {
      case 'requested': {
        // The first request for a key is the payment; a later one (journals written before requests for
        // one key were put in line could hold two) never replaces it.
        if (this.payments.has(event.key)) return;
        const payment: Internal = {
          idempotencyKey: event.key,
          to: event.to,
          amount: event.amount,
          ...(event.metadata ? { metadata: event.metadata } : {}),
          state: 'queued',
          micro: event.micro,
          ...(event.depositUnits ? { depositUnits: event.depositUnits } : {}),
          attempts: 0,
          createdAt: event.at,
          updatedAt: event.at,
          sequence: this.sequence++,
          rejections: 0,
        };
        this.payments.set(event.key, payment);
        touched.push(payment);
        break;
      }
      case 'signed': {
        tx = {
          txId: event.txId,
          kind: event.kind,
          keys: event.keys,
          outputIndexes: event.outputIndexes,
          inputs: event.inputs,
          payloadJson: event.payloadJson,
          state: 'signed',
          blockIds: [],
          signedAt: event.at,
        };
        this.transactions.set(event.txId, tx);
        event.keys.forEach((key, i) => {
          const p = this.payments.get(key);
          if (!p) return;
          p.txId = event.txId;
          p.transactionId = event.txId;
          p.outputId = outputIdOf(event.txId, event.outputIndexes[i]!);
          p.attempts += 1;
          p.state = 'queued';
          delete p.blockId;
          delete p.error;
          p.updatedAt = event.at;
          touched.push(p);
        });
        break;
      }
      case 'posted': {
        tx = this.transactions.get(event.txId);
        if (!tx) return;
        tx.blockIds.push(event.blockId);
        tx.lastPostedAt = event.at;
        if (tx.state === 'signed') tx.state = 'posted';
        for (const p of this.paymentsOf(tx)) {
          if (p.state === 'included') continue;
          p.state = 'submitted';
          p.blockId ??= event.blockId;
          p.updatedAt = event.at;
          touched.push(p);
        }
        break;
      }
      case 'included': {
        tx = this.transactions.get(event.txId);
        if (!tx) return;
        tx.state = 'included';
        tx.milestoneIndex = event.milestoneIndex;
        // A payload no longer needed once included: drop it to keep memory small.
        tx.payloadJson = '';
        for (const p of this.paymentsOf(tx)) {
          p.state = 'included';
          p.blockId = event.blockId;
          p.milestoneIndex = event.milestoneIndex;
          p.milestoneTimestamp = event.milestoneTimestamp;
          delete p.error;
          p.updatedAt = event.at;
          if (p.micro && p.outputId) this.microOutputs.set(p.outputId, p.idempotencyKey);
          touched.push(p);
        }
        // One of our own transactions spent a micro-payment we sent: its payee never claimed it before it
        // expired, so the money is still owed. Back to the queue, to be paid by a new output.
        for (const input of tx.inputs) {
          const key = this.microOutputs.get(input);
          const p = key ? this.payments.get(key) : undefined;
          if (p?.state !== 'included') continue;
          this.microOutputs.delete(input);
          p.state = 'queued';
          p.error = `micro-payment output ${input} expired unclaimed and came back to this wallet in transaction ${tx.txId}; paying it again`;
          delete p.txId;
          delete p.blockId;
          delete p.milestoneIndex;
          delete p.milestoneTimestamp;
          p.updatedAt = event.at;
          touched.push(p);
        }
        break;
      }
      case 'conflicting': {
        tx = this.transactions.get(event.txId);
        if (!tx) return;
        tx.state = 'conflicting';
        tx.payloadJson = '';
        for (const p of this.paymentsOf(tx)) {
          delete p.txId;
          p.updatedAt = event.at;
          touched.push(p);
          if (event.rejected && p.rejections >= 1) {
            p.state = 'failed';
            p.error = `the ledger refused its transaction twice: ${event.reason}`;
            continue;
          }
          if (event.rejected) p.rejections += 1;
          p.state = 'conflicting';
          p.error = event.reason;
        }
        break;
      }
      case 'includedElsewhere': {
        for (const item of event.items) {
          const p = this.payments.get(item.key);
          if (!p || p.state === 'included' || p.state === 'cancelled') continue;
          p.state = 'included';
          p.transactionId = event.txId;
          p.outputId = item.outputId;
          p.blockId = event.blockId;
          p.milestoneIndex = event.milestoneIndex;
          p.milestoneTimestamp = event.milestoneTimestamp;
          delete p.txId;
          delete p.error;
          p.updatedAt = event.at;
          if (p.micro) this.microOutputs.set(item.outputId, p.idempotencyKey);
          touched.push(p);
        }
        break;
      }
      case 'cancelled': {
        const p = this.payments.get(event.key);
        if (!p || p.txId !== undefined || p.state === 'included') return;
        p.state = 'cancelled';
        delete p.error;
        p.updatedAt = event.at;
        touched.push(p);
        break;
      }
      case 'failed': {
        for (const key of event.keys) {
          const p = this.payments.get(key);
          if (!p || p.txId !== undefined || p.state === 'included' || p.state === 'cancelled') continue;
          p.state = 'failed';
          p.error = event.reason;
          p.updatedAt = event.at;
          touched.push(p);
        }
        break;
      }
      case 'adopted': {
        const existing = this.payments.get(event.key);
        if (existing?.state === 'included') return;
        if (existing && (existing.to !== event.to || existing.amount !== event.amount)) return;
        const p: Internal = existing ?? {
          idempotencyKey: event.key,
          to: event.to,
          amount: event.amount,
          ...(event.metadata ? { metadata: event.metadata } : {}),
          state: 'included',
          micro: false,
          attempts: 0,
          rejections: 0,
          createdAt: event.at,
          updatedAt: event.at,
          sequence: this.sequence++,
        };
        p.txId = event.txId;
        p.transactionId = event.txId;
        p.outputId = event.outputId;
        p.blockId = event.blockId;
        p.state = 'included';
        p.milestoneIndex = event.milestoneIndex;
        p.milestoneTimestamp = event.milestoneTimestamp;
        delete p.error;
        p.updatedAt = event.at;
        this.payments.set(event.key, p);
        touched.push(p);
        break;
      }
      case 'note': {
        const p = this.payments.get(event.key);
        if (!p) return;
        p.error = event.message;
        p.updatedAt = event.at;
        touched.push(p);
        break;
      }
    }
    if (!emit) return;
    if (tx) this.emit('transaction', tx);
    for (const p of touched) this.emit('payment', this.view(p));
  }

  /** Payments of a transaction that it still carries (a conflict moves them on). */
  private paymentsOf(tx: StoredTransaction): Internal[] {
    return tx.keys.map((k) => this.payments.get(k)).filter((p): p is Internal => p?.txId === tx.txId);
  }

  private view(p: Internal): Payment {
    const { txId: _txId, sequence: _sequence, rejections: _rejections, ...payment } = p;
    return payment;
  }

  get(key: string): Payment | undefined {
    const p = this.payments.get(key);
    return p ? this.view(p) : undefined;
  }

  /** Payments waiting for a transaction, oldest first. */
  awaitingTransaction(): Payment[] {
    return [...this.payments.values()]
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
    const all = [...this.transactions.values()].flatMap((t) =>
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
    return [...this.payments.values()]
      .filter((p) => p.state === 'queued' || p.state === 'submitted' || p.state === 'conflicting')
      .sort((a, b) => a.sequence - b.sequence)
      .map((p) => this.view(p));
  }

  /** Transactions signed or posted and not yet final. */
  openTransactions(): StoredTransaction[] {
    return [...this.transactions.values()].filter((t) => t.state === 'signed' || t.state === 'posted');
  }

  /** Transactions included by a milestone after `milestoneIndex`. */
  includedAfter(milestoneIndex: number): StoredTransaction[] {
    return [...this.transactions.values()].filter(
      (t) => t.state === 'included' && (t.milestoneIndex ?? 0) > milestoneIndex,
    );
  }

  transaction(txId: string): StoredTransaction | undefined {
    return this.transactions.get(txId);
  }

  list(
    filter: { state?: PaymentState; periodId?: string; peer?: string; limit?: number; offset?: number } = {},
  ): {
    total: number;
    items: Payment[];
  } {
    const all = [...this.payments.values()]
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
