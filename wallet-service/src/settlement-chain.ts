/**
 * Settlement's rules for chains: a payments transaction may spend the change of our own transaction that
 * is posted but not confirmed yet, so the payments that follow need not wait a milestone for it. The
 * spending block approves the parent's block; white flag then applies the parent first (see
 * LedgerClient.postTransaction). If the parent can never be included, neither can anything built on its
 * change: those transactions conflict with it, and their payments are issued again from confirmed outputs
 * only, once.
 */
import type { Payment } from '@tanglewatt/contract';
import { isPlainCoinOutput, type OutputSpec, type OutputSummary } from '@tanglewatt/ledger';
import type { StoredTransaction } from './payments-state.js';

type Lookup = (txId: string) => StoredTransaction | undefined;

/** The id of the transaction that creates an output (an output id is the transaction id + a 2-byte index). */
export function creatorOf(outputId: string): string {
  return outputId.slice(0, -4);
}

function outputId(txId: string, index: number): string {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16LE(index);
  return `${txId}${bytes.toString('hex')}`;
}

const isOpen = (tx: StoredTransaction) => tx.state === 'signed' || tx.state === 'posted';

/** Our transaction, not included yet, whose output `tx` spends: what `tx` stands or falls with. */
export function unconfirmedParentOf(tx: StoredTransaction, lookup: Lookup): StoredTransaction | undefined {
  for (const input of tx.inputs) {
    const parent = lookup(creatorOf(input));
    if (parent && parent !== tx && parent.state !== 'included') return parent;
  }
  return undefined;
}

/** How many transactions not confirmed yet `tx` stands on (0: only on confirmed outputs). */
export function chainDepth(tx: StoredTransaction, lookup: Lookup): number {
  let depth = 0;
  for (let parent = unconfirmedParentOf(tx, lookup); parent; parent = unconfirmedParentOf(parent, lookup)) {
    depth += 1;
    if (depth > 1000) break; // a cycle cannot be built (ids are hashes of the inputs), but never loop forever
  }
  return depth;
}

/**
 * The remainder a payments transaction sent to us: the output after its payments (the SDK appends the
 * remainder after our outputs), if it is a plain output to `ownerHex`.
 */
export function changeOf(
  tx: StoredTransaction,
  ownerHex: string,
): { outputId: string; amount: bigint } | undefined {
  if (tx.kind !== 'payments' || !tx.payloadJson) return undefined;
  try {
    const payload = JSON.parse(tx.payloadJson) as {
      essence?: { outputs?: { type?: number; amount?: string; unlockConditions?: unknown[] }[] };
    };
    const outputs = payload.essence?.outputs ?? [];
    const index = tx.keys.length;
    const output = outputs[index];
    if (output?.type !== 3 || output.amount === undefined) return undefined;
    const conditions = (output.unlockConditions ?? []) as {
      type?: number;
      address?: { pubKeyHash?: string };
    }[];
    const plainToOwner =
      conditions.length === 1 &&
      conditions[0]?.type === 0 &&
      conditions[0].address?.pubKeyHash?.toLowerCase() === ownerHex.toLowerCase();
    return plainToOwner ? { outputId: outputId(tx.txId, index), amount: BigInt(output.amount) } : undefined;
  } catch {
    return undefined;
  }
}

export interface ChainTip {
  /** The open transaction whose change is spent. */
  parent: StoredTransaction;
  outputId: string;
  amount: bigint;
}

/**
 * The change to build the next transaction on when no confirmed output is free: that of the newest open
 * payments transaction already posted (its block is what the next block approves), not spent by another of
 * ours, and no more than `maxDepth` transactions deep once built on. Undefined: wait for a confirmation.
 */
export function chainTip(
  transactions: StoredTransaction[],
  options: { maxDepth: number; ownerHex: string; lookup: Lookup },
): ChainTip | undefined {
  if (options.maxDepth < 1) return undefined;
  const spent = new Set(transactions.filter((t) => t.state !== 'conflicting').flatMap((t) => t.inputs));
  for (const tx of [...transactions].reverse()) {
    if (!isOpen(tx) || tx.blockIds.length === 0) continue;
    const change = changeOf(tx, options.ownerHex);
    if (!change || spent.has(change.outputId)) continue;
    if (chainDepth(tx, options.lookup) + 1 > options.maxDepth) continue;
    return { parent: tx, ...change };
  }
  return undefined;
}

/** What an open transaction may do about its unconfirmed parent, if it has one. */
export type ChainState =
  | { kind: 'confirmedInputs' }
  /** The parent is still open: post approving its latest block (or wait until it has one). */
  | { kind: 'parentOpen'; parent: StoredTransaction; approve?: string }
  /** The parent conflicts: its change will never exist, so this transaction can never be included. */
  | { kind: 'parentConflicts'; parent: StoredTransaction };

export function chainState(tx: StoredTransaction, lookup: Lookup): ChainState {
  const parent = unconfirmedParentOf(tx, lookup);
  if (!parent) return { kind: 'confirmedInputs' };
  if (parent.state === 'conflicting') return { kind: 'parentConflicts', parent };
  const approve = parent.blockIds.at(-1);
  return approve ? { kind: 'parentOpen', parent, approve } : { kind: 'parentOpen', parent };
}

/**
 * Only a payment's first transaction may stand on unconfirmed change: one issued again after a conflict
 * goes out on confirmed outputs, so a chain that falls never takes its payments down a second time.
 */
export function mayChain(p: Payment): boolean {
  return p.state === 'queued';
}

/**
 * The inputs known in full without asking the node: confirmed plain outputs to our own address that a
 * transaction of ours created. This wallet only ever makes such outputs with an address unlock condition
 * and nothing else (its own outputs, and the SDK's remainder), so the amount and address are the whole
 * output. Others (funds received from elsewhere, micro-payments coming back) are left to the SDK.
 */
export function ownKnownOutputs(
  inputs: readonly OutputSummary[],
  options: { address: string; addressHex: string; lookup: Lookup },
): Record<string, OutputSpec> {
  const known: Record<string, OutputSpec> = {};
  for (const o of inputs) {
    const creator = options.lookup(creatorOf(o.outputId));
    if (!creator || o.ownerHex !== options.addressHex || !isPlainCoinOutput(o)) continue;
    known[o.outputId] = { kind: 'basic', address: options.address, amount: o.amount };
  }
  return known;
}
