/**
 * Gathers a bill's inputs from the community indexer (ledger's IndexerApi), never from a wallet's or
 * agent's own files: the household's transactions (every output it was paid, and every transaction that
 * spent one of its outputs), their `tanglewatt/pay/v1` descriptions, and the period summaries on the meter
 * channels its purchases name, each purchase checked against its readings as `verify-period --tx` does.
 */
import { blake2b } from '@noble/hashes/blake2.js';
import {
  indexedTagBlocks,
  mapBounded,
  PAYMENT_TAG,
  type PaymentApi,
  type VerifyPaymentOptions,
  verifyPayment,
} from '@tanglewatt/channels';
import { bech32ToHex, hexToBech32, type IndexedOutputMetadata, outputIdOf } from '@tanglewatt/ledger';
import type { LedgerPayment, MeterReading } from './build.js';
import {
  ALLOCATION_READINGS,
  isAllocationPeriod,
  type RepaidRole,
  readDescription,
  type ShareRole,
} from './describe.js';
import { type BillIndexer, indexerBlocks } from './indexer-blocks.js';
import { readOwnMeter } from './meters.js';

const TRANSACTION_PAYLOAD = 6;
const TAGGED_DATA_PAYLOAD = 5;
const ADDRESS_UNLOCK = 0;
const DEPOSIT_RETURN_UNLOCK = 1;
const EXPIRATION_UNLOCK = 3;
const ED25519_ADDRESS = 0;

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
  /** Public signing keys of the household's own meters, whose public channels are read as well. */
  meters?: string[];
  /**
   * Resolves the DID a purchase's channel names into the keys its document history lists (channels'
   * didResolver): a meter that rotated its channel key verifies under the key in force at each message.
   */
  resolveDid?: VerifyPaymentOptions['resolveDid'];
}

export interface OutputJson {
  amount: string;
  unlockConditions?: {
    type: number;
    amount?: string;
    unixTime?: number;
    address?: { type: number; pubKeyHash?: string };
  }[];
}
export interface TransactionJson {
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

export function ownerOf(output: OutputJson | undefined): string | undefined {
  const address = output?.unlockConditions?.find((c) => c.type === ADDRESS_UNLOCK)?.address;
  return address?.type === ED25519_ADDRESS ? address.pubKeyHash?.toLowerCase() : undefined;
}

/** What the output gives its owner: its amount less a deposit owed back to the sender. */
export function ownedValue(output: OutputJson): bigint {
  const deposit = output.unlockConditions?.find((c) => c.type === DEPOSIT_RETURN_UNLOCK)?.amount;
  return BigInt(output.amount) - BigInt(deposit ?? '0');
}

/**
 * Whether the output's sender took it back: an output with an expiration can be unlocked only by its
 * return address (the payer) once a milestone at or past its expiry confirms the spend, and only by its
 * payee before that, so the spending milestone's time alone says who spent it.
 */
function takenBack(output: OutputJson, spent: IndexedOutputMetadata | undefined): boolean {
  const expiresAt = output.unlockConditions?.find((c) => c.type === EXPIRATION_UNLOCK)?.unixTime;
  return (
    expiresAt !== undefined &&
    spent?.transactionIdSpent !== undefined &&
    spent.milestoneTimestampSpent !== undefined &&
    spent.milestoneTimestampSpent >= expiresAt
  );
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
  // Outputs the household sent with an expiration are here too (as their return address), with their spends.
  const metadataOf = new Map(outputs.map((o) => [o.metadata.outputId.toLowerCase(), o.metadata]));
  // The block that included a transaction which paid the household is on its output; a transaction that
  // only spent the household's outputs (no change back) is found under the payment tag instead.
  const blocks = new Map<string, { blockId: string; milestoneIndex: number; milestoneTimestamp: number }>();
  const spentBy = new Set<string>();
  for (const o of outputs) {
    if (!o.roles.includes('address')) continue;
    const m = o.metadata;
    blocks.set(m.transactionId, {
      blockId: m.blockId,
      milestoneIndex: m.milestoneIndexBooked,
      milestoneTimestamp: m.milestoneTimestampBooked,
    });
    if (m.transactionIdSpent) spentBy.add(m.transactionIdSpent);
  }
  if ([...spentBy].some((id) => !blocks.has(id)))
    for (const b of await api.allTagBlocks(PAYMENT_TAG))
      if (b.ledgerInclusionState === 'included' && b.transactionId && spentBy.has(b.transactionId))
        blocks.set(b.transactionId, b);
  const tagged = [...blocks].map(([transactionId, b]) => ({ transactionId, ...b }));
  const payments: LedgerPayment[] = [];
  for (const meta of tagged) {
    // The indexer keeps only blocks with our tags: another transaction's block (a genesis output's, a
    // consolidation's) is not a payment, and answers 404.
    const block = await api.block(meta.blockId).catch((error: unknown) => {
      if ((error as { status?: unknown }).status === 404) return undefined;
      throw error;
    });
    const payload = block?.payload as TransactionJson | undefined;
    const tx = payload?.type === TRANSACTION_PAYLOAD ? payload : undefined;
    const data = tx?.essence?.payload;
    if (!tx || data?.type !== TAGGED_DATA_PAYLOAD || !data.data || hexToUtf8(data.tag ?? '') !== PAYMENT_TAG)
      continue;
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
    const wasTakenBack = (index: number) =>
      takenBack(txOutputs[index]!, metadataOf.get(outputIdOf(meta.transactionId, index).toLowerCase()));
    const takenBackOf = (index: number, role: RepaidRole, units: bigint) => ({
      role,
      outputId: outputIdOf(meta.transactionId, index).toLowerCase(),
      units,
    });
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
      // An output its payer took back after it expired was not paid: it counts 0 (a repayment pays it).
      const back: NonNullable<LedgerPayment['takenBack']> = [];
      if (wasTakenBack(terms.o)) back.push(takenBackOf(terms.o, 'payee', amountUnits));
      const shares: { role: ShareRole; units: bigint; to?: string }[] = [];
      if (sent)
        for (const s of terms.shares) {
          const shareOutput = txOutputs[s.o];
          const to = ownerOf(shareOutput);
          if (!shareOutput || !to) {
            warn(`payment "${terms.key}": its ${s.role} share names output ${s.o}, which is not a payment`);
            continue;
          }
          const units = ownedValue(shareOutput);
          const shareBack = wasTakenBack(s.o);
          if (shareBack) back.push(takenBackOf(s.o, s.role, units));
          shares.push({ role: s.role, units: shareBack ? 0n : units, to: hexToBech32(to, hrp) });
        }
      const counterparty = sent ? payee : signer;
      payments.push({
        direction: sent ? 'sent' : 'received',
        transactionId: meta.transactionId,
        blockId: meta.blockId,
        milestoneIndex: meta.milestoneIndex,
        milestoneTimestamp: meta.milestoneTimestamp,
        counterparty: counterparty ? hexToBech32(counterparty, hrp) : 'unknown',
        amountUnits: back.some((b) => b.role === 'payee') ? 0n : amountUnits,
        shares,
        ...(back.length > 0 ? { takenBack: back } : {}),
        description: raw,
      });
    }
  }
  return payments;
}

/**
 * The period summaries behind the household's purchases in the cycle: each purchase is checked as
 * `verify-period --tx` does (channels' verifyPayment, over the indexer, which keeps blocks the node has
 * pruned): its messages found from the last block it names, opened (with the reader key for a restricted
 * channel), verified under the channel's own key (or its DID's) and hashed into the readingsHash it states. A
 * purchase that fails keeps its line, with the failure's code as its `readings` verdict and a warning saying
 * why; one whose messages the indexer has not reached yet reads PENDING_INDEX (pending, not failed).
 */
export async function readReadings(
  api: BillIndexer,
  payments: LedgerPayment[],
  options: ReadBillOptions,
  warn: (m: string) => void,
): Promise<MeterReading[]> {
  const inCycle = (p: LedgerPayment) => {
    const terms = readDescription(p.description);
    const atMs = terms?.periodStart ? Date.parse(terms.periodStart) : p.milestoneTimestamp * 1000;
    return (
      (options.fromMs === undefined || atMs >= options.fromMs) &&
      (options.toMs === undefined || atMs < options.toMs)
    );
  };
  const allocation = (p: LedgerPayment) => isAllocationPeriod(readDescription(p.description)?.periodId);
  // A repayment has no readings of its own: they are its original payment's.
  const repayment = (p: LedgerPayment) => readDescription(p.description)?.repays !== undefined;
  const bought = payments.filter(
    (p) => p.direction === 'sent' && inCycle(p) && !allocation(p) && !repayment(p),
  );
  for (const p of payments) if (p.direction === 'sent' && allocation(p)) p.readings = ALLOCATION_READINGS;
  const blockOf = new Map(bought.map((p) => [p.transactionId, p.blockId]));
  const paymentApi: PaymentApi = {
    block: (blockId) => api.block(blockId),
    // A channel block posted again, its first never referenced, is found by its tag.
    taggedBlocks: (tag) => indexedTagBlocks(api, tag),
    // The channel's own key signs at every milestone: which milestone referenced a block is not needed.
    blockMetadata: async () => ({}),
    // A purchase's messages the indexer lacks while it has not come far past the purchase: not indexed yet.
    includedMilestone: async (transactionId) =>
      bought.find((p) => p.transactionId === transactionId)?.milestoneIndex,
    indexedMilestone: async () => (await api.health()).indexedMilestone,
    includedBlock: (transactionId) => {
      const blockId = blockOf.get(transactionId);
      if (!blockId)
        return Promise.reject(Object.assign(new Error(`transaction ${transactionId}`), { status: 404 }));
      return api.block(blockId);
    },
  };
  // A DID's keys depend on the milestone that referenced each message: read it for purchases naming a DID.
  const withMilestones: PaymentApi = { ...paymentApi, blockMetadata: indexerBlocks(api).blockMetadata };
  const namesDid = (transactionId: string) =>
    bought.some(
      (p) =>
        p.transactionId === transactionId &&
        typeof (p.description as { channel?: { did?: unknown } } | null)?.channel?.did === 'string',
    );
  const transactions = [...blockOf.keys()];
  const checked = await mapBounded(transactions, CHECKS_AT_ONCE, (transactionId) =>
    verifyPayment({
      api: options.resolveDid && namesDid(transactionId) ? withMilestones : paymentApi,
      transactionId,
      ...(options.readerSecretKey ? { readerSecretKey: options.readerSecretKey } : {}),
      ...(options.resolveDid ? { resolveDid: options.resolveDid } : {}),
    }),
  );
  const readings: MeterReading[] = [];
  for (const [i, verdicts] of checked.entries()) {
    const transactionId = transactions[i]!;
    for (const verdict of verdicts) {
      const line = bought.find(
        (p) =>
          p.transactionId === transactionId && readDescription(p.description)?.key === verdict.paymentKey,
      );
      if (!line) continue;
      line.readings = verdict.code;
      if (!verdict.ok) {
        const what = verdict.code === 'PENDING_INDEX' ? 'pending' : verdict.code;
        warn(`payment "${verdict.paymentKey}": readings ${what}: ${verdict.detail}`);
        continue;
      }
      const channelId = verdict.channel?.channelId ?? '';
      for (const m of verdict.channel?.messages ?? [])
        for (const s of m.summaries)
          readings.push({
            channelId,
            periodId: s.periodId,
            startMs: s.startMs,
            endMs: s.endMs,
            energyMWs: s.energyMWs,
          });
    }
  }
  return readings;
}

/** Transactions whose readings are checked at once (each walks its periods' messages one by one). */
const CHECKS_AT_ONCE = 4;

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
  for (const key of options.meters ?? [])
    readings.push(
      ...(await readOwnMeter(
        api,
        key,
        { fromMs: options.fromMs ?? 0, toMs: options.toMs ?? Date.now() },
        warn,
      )),
    );
  return { payments, readings, warnings };
}
