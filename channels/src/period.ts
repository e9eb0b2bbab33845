/**
 * Ties a payment to readings, from the Tangle alone: the payment transaction's tagged data
 * (`tanglewatt/pay/v1`) names the period's readingsHash; the period's channel messages, read and verified
 * from their blocks, must hash to exactly that Merkle root.
 */
import { z } from 'zod';
import { fromHex } from './bytes.js';
import type { ChannelMode } from './format.js';
import { merkleRootHex } from './merkle.js';
import type { EpochKeyring } from './message.js';
import { type ReadResult, readChannel } from './reader.js';
import type { SignerKeys } from './signers.js';
import { type BlockApi, NodeBlockSource } from './sources.js';

/** Tag of the tagged data that describes a transaction's payments (wallet-service's PAYMENT_TAG). */
export const PAYMENT_TAG = 'tanglewatt/pay/v1';
const TRANSACTION_PAYLOAD = 6;
const TAGGED_DATA_PAYLOAD = 5;

export interface PaymentApi extends BlockApi {
  /** The block that got the transaction included (NodeApi.includedBlock). */
  includedBlock(transactionId: string): Promise<{ payload?: { type: number; [field: string]: unknown } }>;
  /** The milestone that included the transaction, when the source knows it (the indexer does). */
  includedMilestone?(transactionId: string): Promise<number | undefined>;
  /**
   * The newest milestone the block source has indexed (the indexer's health). With includedMilestone it
   * tells a message not indexed yet (PENDING_INDEX) from one that is missing (MESSAGE_NOT_FOUND).
   */
  indexedMilestone?(): Promise<number | undefined>;
}

/** One payment as wallet-service describes it in the transaction: key, output, amount and its metadata. */
const paymentDescription = z.looseObject({
  k: z.string(),
  o: z.number().int().optional(),
  a: z.string().optional(),
  periodId: z.string().optional(),
  meterId: z.string().optional(),
  energyMWs: z
    .string()
    .regex(/^-?[0-9]+$/)
    .optional(),
  periodStart: z.iso.datetime().optional(),
  periodEnd: z.iso.datetime().optional(),
  readingsHash: z.string().optional(),
  /** Where the period's messages are (meter-agent payments name it); parsed on its own by channelRefOf. */
  channel: z.unknown().optional(),
});
export type PaymentDescription = z.infer<typeof paymentDescription>;

const hex64 = /^[0-9a-f]{64}$/;
const blockIdPattern = /^0x[0-9a-f]{64}$/;
/** The `channel` part of a payment description (contract's paymentChannel, read leniently here). */
const channelRef = z.looseObject({
  id: z.string().regex(hex64, '64 lowercase hex digits'),
  publicKey: z.string().regex(hex64, '64 lowercase hex digits').optional(),
  fromSeq: z.number().int().min(0),
  toSeq: z.number().int().min(0),
  lastBlockId: z.string().regex(blockIdPattern, 'a block id'),
  epochs: z
    .record(
      z.string().regex(/^[1-9][0-9]{0,9}$/, 'an epoch number'),
      z.string().regex(blockIdPattern, 'a block id'),
    )
    .optional(),
  did: z.string().optional(),
  didOrigin: z.string().optional(),
});
export type PaymentChannelRef = z.infer<typeof channelRef>;

/** The payment's channel description, or why it has none usable. */
export function channelRefOf(payment: PaymentDescription): { ref: PaymentChannelRef } | { error: string } {
  if (payment.channel === undefined)
    return {
      error: `payment "${payment.k}" names no channel (paid before payments named their messages, or by a meter without a channel): give --channel and --blocks`,
    };
  const parsed = channelRef.safeParse(payment.channel);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { error: `payment "${payment.k}": channel.${issue.path.join('.')}: ${issue.message}` };
  }
  if (parsed.data.toSeq < parsed.data.fromSeq)
    return { error: `payment "${payment.k}": channel.toSeq is before channel.fromSeq` };
  if (parsed.data.toSeq - parsed.data.fromSeq >= MAX_PERIOD_MESSAGES)
    return { error: `payment "${payment.k}": more than ${MAX_PERIOD_MESSAGES} messages in one period` };
  return { ref: parsed.data };
}

/** A bound on the walk: a period of a day at one message a second. */
const MAX_PERIOD_MESSAGES = 86_400;

const paymentData = z.looseObject({ payments: z.array(z.unknown()) });

export type PeriodVerdictCode =
  | 'PASS'
  | 'PAYMENT_NOT_FOUND'
  | 'NO_READINGS_HASH'
  | 'NO_CHANNEL'
  | 'NO_MESSAGES'
  | 'MESSAGE_NOT_FOUND'
  /** A message the block source does not hold yet, and has not indexed past the payment's milestone. */
  | 'PENDING_INDEX'
  | 'RANGE_MISMATCH'
  | 'WRONG_KEY'
  | 'NO_SIGNER'
  | 'BAD_SIGNATURE'
  | 'CHANNEL_INVALID'
  | 'OUTSIDE_PERIOD'
  | 'SUMMARY_MISMATCH'
  | 'ROOT_MISMATCH';

export interface PeriodVerdict {
  ok: boolean;
  code: PeriodVerdictCode;
  detail: string;
  transactionId: string;
  paymentKey: string;
  payment?: PaymentDescription;
  /** As the payment states it (lowercase, no 0x). */
  readingsHash?: string;
  /** Merkle root of the verified messages. */
  computedRoot?: string;
  seqRange?: [number, number];
  channel?: ReadResult;
  /** Whose keys the messages were verified with (a DID, the channel's own key, keys given). */
  signer?: string;
}

function utf8OfHex(hex: string): string {
  return new TextDecoder().decode(fromHex(hex));
}

/** Every payment a transaction's `tanglewatt/pay/v1` tagged data describes (raw: parse each on its own). */
export async function paymentsOf(
  api: PaymentApi,
  transactionId: string,
): Promise<{ payments: unknown[] } | { error: string }> {
  let block: Awaited<ReturnType<PaymentApi['includedBlock']>>;
  try {
    block = await api.includedBlock(transactionId);
  } catch (error) {
    const e = error as { code?: unknown; status?: unknown; message?: string };
    if (e?.code === 'NOT_FOUND' || e?.status === 404)
      return { error: `transaction ${transactionId} is not included in the ledger` };
    throw error;
  }
  const payload = block.payload as {
    type: number;
    essence?: { payload?: { type: number; tag?: string; data?: string } };
  };
  const tagged = payload?.type === TRANSACTION_PAYLOAD ? payload.essence?.payload : undefined;
  if (tagged?.type !== TAGGED_DATA_PAYLOAD || !tagged.tag || !tagged.data)
    return { error: `transaction ${transactionId} carries no tagged data` };
  const tag = utf8OfHex(tagged.tag);
  if (tag !== PAYMENT_TAG) return { error: `transaction's tagged data is "${tag}", not ${PAYMENT_TAG}` };
  let json: unknown;
  try {
    json = JSON.parse(utf8OfHex(tagged.data));
  } catch {
    return { error: 'the transaction’s payment description is not JSON' };
  }
  const data = paymentData.safeParse(json);
  if (!data.success) return { error: 'the transaction’s tagged data lists no payments' };
  return { payments: data.data.payments };
}

export function describedPayment(
  raw: unknown,
  paymentKey: string,
): { payment: PaymentDescription } | { error: string } {
  const payment = paymentDescription.safeParse(raw);
  if (!payment.success)
    return {
      error: `payment "${paymentKey}" is described wrongly: ${z.prettifyError(payment.error).split('\n')[0]}`,
    };
  return { payment: payment.data };
}

/** The payment with key `paymentKey` in a transaction's `tanglewatt/pay/v1` tagged data. */
export async function findPayment(
  api: PaymentApi,
  transactionId: string,
  paymentKey: string,
): Promise<{ payment: PaymentDescription } | { error: string }> {
  const found = await paymentsOf(api, transactionId);
  if ('error' in found) return found;
  const raw = found.payments.find((p) => (p as { k?: unknown } | null)?.k === paymentKey);
  if (raw === undefined)
    return { error: `no payment with key "${paymentKey}" in transaction ${transactionId}` };
  return describedPayment(raw, paymentKey);
}

export interface VerifyPeriodOptions {
  api: PaymentApi;
  transactionId: string;
  paymentKey: string;
  channelId: string;
  /** The period's blocks, in sequence order (the writer's blockIndex for the period's seq range). */
  blockIds: string[];
  signers: SignerKeys;
  mode?: ChannelMode;
  readerSecretKey?: Uint8Array;
  epochKeys?: EpochKeyring | Iterable<[number, Uint8Array]>;
}

export const normalizeHash = (h: string) => h.toLowerCase().replace(/^0x/, '');

/** Pass or fail, with the reason, for "this payment pays for exactly these verified readings". */
export async function verifyPeriod(options: VerifyPeriodOptions): Promise<PeriodVerdict> {
  const base = { transactionId: options.transactionId, paymentKey: options.paymentKey };
  const verdict = (
    code: PeriodVerdictCode,
    detail: string,
    extra: Partial<PeriodVerdict> = {},
  ): PeriodVerdict => ({
    ok: code === 'PASS',
    code,
    detail,
    ...base,
    ...extra,
  });

  const found = await findPayment(options.api, options.transactionId, options.paymentKey);
  if ('error' in found) return verdict('PAYMENT_NOT_FOUND', found.error);
  const { payment } = found;
  if (typeof payment.readingsHash !== 'string' || !/^(0x)?[0-9a-fA-F]{64}$/.test(payment.readingsHash))
    return verdict('NO_READINGS_HASH', 'the payment names no readingsHash', { payment });
  const readingsHash = normalizeHash(payment.readingsHash);
  if (options.blockIds.length === 0)
    return verdict('NO_MESSAGES', 'no channel blocks given', { payment, readingsHash });

  const channel = await readChannel(new NodeBlockSource(options.api, options.blockIds), {
    channelId: options.channelId,
    signers: options.signers,
    startAnywhere: true,
    ...(options.mode ? { mode: options.mode } : {}),
    ...(options.readerSecretKey ? { readerSecretKey: options.readerSecretKey } : {}),
    ...(options.epochKeys ? { epochKeys: options.epochKeys } : {}),
  });
  return judge(payment, readingsHash, channel, verdict);
}

export type VerdictOf = (
  code: PeriodVerdictCode,
  detail: string,
  extra?: Partial<PeriodVerdict>,
) => PeriodVerdict;

/** The verified messages against what the payment says: its period, its summary, its readingsHash. */
export function judge(
  payment: PaymentDescription,
  readingsHash: string,
  channel: ReadResult,
  verdict: VerdictOf,
  signer?: string,
): PeriodVerdict {
  const extra = { payment, readingsHash, channel, ...(signer ? { signer } : {}) };
  const failure = channel.failures[0];
  if (failure)
    return verdict(
      failure.reason === 'BAD_SIGNATURE' && signer ? 'BAD_SIGNATURE' : 'CHANNEL_INVALID',
      `${failure.reason} at ${failure.seq !== undefined ? `seq ${failure.seq}` : `position ${failure.position}`}: ${failure.detail}${signer ? ` (signer: ${signer})` : ''}`,
      extra,
    );
  const messages = channel.messages;
  if (messages.length === 0) return verdict('NO_MESSAGES', 'no channel messages', extra);
  const seqRange: [number, number] = [messages[0]!.seq, messages.at(-1)!.seq];

  const startMs = payment.periodStart ? Date.parse(payment.periodStart) : undefined;
  const endMs = payment.periodEnd ? Date.parse(payment.periodEnd) : undefined;
  const outside = messages.find(
    (m) => (startMs !== undefined && m.fromMs < startMs) || (endMs !== undefined && m.toMs > endMs),
  );
  if (outside)
    return verdict(
      'OUTSIDE_PERIOD',
      `seq ${outside.seq} covers ${new Date(outside.fromMs).toISOString()}..${new Date(outside.toMs).toISOString()}, outside the paid period`,
      { ...extra, seqRange },
    );

  if (payment.periodId !== undefined) {
    const summary = messages.flatMap((m) => m.summaries).find((s) => s.periodId === payment.periodId);
    if (!summary)
      return verdict('SUMMARY_MISMATCH', `no summary of period ${payment.periodId} in these messages`, {
        ...extra,
        seqRange,
      });
    if (payment.energyMWs !== undefined && summary.energyMWs.toString() !== payment.energyMWs)
      return verdict(
        'SUMMARY_MISMATCH',
        `the payment is for ${payment.energyMWs} mWs, the meter's summary says ${summary.energyMWs}`,
        { ...extra, seqRange },
      );
  }

  const computedRoot = merkleRootHex(messages.map((m) => m.hash));
  if (computedRoot !== readingsHash)
    return verdict(
      'ROOT_MISMATCH',
      `readingsHash ${readingsHash} is not the Merkle root ${computedRoot} of seq ${seqRange[0]}..${seqRange[1]}`,
      { ...extra, computedRoot, seqRange },
    );
  return verdict(
    'PASS',
    `${messages.length} messages (seq ${seqRange[0]}..${seqRange[1]}) verified; root matches`,
    {
      ...extra,
      computedRoot,
      seqRange,
    },
  );
}
