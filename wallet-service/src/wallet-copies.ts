import type { Payment } from '@tanglewatt/contract';
import { isError } from '@tanglewatt/errors';
import {
  type BlockJson,
  LedgerError,
  type MilestoneChanges,
  type NodeApi,
  type OutputSummary,
} from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import type { PaymentsStore, StoredTransaction } from './payments-store.js';
import type { WalletLedger } from './wallet-ledger.js';
import { isPaymentBlock, paidByWinner } from './winner.js';

/** Foreign payment transactions remembered to check payments that arrive later against. */
const MAX_FOREIGN_BLOCKS = 256;

/** A node answer that may be missing (pruned, or never there): undefined for NOT_FOUND, else the error. */
export const notFound = (error: unknown): undefined => {
  if (isError(error, 'NOT_FOUND')) return undefined;
  throw error;
};

/**
 * Payments another copy of this wallet (a restored backup, a second data dir) made, found on the ledger
 * before this copy pays them again. Settlement asks in two places: before it signs anything, for the
 * transactions not ours that created outputs of ours (their blocks kept in memory, to check payments that
 * arrive later); and when another transaction won one of its inputs. Either way a payment counts as paid
 * only when the output its description names pays that payee that amount (winner.ts). The durable path is
 * reconcile.ts: it reads the transactions that spent our outputs and adopts every payment they describe.
 */
export class WalletCopies {
  /** Transactions not ours that created outputs of ours, to read for payments they made. */
  private readonly toRead = new Set<string>();
  private readonly read = new Set<string>();
  /** Recent foreign transactions that carry a payment description, kept to check later payments against. */
  private readonly blocks = new Map<string, BlockJson>();
  /** Keys already checked against every block in `blocks`. */
  private readonly matchedKeys = new Set<string>();

  constructor(
    private readonly deps: {
      api: NodeApi;
      store: PaymentsStore;
      ledger: WalletLedger;
      /** This wallet's address: a micro-payment's deposit returns to it. */
      address: string;
      paymentTag: string;
      log: Logger;
    },
  ) {}

  /**
   * A confirmed milestone the wallet's ledger view read: note every transaction not ours that created an
   * output of ours. Another copy of this wallet (a restored backup) spends our outputs too, and what it paid
   * must not be paid again here.
   */
  noteLedgerChanges(changes: MilestoneChanges): void {
    const hex = this.deps.ledger.addressHex;
    for (const o of changes.created)
      if (o.ownerHex === hex && !this.deps.store.transaction(o.transactionId))
        this.toRead.add(o.transactionId);
  }

  /** An output a transaction not ours made, not read yet: not to be spent until what it paid is known. */
  isUnreadForeign(o: OutputSummary): boolean {
    return !this.deps.store.transaction(o.transactionId) && !this.read.has(o.transactionId);
  }

  /**
   * Reads each noted foreign transaction's payment description; payments of ours it made (same key, payee
   * and amount) are recorded as included by it. Runs before any new transaction is signed, and again for
   * payments that arrive later (the other copy may have been asked first).
   */
  async readForeignTransactions(): Promise<void> {
    const { api, store, ledger } = this.deps;
    for (const o of ledger.all()) if (this.isUnreadForeign(o)) this.toRead.add(o.transactionId);
    const unsettled = store.unsettled();
    const fresh: [string, BlockJson][] = [];
    for (const txId of [...this.toRead]) {
      if (!store.transaction(txId) && !this.read.has(txId)) {
        // Not readable (the genesis, or pruned): nothing it paid can be known.
        const block = await api.includedBlock(txId).catch(notFound);
        if (block && isPaymentBlock(block, this.deps.paymentTag)) fresh.push([txId, block]);
        else this.read.add(txId);
      }
      this.toRead.delete(txId);
    }
    const newcomers = unsettled.filter((p) => !this.matchedKeys.has(p.idempotencyKey));
    for (const [txId, block] of this.blocks) await this.settleByForeign(txId, block, newcomers);
    for (const [txId, block] of fresh) {
      // Counted as read only once what it paid is journaled: a failure here is read again next time.
      this.toRead.add(txId);
      await this.settleByForeign(txId, block, store.unsettled());
      this.toRead.delete(txId);
      this.read.add(txId);
      this.blocks.set(txId, block);
      if (this.blocks.size > MAX_FOREIGN_BLOCKS) this.blocks.delete(this.blocks.keys().next().value!);
    }
    for (const p of unsettled) this.matchedKeys.add(p.idempotencyKey);
  }

  private async settleByForeign(txId: string, block: BlockJson, candidates: Payment[]): Promise<void> {
    const { api, store, log } = this.deps;
    const open = candidates.filter((p) => {
      const now = store.get(p.idempotencyKey);
      return (
        now !== undefined && now.state !== 'included' && now.state !== 'cancelled' && now.state !== 'failed'
      );
    });
    if (open.length === 0) return;
    const paid = paidByWinner(block, txId, open, { payer: this.deps.address, tag: this.deps.paymentTag });
    if (paid.length === 0) return;
    const meta = await api.includedBlockMetadata(txId);
    await this.recordPaidBy(txId, meta.blockId, meta.referencedByMilestoneIndex!, paid);
    log.warn(
      { txId, payments: paid.length },
      'another transaction from this wallet already paid these payments',
    );
  }

  /**
   * Another transaction spent an input of `tx`. It may be a second copy of this wallet that paid the very
   * same keys: what it paid is recorded as included by it. Returns how many of `tx`'s payments it paid, of
   * how many.
   */
  async paidByWinnerOf(
    tx: StoredTransaction,
    winnerTxId: string,
  ): Promise<{ candidates: number; paid: number }> {
    const { api, store } = this.deps;
    const candidates = tx.keys.map((k) => store.get(k)).filter((p): p is Payment => p !== undefined);
    if (candidates.length === 0) return { candidates: 0, paid: 0 };
    const [block, meta] = await Promise.all([
      api.includedBlock(winnerTxId).catch(notFound),
      api.includedBlockMetadata(winnerTxId).catch(notFound),
    ]);
    if (!block || meta?.referencedByMilestoneIndex === undefined) {
      // Spent, so included; the node should answer shortly (or has pruned it: then we cannot know).
      throw new LedgerError('NOT_FOUND', `winning transaction ${winnerTxId} is not readable yet`);
    }
    const paid = paidByWinner(block, winnerTxId, candidates, {
      payer: this.deps.address,
      tag: this.deps.paymentTag,
    });
    if (paid.length > 0)
      await this.recordPaidBy(winnerTxId, meta.blockId, meta.referencedByMilestoneIndex, paid);
    return { candidates: candidates.length, paid: paid.length };
  }

  /** Records payments as included by transaction `txId` (in `blockId`, confirmed by `milestoneIndex`). */
  private async recordPaidBy(
    txId: string,
    blockId: string,
    milestoneIndex: number,
    paid: { key: string; outputId: string }[],
  ): Promise<void> {
    const milestone = await this.deps.api.milestoneByIndex(milestoneIndex);
    await this.deps.store.recordIncludedElsewhere(
      { txId, blockId, milestoneIndex: milestone.index, milestoneTimestamp: milestone.timestamp },
      paid,
    );
  }
}
