import {
  conflictReasonText,
  isSpentInputConflict,
  type LedgerClient,
  type NodeApi,
  outputIdOf,
} from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import type { PaymentsStore, StoredTransaction } from './payments-store.js';
import { chainState } from './settlement-chain.js';
import { notFound, type WalletCopies } from './wallet-copies.js';
import type { WalletLedger } from './wallet-ledger.js';

/**
 * Brings signed transactions to an end: posts them, promotes or re-posts a block left behind, and records
 * each as included (read by its id, or from its outputs when the node pruned it) or conflicting (an input
 * another transaction won, whose payments it may have paid; or one the ledger refused).
 */
export class TransactionFollower {
  constructor(
    private readonly deps: {
      api: NodeApi;
      client: LedgerClient;
      store: PaymentsStore;
      ledger: WalletLedger;
      copies: WalletCopies;
      /** A posted transaction not included after this long is checked and posted again. */
      reattachAfterSeconds: number;
      log: Logger;
    },
  ) {}

  /** Where and when the ledger included `tx`, if it did; read by transaction id, else from its outputs. */
  private async inclusionOf(
    tx: StoredTransaction,
    everyOutput = false,
  ): Promise<{ blockId: string; milestoneIndex: number; milestoneTimestamp: number } | undefined> {
    const { api, ledger } = this.deps;
    const included = await api.includedBlockMetadata(tx.txId).catch(notFound);
    if (included?.ledgerInclusionState === 'included' && included.referencedByMilestoneIndex !== undefined) {
      const milestone = await api.milestoneByIndex(included.referencedByMilestoneIndex).catch(notFound);
      if (milestone)
        return {
          blockId: included.blockId,
          milestoneIndex: milestone.index,
          milestoneTimestamp: milestone.timestamp,
        };
    }
    if (included) return undefined;
    // The node may have pruned the transaction: its outputs (ours in the wallet view, or any the node still
    // knows) show it was included all the same.
    const own = ledger.all().find((o) => o.transactionId === tx.txId);
    // Every output when the inputs are gone too (spent and pruned): an unspent one is never pruned.
    const count = everyOutput ? outputCountOf(tx.payloadJson) : 1;
    const outputIds = [
      ...(own ? [own.outputId] : []),
      ...Array.from({ length: count }, (_, i) => outputIdOf(tx.txId, i)),
    ];
    for (const id of outputIds) {
      const meta = await api.outputMetadata(id).catch(notFound);
      if (meta)
        return {
          blockId: meta.blockId,
          milestoneIndex: meta.milestoneIndexBooked,
          milestoneTimestamp: meta.milestoneTimestampBooked,
        };
    }
    return undefined;
  }

  /** Brings one open transaction forward: included, conflicting, posted for the first time, or re-posted. */
  async follow(tx: StoredTransaction): Promise<void> {
    const { api, store, client, log } = this.deps;
    const inclusion = await this.inclusionOf(tx);
    if (inclusion) {
      await store.recordIncluded(
        tx.txId,
        inclusion.blockId,
        inclusion.milestoneIndex,
        inclusion.milestoneTimestamp,
      );
      log.info(
        { txId: tx.txId, kind: tx.kind, payments: tx.keys.length, milestone: inclusion.milestoneIndex },
        'transaction included',
      );
      return;
    }
    const postedAgoMs = tx.lastPostedAt ? Date.now() - Date.parse(tx.lastPostedAt) : Number.POSITIVE_INFINITY;
    // Built on the change of a transaction of ours not included yet: the node cannot tell us about that
    // input, so the parent decides (see settlement-chain.ts).
    const chain = chainState(tx, (txId) => store.transaction(txId));
    if (chain.kind === 'parentConflicts') {
      const reason = `it spends the change of transaction ${chain.parent.txId}, which conflicts`;
      await store.recordConflicting(tx.txId, reason);
      log.warn({ txId: tx.txId, parent: chain.parent.txId }, `transaction conflicts: ${reason}`);
      return;
    }
    if (chain.kind === 'parentOpen') {
      // Posted again only if no milestone took it in time; until the parent has a block, it waits.
      const due = tx.state === 'signed' || postedAgoMs >= this.deps.reattachAfterSeconds * 1000;
      if (chain.approve && due) await this.post(tx, [chain.approve]);
      return;
    }
    const last = tx.blockIds.at(-1);
    const meta = last ? await api.blockMetadata(last).catch(() => undefined) : undefined;
    const conflicting = meta?.ledgerInclusionState === 'conflicting';
    if (tx.state === 'posted' && postedAgoMs < this.deps.reattachAfterSeconds * 1000 && !conflicting) {
      if (meta?.shouldPromote && !meta.shouldReattach) await client.promote(last!).catch(() => undefined);
      if (!meta?.shouldReattach) return;
    }
    // Not included (yet): before posting again, make sure no other transaction spent our inputs.
    const missing: string[] = [];
    for (const input of tx.inputs) {
      const spent = await api.outputMetadata(input).catch(notFound);
      if (!spent) {
        missing.push(input);
        continue;
      }
      if (spent.isSpent && spent.transactionIdSpent && spent.transactionIdSpent !== tx.txId) {
        await this.settleAgainstWinner(tx, input, spent.transactionIdSpent);
        return;
      }
      if (spent.isSpent) return; // spent by this very transaction: inclusion shows up shortly
    }
    if (conflicting && meta?.conflictReason !== undefined && !isSpentInputConflict(meta.conflictReason)) {
      await this.rejected(tx, conflictReasonText(meta!.conflictReason!));
      return;
    }
    if (missing.length > 0) {
      const pruned = await this.inclusionOf(tx, true);
      if (pruned) {
        await store.recordIncluded(tx.txId, pruned.blockId, pruned.milestoneIndex, pruned.milestoneTimestamp);
        return;
      }
      await this.rejected(
        tx,
        `input ${missing[0]} cannot be found on the node (spent and pruned, or never created)`,
      );
      return;
    }
    await this.post(tx);
  }

  /** Posts `tx` in a new block (approving `approve` too, when given) and journals the block. */
  private async post(tx: StoredTransaction, approve?: string[]): Promise<void> {
    const { client, store, log } = this.deps;
    const blockId = await client.postTransaction(tx.payloadJson, approve ? { approve } : {});
    const attempt = tx.blockIds.length + 1;
    await store.recordPosted(tx.txId, blockId);
    log.info(
      { txId: tx.txId, blockId, attempt, ...(approve ? { approves: approve } : {}) },
      attempt > 1 ? 'transaction re-posted' : 'transaction posted',
    );
  }

  /** The ledger refused `tx` itself: its payments go to fresh inputs once, and fail the second time. */
  private async rejected(tx: StoredTransaction, reason: string): Promise<void> {
    await this.deps.store.recordConflicting(tx.txId, reason, { rejected: true });
    this.deps.log.warn({ txId: tx.txId, reason }, 'the ledger refused the transaction');
  }

  /**
   * Another transaction spent our input. It may be a second copy of this wallet that paid the very same
   * keys: read what it paid, record those as included by it, and leave only what is really unpaid to be
   * issued again.
   */
  private async settleAgainstWinner(tx: StoredTransaction, input: string, winnerTxId: string): Promise<void> {
    const { paid, candidates } = await this.deps.copies.paidByWinnerOf(tx, winnerTxId);
    await this.deps.store.recordConflicting(tx.txId, `input ${input} was spent by transaction ${winnerTxId}`);
    this.deps.log.warn(
      { txId: tx.txId, input, winner: winnerTxId, paidByWinner: paid, reissue: candidates - paid },
      'transaction conflicts; payments the winner did not pay will be re-issued from fresh inputs',
    );
  }
}

/** How many outputs a signed transaction payload (as journaled) has. */
function outputCountOf(payloadJson: string): number {
  try {
    const payload = JSON.parse(payloadJson) as { essence?: { outputs?: unknown[] } };
    return Math.max(1, payload.essence?.outputs?.length ?? 1);
  } catch {
    return 1;
  }
}
