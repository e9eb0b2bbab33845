/**
 * Gathers a bill's inputs from the community indexer (ledger's IndexerApi), never from a wallet's or
 * agent's own files: the household's transactions (every output it was paid, and every transaction that
 * spent one of its outputs), their `tanglewatt/pay/v1` descriptions, and the period summaries on the meter
 * channels its purchases name, read and verified with channels' reader.
 */
import { blake2b } from '@noble/hashes/blake2.js';
import {
  type BlockApi,
  channelIdHex,
  channelRefOf,
  followChain,
  fromHex,
  PAYMENT_TAG,
  type PaymentChannelRef,
  staticSigners,
  verifyEntries,
} from '@tanglewatt/channels';
import { bech32ToHex, hexToBech32, type IndexerApi } from '@tanglewatt/ledger';
import type { LedgerPayment, MeterReading } from './build.js';
import { readDescription, type ShareRole } from './describe.js';

const TRANSACTION_PAYLOAD = 6;
const TAGGED_DATA_PAYLOAD = 5;
const ADDRESS_UNLOCK = 0;
const DEPOSIT_RETURN_UNLOCK = 1;
const ED25519_ADDRESS = 0;

/** The indexer calls a bill needs (IndexerApi has them). */
export type BillIndexer = Pick<IndexerApi, 'allAddressOutputs' | 'allTagBlocks' | 'block' | 'blockMetadata'>;

export interface BillSources {
  payments: LedgerPayment[];
  readings: MeterReading[];
  warnings: string[];
}

export interface ReadBillOptions {
  /** X25519 secret key of a reader of the household's restricted channel. */
  readerSecretKey?: Uint8Array;
  /** Only payments and periods from this instant on are read into readings (unix ms). */
  fromMs?: number;
  toMs?: number;
}

interface OutputJson {
  amount: string;
  unlockConditions?: { type: number; amount?: string; address?: { type: number; pubKeyHash?: string } }[];
}
interface TransactionJson {
  type: number;
  essence?: { outputs?: OutputJson[]; payload?: { type: number; tag?: string; data?: string } };
  unlocks?: { type: number; signature?: { publicKey?: string } }[];
}

const hexToUtf8 = (hex: string) => Buffer.from(hex.replace(/^0x/, ''), 'hex').toString('utf8');

/** Ed25519 address (0x hash) of the first signature in a transaction's unlocks: who paid. */
export function signerOf(payload: TransactionJson): string | undefined {
  const key = payload.unlocks?.find((u) => u.type === 0 && u.signature?.publicKey)?.signature?.publicKey;
  if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key)) return undefined;
  return `0x${Buffer.from(blake2b(Buffer.from(key.slice(2), 'hex'), { dkLen: 32 })).toString('hex')}`;
}

function ownerOf(output: OutputJson | undefined): string | undefined {
  const address = output?.unlockConditions?.find((c) => c.type === ADDRESS_UNLOCK)?.address;
  return address?.type === ED25519_ADDRESS ? address.pubKeyHash?.toLowerCase() : undefined;
}

/** What the output gives its owner: its amount less a deposit owed back to the sender. */
function ownedValue(output: OutputJson): bigint {
  const deposit = output.unlockConditions?.find((c) => c.type === DEPOSIT_RETURN_UNLOCK)?.amount;
  return BigInt(output.amount) - BigInt(deposit ?? '0');
}

/** The indexer as the channel reader's block source (it keeps blocks the node has pruned). */
export function indexerBlocks(api: BillIndexer): BlockApi {
  return {
    block: (blockId) => api.block(blockId),
    blockMetadata: async (blockId) => ({
      referencedByMilestoneIndex: (await api.blockMetadata(blockId)).milestoneIndex,
    }),
  };
}

/** The household's payments, sent and received, with their descriptions and ledger amounts. */
export async function readPayments(
  api: BillIndexer,
  household: string,
  warn: (m: string) => void,
): Promise<LedgerPayment[]> {
  const hrp = household.slice(0, household.lastIndexOf('1'));
  const householdHex = bech32ToHex(household).toLowerCase();
  const outputs = await api.allAddressOutputs(household);
  const transactions = new Set<string>();
  for (const o of outputs) {
    if (!o.roles.includes('address')) continue;
    transactions.add(o.metadata.transactionId);
    if (o.metadata.transactionIdSpent) transactions.add(o.metadata.transactionIdSpent);
  }
  const tagged = (await api.allTagBlocks(PAYMENT_TAG)).filter(
    (b) => b.ledgerInclusionState === 'included' && b.transactionId && transactions.has(b.transactionId),
  );
  const payments: LedgerPayment[] = [];
  for (const meta of tagged) {
    const payload = (await api.block(meta.blockId)).payload as TransactionJson | undefined;
    const tx = payload?.type === TRANSACTION_PAYLOAD ? payload : undefined;
    const data = tx?.essence?.payload;
    if (!tx || data?.type !== TAGGED_DATA_PAYLOAD || !data.data) continue;
    let description: { payments?: unknown };
    try {
      description = JSON.parse(hexToUtf8(data.data)) as typeof description;
    } catch {
      warn(`transaction ${meta.transactionId}: its payment description is not JSON`);
      continue;
    }
    if (!Array.isArray(description.payments)) continue;
    const signer = signerOf(tx);
    const txOutputs = tx.essence?.outputs ?? [];
    for (const raw of description.payments) {
      const terms = readDescription(raw, warn);
      if (!terms || terms.o === undefined) continue;
      const output = txOutputs[terms.o];
      const payee = ownerOf(output);
      if (!output || !payee) {
        warn(
          `payment "${terms.key}": output ${terms.o} of ${meta.transactionId} is not a payment to an address`,
        );
        continue;
      }
      const sent = signer === householdHex && payee !== householdHex;
      const received = signer !== householdHex && payee === householdHex;
      if (!sent && !received) continue;
      const amountUnits = ownedValue(output);
      if (terms.a !== undefined && terms.a !== amountUnits)
        warn(
          `payment "${terms.key}": its description says ${terms.a} units, the ledger ${amountUnits}: the ledger's counted`,
        );
      const shares: { role: ShareRole; units: bigint; to?: string }[] = [];
      if (sent)
        for (const s of terms.shares) {
          const shareOutput = txOutputs[s.o];
          const to = ownerOf(shareOutput);
          if (!shareOutput || !to) {
            warn(`payment "${terms.key}": its ${s.role} share names output ${s.o}, which is not a payment`);
            continue;
          }
          shares.push({ role: s.role, units: ownedValue(shareOutput), to: hexToBech32(to, hrp) });
        }
      const counterparty = sent ? payee : signer;
      payments.push({
        direction: sent ? 'sent' : 'received',
        transactionId: meta.transactionId!,
        blockId: meta.blockId,
        milestoneIndex: meta.milestoneIndex,
        milestoneTimestamp: meta.milestoneTimestamp,
        counterparty: counterparty ? hexToBech32(counterparty, hrp) : 'unknown',
        amountUnits,
        shares,
        description: raw,
      });
    }
  }
  return payments;
}

/**
 * The period summaries on the channels the household's purchases name: per channel, walk back from the
 * newest payment's last block to the oldest payment's first message, then verify every message under the
 * channel's own key (its id is the key's hash). A channel that cannot be read is a warning, not a bill.
 */
export async function readReadings(
  api: BillIndexer,
  sent: readonly LedgerPayment[],
  options: ReadBillOptions,
  warn: (m: string) => void,
): Promise<MeterReading[]> {
  const spans = new Map<string, { ref: PaymentChannelRef; fromSeq: number }>();
  for (const p of sent) {
    if (p.direction !== 'sent') continue;
    const terms = readDescription(p.description);
    if (!terms?.channel) continue;
    const atMs = terms.periodStart ? Date.parse(terms.periodStart) : p.milestoneTimestamp * 1000;
    if (
      (options.fromMs !== undefined && atMs < options.fromMs) ||
      (options.toMs !== undefined && atMs >= options.toMs)
    )
      continue;
    const found = channelRefOf({ k: terms.key, channel: terms.channel });
    if ('error' in found) {
      warn(found.error);
      continue;
    }
    const { ref } = found;
    const span = spans.get(ref.id);
    if (!span) spans.set(ref.id, { ref, fromSeq: ref.fromSeq });
    else {
      if (ref.toSeq > span.ref.toSeq) span.ref = ref;
      span.fromSeq = Math.min(span.fromSeq, ref.fromSeq);
    }
  }
  const readings: MeterReading[] = [];
  for (const [channelId, { ref, fromSeq }] of spans) {
    const publicKey = ref.publicKey ? fromHex(ref.publicKey, 32, 'public key') : undefined;
    if (!publicKey || channelIdHex(publicKey) !== channelId) {
      warn(
        `channel ${channelId.slice(0, 16)}…: its payments name no key of its own (a rotated key or a DID): not read`,
      );
      continue;
    }
    const walked = await followChain(indexerBlocks(api), ref.lastBlockId, {
      stopAtSeq: fromSeq,
      milestones: false,
      ...(options.readerSecretKey ? { readerSecretKey: options.readerSecretKey } : {}),
    });
    if (walked.stopped) {
      warn(`channel ${channelId.slice(0, 16)}…: ${walked.stopped.detail}`);
      continue;
    }
    const read = verifyEntries(walked.entries, {
      channelId,
      signers: staticSigners([publicKey]),
      startAnywhere: true,
      ...(options.readerSecretKey ? { readerSecretKey: options.readerSecretKey } : {}),
    });
    const failure = read.failures[0];
    if (failure) {
      warn(`channel ${channelId.slice(0, 16)}…: ${failure.reason}: ${failure.detail}`);
      continue;
    }
    for (const m of read.messages)
      for (const s of m.summaries)
        readings.push({
          channelId,
          periodId: s.periodId,
          startMs: s.startMs,
          endMs: s.endMs,
          energyMWs: s.energyMWs,
        });
  }
  return readings;
}

/** Everything buildBill needs besides the config, from the indexer. */
export async function readBillSources(
  api: BillIndexer,
  household: string,
  options: ReadBillOptions = {},
): Promise<BillSources> {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  const payments = await readPayments(api, household, warn);
  const readings = await readReadings(api, payments, options, warn);
  return { payments, readings, warnings };
}
