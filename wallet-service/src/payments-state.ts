import { createHash } from 'node:crypto';
import type { Payment, PaymentMetadata } from '@tanglewatt/contract';
import { outputIdOf } from '@tanglewatt/ledger';

/**
 * The payments and the transactions made for them, as the payments journal's events leave them: the fold
 * the store replays on open and applies after each append. It reads and writes nothing else.
 */

export type TransactionKind = 'payments' | 'claim' | 'consolidation';

/** What a payment is: its key, payee, amount and what it says about the energy. */
type Asked = { key: string; to: string; amount: string; metadata?: PaymentMetadata; shares?: Share[] };
/** A share of a payment as requested, with how it goes out (its output follows the payment's). */
type Share = NonNullable<Payment['shares']>[number];
/** The transaction a milestone included, and where. */
type Inclusion = { txId: string; blockId: string; milestoneIndex: number; milestoneTimestamp: number };

/** A transaction as signed, before any block carries it. */
type Signed = Pick<StoredTransaction, 'txId' | 'kind' | 'keys' | 'outputIndexes' | 'inputs' | 'payloadJson'>;

export type PaymentEvent =
  | ({ t: 'requested'; at: string; micro: boolean; depositUnits?: string } & Asked)
  | ({ t: 'signed'; at: string } & Signed)
  | { t: 'posted'; at: string; txId: string; blockId: string }
  | ({ t: 'included'; at: string } & Inclusion)
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
  /** Another transaction (the one that won our input) already paid these payments. */
  | ({ t: 'includedElsewhere'; at: string; items: { key: string; outputId: string }[] } & Inclusion)
  | { t: 'cancelled'; at: string; key: string }
  | { t: 'failed'; at: string; keys: string[]; reason: string }
  | { t: 'note'; at: string; key: string; message: string }
  /** A payment found made by a transaction this store did not sign (another copy of this wallet). */
  | ({ t: 'adopted'; at: string; outputId: string } & Asked & Inclusion);

export type TransactionState = 'signed' | 'posted' | 'included' | 'conflicting';

export interface StoredTransaction {
  txId: string;
  kind: TransactionKind;
  keys: string[];
  /** Essence output index of each key's payment, same order as `keys`. */
  outputIndexes: number[];
  inputs: string[];
  payloadJson: string;
  state: TransactionState;
  blockIds: string[];
  signedAt: string;
  lastPostedAt?: string;
  milestoneIndex?: number;
}

export interface StoredPayment extends Payment {
  /** The transaction currently carrying this payment, if any. */
  txId?: string;
  sequence: number;
  /** Transactions of this payment the ledger itself refused (not counting lost races). */
  rejections: number;
}

/** Whose output a micro-payment output of an included payment is: the payee's or a share's. */
type MicroOutput = { key: string; share?: number };

/**
 * The key of the payment that pays again an output of payment `key` that expired unclaimed and came back:
 * `<key>/repay/<outputId>`, derived from the output alone, so every copy of this wallet (and every replay)
 * names the same payment and it is paid once. Keys are at most 128 characters: a longer one becomes
 * `repay/<sha256 of both>`.
 */
export function repayKeyOf(key: string, outputId: string): string {
  const plain = `${key}/repay/${outputId}`;
  if (plain.length <= 128) return plain;
  return `repay/${createHash('sha256').update(`${key}/${outputId}`).digest('hex')}`;
}

/** An output id's index (its last two bytes, little-endian). */
const outputIndexOf = (outputId: string): number =>
  Number.parseInt(outputId.slice(-4, -2), 16) + 256 * Number.parseInt(outputId.slice(-2), 16);

/** Marks a payment changed by the event being applied. */
type Touch = (p: StoredPayment) => void;
type EventOf<T extends PaymentEvent['t']> = Extract<PaymentEvent, { t: T }>;

/** Marks a payment included: by our transaction, by one that won its input, or by another copy's. */
function include(p: StoredPayment, inclusion: Omit<Inclusion, 'txId'>): void {
  p.state = 'included';
  p.blockId = inclusion.blockId;
  p.milestoneIndex = inclusion.milestoneIndex;
  p.milestoneTimestamp = inclusion.milestoneTimestamp;
  delete p.error;
}

export class PaymentsState {
  readonly payments = new Map<string, StoredPayment>();
  readonly transactions = new Map<string, StoredTransaction>();
  /** Micro-payment outputs created for included payments, by output id: to notice when we take one back. */
  private readonly microOutputs = new Map<string, MicroOutput>();
  private sequence = 0;

  /** Applies one event; returns the payments it changed and the transaction it named, if any. */
  apply(event: PaymentEvent): { touched: StoredPayment[]; tx?: StoredTransaction } {
    const touched: StoredPayment[] = [];
    const touch = (p: StoredPayment) => {
      p.updatedAt = event.at;
      touched.push(p);
    };
    let tx: StoredTransaction | undefined;
    switch (event.t) {
      case 'requested': {
        // The first request for a key is the payment; a later one (journals written before requests for
        // one key were put in line could hold two) never replaces it.
        if (this.payments.has(event.key)) return { touched };
        const payment: StoredPayment = {
          idempotencyKey: event.key,
          to: event.to,
          amount: event.amount,
          ...(event.metadata ? { metadata: event.metadata } : {}),
          ...(event.shares ? { shares: event.shares.map((s) => ({ ...s })) } : {}),
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
          // A payment's shares are the outputs right after its own.
          p.shares?.forEach((s, j) => {
            s.outputId = outputIdOf(event.txId, event.outputIndexes[i]! + 1 + j);
          });
          p.attempts += 1;
          p.state = 'queued';
          delete p.blockId;
          delete p.error;
          touch(p);
        });
        break;
      }
      case 'posted':
      case 'included':
      case 'conflicting': {
        tx = this.transactions.get(event.txId);
        if (!tx) return { touched };
        if (event.t === 'posted') this.posted(tx, event, touch);
        else if (event.t === 'included') this.included(tx, event, touch);
        else this.conflicting(tx, event, touch);
        break;
      }
      case 'includedElsewhere': {
        for (const item of event.items) {
          const p = this.payments.get(item.key);
          if (!p || p.state === 'included' || p.state === 'cancelled') continue;
          p.transactionId = event.txId;
          p.outputId = item.outputId;
          delete p.txId;
          // The winner lays out the payment's outputs as we do: its shares right after its own.
          p.shares?.forEach((s, j) => {
            s.outputId = outputIdOf(event.txId, outputIndexOf(item.outputId) + 1 + j);
          });
          include(p, event);
          this.noteMicroOutputs(p);
          touch(p);
        }
        break;
      }
      case 'cancelled': {
        const p = this.payments.get(event.key);
        if (!p || p.txId !== undefined || p.state === 'included') return { touched };
        p.state = 'cancelled';
        delete p.error;
        touch(p);
        break;
      }
      case 'failed': {
        for (const key of event.keys) {
          const p = this.payments.get(key);
          if (!p || p.txId !== undefined || p.state === 'included' || p.state === 'cancelled') continue;
          p.state = 'failed';
          p.error = event.reason;
          touch(p);
        }
        break;
      }
      case 'adopted': {
        const existing = this.payments.get(event.key);
        if (existing?.state === 'included') return { touched };
        if (existing && (existing.to !== event.to || existing.amount !== event.amount)) return { touched };
        const p: StoredPayment = existing ?? {
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
        include(p, event);
        this.payments.set(event.key, p);
        touch(p);
        break;
      }
      case 'note': {
        const p = this.payments.get(event.key);
        if (!p) return { touched };
        p.error = event.message;
        touch(p);
        break;
      }
    }
    return tx ? { touched, tx } : { touched };
  }

  /** A block carried the transaction: its payments are submitted. */
  private posted(tx: StoredTransaction, event: EventOf<'posted'>, touch: Touch): void {
    tx.blockIds.push(event.blockId);
    tx.lastPostedAt = event.at;
    if (tx.state === 'signed') tx.state = 'posted';
    for (const p of this.paymentsOf(tx)) {
      if (p.state === 'included') continue;
      p.state = 'submitted';
      p.blockId ??= event.blockId;
      touch(p);
    }
  }

  /** A milestone included the transaction: its payments are done; a micro-payment it took back is owed again. */
  private included(tx: StoredTransaction, event: EventOf<'included'>, touch: Touch): void {
    tx.state = 'included';
    tx.milestoneIndex = event.milestoneIndex;
    // A payload no longer needed once included: drop it to keep memory small.
    tx.payloadJson = '';
    for (const p of this.paymentsOf(tx)) {
      include(p, event);
      this.noteMicroOutputs(p);
      touch(p);
    }
    for (const input of tx.inputs) this.repayExpired(input, tx.txId, event, touch);
  }

  /** Remembers the micro-payment outputs (its own and its shares') of an included payment. */
  private noteMicroOutputs(p: StoredPayment): void {
    if (p.micro && p.outputId) this.microOutputs.set(p.outputId, { key: p.idempotencyKey });
    p.shares?.forEach((s, share) => {
      if (s.micro && s.outputId) this.microOutputs.set(s.outputId, { key: p.idempotencyKey, share });
    });
  }

  /**
   * One of our own transactions spent `input`, a micro-payment output we sent: only its return address may
   * spend it, and only once it expired, so its payee never claimed it and that output's amount is owed
   * again. The payment stays included (its transaction was, and its other outputs stand); it records the
   * expiry, and a new payment keyed by repayKeyOf pays that payee that amount, once: the key is the same
   * on every replay and every copy of this wallet, and only the transaction that won the output gets here.
   */
  private repayExpired(input: string, txId: string, event: EventOf<'included'>, touch: Touch): void {
    const micro = this.microOutputs.get(input);
    const p = micro ? this.payments.get(micro.key) : undefined;
    if (!micro || !p) return;
    this.microOutputs.delete(input);
    const share = micro.share === undefined ? undefined : p.shares?.[micro.share];
    const owed = share ?? p;
    const role = share?.role ?? 'payee';
    const key = repayKeyOf(p.idempotencyKey, input);
    p.expired = [...(p.expired ?? []), { outputId: input, role, takenBackBy: txId, repayKey: key }];
    touch(p);
    if (this.payments.has(key)) return;
    const repay: StoredPayment = {
      idempotencyKey: key,
      to: owed.to,
      amount: owed.amount,
      repays: { key: p.idempotencyKey, outputId: input, role },
      state: 'queued',
      micro: owed.micro ?? false,
      ...(owed.depositUnits ? { depositUnits: owed.depositUnits } : {}),
      attempts: 0,
      createdAt: event.at,
      updatedAt: event.at,
      sequence: this.sequence++,
      rejections: 0,
    };
    this.payments.set(key, repay);
    touch(repay);
  }

  /** The transaction lost an input, or the ledger refused it: its payments wait for another, or fail. */
  private conflicting(tx: StoredTransaction, event: EventOf<'conflicting'>, touch: Touch): void {
    tx.state = 'conflicting';
    tx.payloadJson = '';
    for (const p of this.paymentsOf(tx)) {
      delete p.txId;
      touch(p);
      if (event.rejected && p.rejections >= 1) {
        p.state = 'failed';
        p.error = `the ledger refused its transaction twice: ${event.reason}`;
        continue;
      }
      if (event.rejected) p.rejections += 1;
      p.state = 'conflicting';
      p.error = event.reason;
    }
  }

  /** Payments of a transaction that it still carries (a conflict moves them on). */
  private paymentsOf(tx: StoredTransaction): StoredPayment[] {
    return tx.keys.map((k) => this.payments.get(k)).filter((p): p is StoredPayment => p?.txId === tx.txId);
  }
}
