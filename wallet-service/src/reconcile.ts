import { paymentMetadata } from '@tanglewatt/contract';
import { hexToBech32, LedgerError, type NodeApi, outputIdOf, utf8ToHex } from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import { paymentEntriesOf } from './delivery-history.js';
import type { PaymentsStore } from './payments-store.js';

/**
 * Payments made by transactions this wallet's store did not sign: another copy of the same wallet (a
 * restored backup, a copied data dir) spent our outputs. Its transaction's description says which keys it
 * paid; each is recorded as paid by it, so this copy never pays them again.
 */

export interface ReconcileDeps {
  api: NodeApi;
  store: PaymentsStore;
  bech32Hrp: string;
  paymentTag: string;
  log: Logger;
}

/** Transaction ids that spent `outputIds` and are not this store's own. */
async function foreignSpenders(deps: ReconcileDeps, outputIds: string[]): Promise<string[]> {
  const known = deps.store.knownInputs();
  const spenders = new Set<string>();
  for (const id of outputIds) {
    if (known.has(id)) continue;
    const meta = await deps.api.outputMetadata(id);
    const spender = meta.transactionIdSpent;
    if (spender && !deps.store.transaction(spender)) spenders.add(spender);
  }
  return [...spenders];
}

/** Reads each foreign transaction that spent our outputs and adopts the payments it made. */
export async function adoptForeignPayments(
  deps: ReconcileDeps,
  spentOutputIds: string[],
): Promise<{ transactions: number; adopted: string[] }> {
  const tagHex = utf8ToHex(deps.paymentTag);
  const adopted: string[] = [];
  const spenders = await foreignSpenders(deps, spentOutputIds);
  for (const txId of spenders) adopted.push(...(await adoptTransaction(deps, txId, tagHex)));
  return { transactions: spenders.length, adopted };
}

/** Adopts the payments one transaction (included on the ledger) made. Returns the keys adopted. */
export async function adoptTransaction(deps: ReconcileDeps, txId: string, tagHex: string): Promise<string[]> {
  const { api, store, log } = deps;
  let block: Awaited<ReturnType<NodeApi['includedBlock']>>;
  let blockId: string;
  let milestoneIndex: number;
  try {
    const meta = await api.includedBlockMetadata(txId);
    if (meta.ledgerInclusionState !== 'included' || meta.referencedByMilestoneIndex === undefined) return [];
    block = await api.includedBlock(txId);
    blockId = meta.blockId;
    milestoneIndex = meta.referencedByMilestoneIndex;
  } catch (error) {
    if (error instanceof LedgerError && error.code === 'NOT_FOUND') {
      log.warn({ txId }, 'a transaction of this wallet not signed here is no longer on the node (pruned)');
      return [];
    }
    throw error;
  }
  const milestone = await api.milestoneByIndex(milestoneIndex);
  const keys: string[] = [];
  for (const entry of paymentEntriesOf(block, tagHex)) {
    const metadata = paymentMetadata.safeParse(entry.metadata);
    const mine = store.get(entry.key);
    const inFlightHere = mine?.transactionId !== undefined && mine.state !== 'included';
    const taken = await store.adopt({
      key: entry.key,
      to: hexToBech32(entry.payeeHex, deps.bech32Hrp),
      amount: entry.units.toString(),
      ...(metadata.success && Object.keys(metadata.data).length ? { metadata: metadata.data } : {}),
      txId,
      outputId: outputIdOf(txId, entry.outputIndex),
      blockId,
      milestoneIndex: milestone.index,
      milestoneTimestamp: milestone.timestamp,
    });
    if (!taken) continue;
    keys.push(entry.key);
    if (inFlightHere)
      log.warn(
        { key: entry.key, txId, ours: mine?.transactionId },
        'payment also made by another copy of this wallet while this one had it on its way',
      );
  }
  if (keys.length)
    log.warn(
      { txId, payments: keys.length },
      'another copy of this wallet (a restored backup or copied data dir?) made these payments; recorded as paid',
    );
  return keys;
}
