import {
  type BlockMetadata,
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
type Inclusion = { blockId: string; milestoneIndex: number; milestoneTimestamp: number };
type Look = { inclusion: Inclusion | undefined; meta: BlockMetadata | undefined };

export class TransactionFollower {
  private readonly milestones = new Map<number, { index: number; timestamp: number }>();

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

  /** A milestone's index and time, asked once for all the transactions it included. */
  private async milestone(index: number): Promise<{ index: number; timestamp: number } | undefined> {
    const known = this.milestones.get(index);
    if (known) return known;
    const milestone = await this.deps.api.milestoneByIndex(index).catch(notFound);
    if (!milestone) return undefined;
    if (this.milestones.size >= 16) this.milestones.delete(this.milestones.keys().next().value!);
    this.milestones.set(index, { index: milestone.index, timestamp: milestone.timestamp });
    return milestone;
  }

  /** Where and when the ledger included `tx`, if it did; read by transaction id, else from its outputs. */
  private async inclusionOf(tx: StoredTransaction, everyOutput = false): Promise<Inclusion | undefined> {
    const { api, ledger } = this.deps;
    const included = await api.includedBlockMetadata(tx.txId).catch(notFound);
    if (included?.ledgerInclusionState === 'included' && included.referencedByMilestoneIndex !== undefined) {
      const milestone = await this.milestone(included.referencedByMilestoneIndex);
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

  /** What the node says of `tx` now: where it was included, else its latest block's metadata. */
  async look(tx: StoredTransaction): Promise<Look> {
    const last = tx.blockIds.at(-1);
    const [inclusion, meta] = await Promise.all([
      this.inclusionOf(tx),
      last ? this.deps.api.blockMetadata(last).catch(() => undefined) : undefined,
    ]);
    return { inclusion, meta };
  }

  /**
   * Brings each open transaction forward, oldest first (a parent's conflict is recorded before its
   * children are looked at). What the node says of them is asked for all at once: one round trip's wait
   * after a milestone instead of one per transaction.
   */
  async followAll(txs: StoredTransaction[]): Promise<void> {
    const looks = await Promise.all(txs.map((tx) => this.look(tx).catch(() => undefined)));
    for (const [i, tx] of txs.entries()) {
      // One transaction the node cannot tell us about must not keep the others (or new ones) waiting.
      await this.follow(tx, looks[i]).catch((error: unknown) => {
        this.deps.log.warn({ txId: tx.txId, err: (error as Error).message }, 'could not follow transaction');
      });
    }
  }

  /**
   * Posts a transaction just signed: its inputs were just chosen as unspent, so there is nothing to ask
   * the node first (should another transaction win an input after all, following it finds that out).
   */
  async postFresh(tx: StoredTransaction): Promise<void> {
    const chain = chainState(tx, (txId) => this.deps.store.transaction(txId));
    if (chain.kind === 'confirmedInputs') await this.post(tx);
    else if (chain.kind === 'parentOpen' && chain.approve) await this.post(tx, [chain.approve]);
    else await this.follow(tx);
  }

  /** Brings one open transaction forward: included, conflicting, posted for the first time, or re-posted. */
  async follow(tx: StoredTransaction, looked?: Look): Promise<void> {
    const { api, store, client, log } = this.deps;
    const { inclusion, meta } = looked ?? (await this.look(tx));
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
