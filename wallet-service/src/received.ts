import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { blake2b } from '@noble/hashes/blake2.js';
import {
  type ClaimState,
  type PaymentMetadata,
  paymentMetadata,
  type ReceivedPayment as ReceivedPaymentJson,
} from '@tanglewatt/contract';
import { isError } from '@tanglewatt/errors';
import { Journal } from '@tanglewatt/journal';
import {
  type BlockJson,
  hexToBech32,
  type MilestoneChanges,
  type NodeApi,
  type OutputSummary,
  utf8ToHex,
} from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import { paymentEntriesOf } from './delivery-history.js';

/**
 * Payments this wallet received, as the ledger shows them: every output a confirmed milestone created
 * for our address by a transaction someone else signed, with who signed it and what its `tanglewatt/pay/v1`
 * description says of it. Journaled: the node keeps only a day of milestones and the wallet's ledger view
 * forgets spent outputs, so neither could rebuild the history after a restart.
 */

export interface ReceivedPayment {
  outputId: string;
  transactionId: string;
  blockId?: string;
  milestoneIndex: number;
  /** Unix seconds of the milestone that confirmed it. */
  milestoneTimestamp: number;
  /** What is ours: the output's amount less any deposit owed back to the sender. */
  amountUnits: bigint;
  /** bech32 address that signed the transaction; absent when the node no longer has it (pruned). */
  from?: string;
  /** The payer's idempotency key, when the transaction's description names this output. */
  key?: string;
  metadata?: PaymentMetadata;
  micro: boolean;
  /** Deposit owed back to the sender when claimed (micro-payments). */
  depositUnits?: bigint;
  /** Unix seconds after which the sender may take a micro-payment back. */
  expiresAt?: number;
  /** Milestone that spent a micro-payment's output: our claim before expiry, the sender's after. */
  settledAt?: { milestoneIndex: number; milestoneTimestamp: number };
}

type Record_ =
  | { t: 'received'; p: Omit<ReceivedPaymentJson, 'claim' | 'settledAtMilestone'> }
  | { t: 'spent'; outputId: string; milestoneIndex: number; milestoneTimestamp: number }
  | { t: 'began'; milestoneIndex: number };

export interface ReceivedDeps {
  api: NodeApi;
  addressHex: string;
  bech32Hrp: string;
  paymentTag: string;
  /** True for a transaction this wallet signed (its change, claims and reclaims are not received). */
  ownTransaction: (transactionId: string) => boolean;
  log: Logger;
}

/** Ed25519 address (0x hash) of the first signature in a transaction block's unlocks. */
export function signerAddressHex(block: BlockJson): string | undefined {
  const unlocks = (block.payload as { unlocks?: { type: number; signature?: { publicKey?: string } }[] })
    ?.unlocks;
  const key = unlocks?.find((u) => u.type === 0 && u.signature?.publicKey)?.signature?.publicKey;
  if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key)) return undefined;
  return `0x${Buffer.from(blake2b(Buffer.from(key.slice(2), 'hex'), { dkLen: 32 })).toString('hex')}`;
}

/** The claim state of a micro-payment at `nowSeconds`; undefined for a plain output. */
export function claimStateOf(p: ReceivedPayment, nowSeconds: number): ClaimState | undefined {
  if (!p.micro) return undefined;
  // The ledger lets the return address unlock from the expiry on (judged by the confirming milestone).
  const expired = (at: number) => p.expiresAt !== undefined && p.expiresAt <= at;
  if (p.settledAt) return expired(p.settledAt.milestoneTimestamp) ? 'returned' : 'claimed';
  return expired(nowSeconds) ? 'expired' : 'unclaimed';
}

export function receivedToJson(p: ReceivedPayment, nowSeconds: number): ReceivedPaymentJson {
  const { amountUnits, depositUnits, settledAt, ...rest } = p;
  const claim = claimStateOf(p, nowSeconds);
  return {
    ...rest,
    amountUnits: amountUnits.toString(),
    ...(depositUnits !== undefined ? { depositUnits: depositUnits.toString() } : {}),
    ...(claim ? { claim } : {}),
    ...(settledAt ? { settledAtMilestone: settledAt.milestoneIndex } : {}),
  };
}

const order = (a: ReceivedPayment, b: ReceivedPayment) =>
  a.milestoneIndex - b.milestoneIndex || (a.outputId < b.outputId ? -1 : a.outputId > b.outputId ? 1 : 0);

/** Emits `received` for each new payment and again when a micro-payment is claimed or returned. */
export class ReceivedPayments extends EventEmitter<{ received: [ReceivedPayment] }> {
  /** Oldest first. */
  private readonly items: ReceivedPayment[] = [];
  private readonly byOutput = new Map<string, ReceivedPayment>();
  private began: number | undefined;

  private constructor(
    private readonly journal: Journal<Record_>,
    private readonly deps: ReceivedDeps,
  ) {
    super();
  }

  static async open(dataDir: string, deps: ReceivedDeps): Promise<ReceivedPayments> {
    const { journal, records } = await Journal.open<Record_>(join(dataDir, 'received.journal'));
    const history = new ReceivedPayments(journal, { ...deps, addressHex: deps.addressHex.toLowerCase() });
    for (const r of records) history.apply(r);
    return history;
  }

  /** The milestone this history began at: payments before it are known only if their output was unspent then. */
  get beganAt(): number | undefined {
    return this.began;
  }

  private apply(r: Record_): void {
    if (r.t === 'began') this.began ??= r.milestoneIndex;
    else if (r.t === 'received') {
      if (this.byOutput.has(r.p.outputId)) return;
      const { amountUnits, depositUnits, ...rest } = r.p;
      const p: ReceivedPayment = {
        ...rest,
        amountUnits: BigInt(amountUnits),
        ...(depositUnits !== undefined ? { depositUnits: BigInt(depositUnits) } : {}),
      };
      this.byOutput.set(p.outputId, p);
      let i = this.items.length;
      while (i > 0 && order(this.items[i - 1]!, p) > 0) i--;
      this.items.splice(i, 0, p);
    } else {
      const p = this.byOutput.get(r.outputId);
      if (p && !p.settledAt)
        p.settledAt = { milestoneIndex: r.milestoneIndex, milestoneTimestamp: r.milestoneTimestamp };
    }
  }

  private async commit(records: Record_[]): Promise<void> {
    if (records.length === 0) return;
    await this.journal.appendMany(records);
    const changed = new Set<ReceivedPayment>();
    for (const r of records) {
      if (r.t === 'began') {
        this.apply(r);
        continue;
      }
      const id = r.t === 'received' ? r.p.outputId : r.outputId;
      const before = this.byOutput.get(id);
      const settled = before?.settledAt;
      this.apply(r);
      const after = this.byOutput.get(id);
      if (after && (!before || (!settled && after.settledAt))) changed.add(after);
    }
    for (const p of changed) this.emit('received', p);
  }

  /** Outputs owned by us that someone else's transaction created, read into payments. */
  private async read(outputs: OutputSummary[], milestoneTimestamp: (index: number) => Promise<number>) {
    const { api, addressHex, bech32Hrp, ownTransaction } = this.deps;
    const tagHex = utf8ToHex(this.deps.paymentTag);
    const mine = outputs.filter(
      (o) => o.ownerHex === addressHex && !this.byOutput.has(o.outputId) && !ownTransaction(o.transactionId),
    );
    const blocks = new Map<string, { block?: BlockJson; blockId?: string }>();
    const records: Record_[] = [];
    for (const o of mine) {
      let tx = blocks.get(o.transactionId);
      if (!tx) {
        tx = await readTransaction(api, o.transactionId);
        blocks.set(o.transactionId, tx);
      }
      const signer = tx.block ? signerAddressHex(tx.block) : undefined;
      if (signer === addressHex) continue; // our own, signed by another copy of this wallet
      const entry = tx.block
        ? paymentEntriesOf(tx.block, tagHex).find((e) => e.outputIndex === o.outputIndex)
        : undefined;
      const metadata = entry ? paymentMetadata.safeParse(entry.metadata) : undefined;
      const deposit = o.depositReturn?.amount;
      const micro = o.depositReturn !== undefined || o.expiration !== undefined;
      records.push({
        t: 'received',
        p: {
          outputId: o.outputId,
          transactionId: o.transactionId,
          ...(tx.blockId ? { blockId: tx.blockId } : {}),
          milestoneIndex: o.milestoneIndexBooked,
          milestoneTimestamp: await milestoneTimestamp(o.milestoneIndexBooked),
          amountUnits: (o.amount - (deposit ?? 0n)).toString(),
          ...(signer ? { from: hexToBech32(signer, bech32Hrp) } : {}),
          ...(entry ? { key: entry.key } : {}),
          ...(metadata?.success && Object.keys(metadata.data).length ? { metadata: metadata.data } : {}),
          micro,
          ...(deposit !== undefined ? { depositUnits: deposit.toString() } : {}),
          ...(o.expiration ? { expiresAt: o.expiration.unixTime } : {}),
        },
      });
    }
    return records;
  }

  /**
   * One confirmed milestone, before the wallet's ledger view records it as read (so a crash in between
   * reads it again; outputs already recorded are skipped).
   */
  async noteMilestone(changes: MilestoneChanges): Promise<void> {
    const records = await this.read(changes.created, async () => changes.timestamp);
    for (const id of changes.consumed) {
      const p = this.byOutput.get(id);
      if (p?.micro && !p.settledAt)
        records.push({
          t: 'spent',
          outputId: id,
          milestoneIndex: changes.index,
          milestoneTimestamp: changes.timestamp,
        });
    }
    await this.commit(records);
  }

  /**
   * On a new history: records the payments still unspent in the wallet's outputs, so an existing wallet
   * does not start empty. Call before the ledger view follows milestones; failures are retried next start.
   */
  async beginFrom(unspent: OutputSummary[], ledgerIndex: number): Promise<void> {
    if (this.began !== undefined) return;
    const timestamps = new Map<number, number>();
    const records = await this.read(unspent, async (index) => {
      let t = timestamps.get(index);
      if (t === undefined) {
        t = (await this.deps.api.milestoneByIndex(index)).timestamp;
        timestamps.set(index, t);
      }
      return t;
    });
    await this.commit([...records, { t: 'began', milestoneIndex: ledgerIndex }]);
  }

  /** Newest first, `limit` of them, after the one with output id `before` when given. */
  list(
    options: { limit: number; before?: string },
    nowSeconds = Math.floor(Date.now() / 1000),
  ): { items: ReceivedPaymentJson[]; total: number; next: string | null } | undefined {
    let end = this.items.length;
    if (options.before !== undefined) {
      const cursor = this.byOutput.get(options.before);
      if (!cursor) return undefined;
      end = this.items.indexOf(cursor);
    }
    const page = this.items.slice(Math.max(0, end - options.limit), end).reverse();
    const start = end - page.length;
    return {
      items: page.map((p) => receivedToJson(p, nowSeconds)),
      total: this.items.length,
      next: start > 0 && page.length ? page[page.length - 1]!.outputId : null,
    };
  }

  async close(): Promise<void> {
    await this.journal.close();
  }
}

async function readTransaction(
  api: NodeApi,
  transactionId: string,
): Promise<{ block?: BlockJson; blockId?: string }> {
  try {
    const [block, meta] = await Promise.all([
      api.includedBlock(transactionId),
      api.includedBlockMetadata(transactionId),
    ]);
    return { block, blockId: meta.blockId };
  } catch (error) {
    // Pruned: the payment is still ours; who sent it and why is no longer on the node.
    if (isError(error, 'NOT_FOUND')) return {};
    throw error;
  }
}
