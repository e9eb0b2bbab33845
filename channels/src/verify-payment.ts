/**
 * Verifies a payment from its transaction alone: the payment names its channel messages (last block, epoch
 * announcements, signer), so a member with only a reader key finds and checks the period's messages.
 */
import { fromHex, isZero, toBlockId, toHex } from './bytes.js';
import { channelIdHex, x25519PublicKey } from './crypto.js';
import { EpochKeyring, openWire } from './message.js';
import {
  channelRefOf,
  describedPayment,
  judge,
  normalizeHash,
  type PaymentApi,
  type PaymentChannelRef,
  type PeriodVerdict,
  type PeriodVerdictCode,
  paymentsOf,
  type VerdictOf,
} from './period.js';
import { verifyEntries } from './reader.js';
import { type SignerKeys, staticSigners } from './signers.js';
import { type BlockApi, fetchBlockEntry, type SourceEntry } from './sources.js';

/** Who signs a period's messages, as the caller resolved it (a DID through node.ts, keys given out of band). */
export type SignerResolution = { signers: SignerKeys; source: string } | { error: string };

export interface VerifyPaymentOptions {
  api: PaymentApi;
  transactionId: string;
  /** Only this payment of the transaction (its idempotency key) … */
  paymentKey?: string;
  /** … or only the payment of this period; by default every payment that names a readingsHash. */
  periodId?: string;
  /** This reader's X25519 secret key: opens the epoch announcements the payment names. */
  readerSecretKey?: Uint8Array;
  epochKeys?: Iterable<[number, Uint8Array]>;
  /** Keys given by the caller; they take precedence over what the payment names. */
  signers?: { signers: SignerKeys; source: string };
  /** A DID given by the caller, resolved instead of the one the payment names. */
  did?: { did: string; originOutputId: string };
  /** Resolves the DID a payment names (node.ts's resolveMeterDid); without it the channel's own key is used. */
  resolveDid?: (did: string, originOutputId: string, channelId: string) => Promise<SignerResolution>;
}

const short = (id: string) => `${id.slice(0, 18)}…`;

/** The signer of a payment's channel: given keys, else the DID it names, else the channel's own key. */
export async function signerOf(
  ref: PaymentChannelRef,
  options: Pick<VerifyPaymentOptions, 'signers' | 'did' | 'resolveDid'>,
): Promise<SignerResolution> {
  if (options.signers) return options.signers;
  if (options.did && options.resolveDid)
    return options.resolveDid(options.did.did, options.did.originOutputId, ref.id);
  if (ref.did && options.resolveDid) {
    if (!ref.didOrigin)
      return { error: `the payment names DID ${ref.did} but not the output that created it` };
    return options.resolveDid(ref.did, ref.didOrigin, ref.id);
  }
  if (ref.publicKey) {
    const key = fromHex(ref.publicKey, 32, 'public key');
    if (channelIdHex(key) === ref.id)
      return { signers: staticSigners([key]), source: "the channel's own key (its id is the key's hash)" };
    return {
      error: `the payment's signing key ${short(ref.publicKey)} is not the channel's own (rotated?) and it names no DID: give --did with --did-origin, or --public-key`,
    };
  }
  return {
    error: 'the payment names neither a DID nor a signing key: give --did with --did-origin, or --public-key',
  };
}

/**
 * Milestones after the payment's within which its messages may still be referenced: they are posted before
 * the payment, but a milestone may reference them a little later than the payment's own block.
 */
export const PENDING_MARGIN_MILESTONES = 2;

/**
 * A message the source did not find is pending while the source has not indexed past the payment's
 * milestone plus the margin; the detail says how far it has come. Undefined: it is missing.
 */
export async function pendingIndex(api: PaymentApi, transactionId: string): Promise<string | undefined> {
  if (!api.includedMilestone || !api.indexedMilestone) return undefined;
  const [included, indexed] = await Promise.all([
    api.includedMilestone(transactionId),
    api.indexedMilestone(),
  ]);
  if (included === undefined || indexed === undefined) return undefined;
  if (indexed > included + PENDING_MARGIN_MILESTONES) return undefined;
  return `not indexed yet: the payment is in milestone ${included} and the indexer has reached milestone ${indexed}; its messages count as missing only after milestone ${included + PENDING_MARGIN_MILESTONES}`;
}

export type Located =
  | { entries: SourceEntry[]; ring: EpochKeyring }
  | { code: PeriodVerdictCode; detail: string };

/** Where the walk back stops: at the payment's fromSeq, or at the first message that starts before an instant. */
export type WalkUntil = { fromSeq: number } | { beforeMs: number; maxMessages: number };

/**
 * Finds a period's messages from its payment alone: opens the epoch announcements it names (with the
 * reader's key), then walks back from its last block by each message's previous-block id to fromSeq (or,
 * for a cycle, to the first message that starts before the cycle, or the channel's first).
 * Verification comes after, over what was found.
 */
export async function locate(
  api: BlockApi,
  ref: PaymentChannelRef,
  options: Pick<VerifyPaymentOptions, 'epochKeys' | 'readerSecretKey'>,
  until: WalkUntil = { fromSeq: ref.fromSeq },
): Promise<Located> {
  const ring = new EpochKeyring(options.epochKeys ?? []);
  const reader = options.readerSecretKey;
  for (const [epochText, blockId] of Object.entries(ref.epochs ?? {}).sort(
    ([a], [b]) => Number(a) - Number(b),
  )) {
    const epoch = Number(epochText);
    if (ring.get(epoch)) continue;
    const entry = await fetchBlockEntry(api, blockId, { milestones: false });
    if (!entry.bytes)
      return {
        code: 'MESSAGE_NOT_FOUND',
        detail: `the announcement of epoch ${epoch}: ${entry.missing?.detail ?? 'no data'} (pruned, or never posted)`,
      };
    if (!reader)
      return {
        code: 'WRONG_KEY',
        detail: `no epoch key for epoch ${epoch}: the channel is restricted and no reader key was given (--key-file)`,
      };
    const opened = openWire(
      entry.bytes,
      { epochKeys: new EpochKeyring(), readerSecretKey: reader },
      'restricted',
    );
    if (!opened.ok)
      return {
        code: opened.reason === 'WRONG_KEY' ? 'WRONG_KEY' : 'CHANNEL_INVALID',
        detail:
          opened.reason === 'WRONG_KEY'
            ? `no epoch key for epoch ${epoch} with this reader key (${toHex(x25519PublicKey(reader)).slice(0, 16)}…): ${opened.detail}`
            : `${opened.reason} in the announcement of epoch ${epoch} (block ${short(blockId)}): ${opened.detail}`,
      };
    const h = opened.inner.header;
    if (h.kind !== 'epoch' || h.epoch !== epoch || !opened.key)
      return {
        code: 'CHANNEL_INVALID',
        detail: `block ${short(blockId)} is not the announcement of epoch ${epoch} (it is ${h.kind} of epoch ${h.epoch})`,
      };
    ring.add(epoch, opened.key.key);
  }

  const keys = { epochKeys: ring, ...(reader ? { readerSecretKey: reader } : {}) };
  const entries: SourceEntry[] = [];
  let blockId = ref.lastBlockId;
  for (let seq = ref.toSeq; ; seq--) {
    const entry = await fetchBlockEntry(api, blockId);
    if (!entry.bytes)
      return {
        code: 'MESSAGE_NOT_FOUND',
        detail: `seq ${seq}: ${entry.missing?.detail ?? 'no data'} (pruned, or never posted)`,
      };
    const opened = openWire(entry.bytes, keys);
    if (!opened.ok) {
      if (opened.reason !== 'WRONG_KEY')
        return { code: 'CHANNEL_INVALID', detail: `${opened.reason} at seq ${seq}: ${opened.detail}` };
      return {
        code: 'WRONG_KEY',
        detail: `no epoch key for seq ${seq}: ${
          reader || ring.size
            ? 'the payment names no announcement this reader key opens for its epoch'
            : 'the channel is restricted and no reader key was given (--key-file)'
        }`,
      };
    }
    const h = opened.inner.header;
    if (h.seq !== seq)
      return {
        code: 'RANGE_MISMATCH',
        detail: `block ${short(blockId)} holds seq ${h.seq} where the payment's range ${ref.fromSeq}..${ref.toSeq} puts seq ${seq}`,
      };
    if (h.kind === 'epoch' && opened.key) ring.add(h.epoch, opened.key.key);
    entries.unshift(entry);
    if ('fromSeq' in until ? seq === until.fromSeq : h.fromMs < until.beforeMs || isZero(h.prevBlockId))
      break;
    if ('maxMessages' in until && entries.length >= until.maxMessages)
      return {
        code: 'RANGE_MISMATCH',
        detail: `more than ${until.maxMessages} messages back from seq ${ref.toSeq} without reaching ${new Date(until.beforeMs).toISOString()}`,
      };
    if (isZero(h.prevBlockId))
      return {
        code: 'RANGE_MISMATCH',
        detail: `seq ${seq} names no previous block; the payment's range starts at ${ref.fromSeq}`,
      };
    blockId = toBlockId(h.prevBlockId);
  }
  return { entries, ring };
}

/**
 * "This payment pays for exactly these verified readings", from the transaction alone: the payment names
 * its channel messages (channel id, seq range, last block, epoch announcements, signer), and those are
 * found, opened with the reader's key, verified against the signer and hashed into the root it names.
 * One verdict per payment checked; each failure names what is missing in its detail.
 */
export async function verifyPayment(options: VerifyPaymentOptions): Promise<PeriodVerdict[]> {
  const { transactionId } = options;
  const fail = (
    paymentKey: string,
    code: PeriodVerdictCode,
    detail: string,
    extra: Partial<PeriodVerdict> = {},
  ) => ({ ok: code === 'PASS', code, detail, transactionId, paymentKey, ...extra }) satisfies PeriodVerdict;
  const found = await paymentsOf(options.api, transactionId);
  if ('error' in found) return [fail(options.paymentKey ?? '', 'PAYMENT_NOT_FOUND', found.error)];
  const chosen = found.payments.filter((raw) => {
    const p = raw as { k?: unknown; periodId?: unknown; readingsHash?: unknown } | null;
    if (options.paymentKey !== undefined) return p?.k === options.paymentKey;
    if (options.periodId !== undefined) return p?.periodId === options.periodId;
    return typeof p?.readingsHash === 'string';
  });
  if (chosen.length === 0) {
    const which =
      options.paymentKey !== undefined
        ? `no payment with key "${options.paymentKey}"`
        : options.periodId !== undefined
          ? `no payment for period "${options.periodId}"`
          : 'no payment that names a readingsHash';
    return [fail(options.paymentKey ?? '', 'PAYMENT_NOT_FOUND', `${which} in transaction ${transactionId}`)];
  }
  const verdicts: PeriodVerdict[] = [];
  for (const raw of chosen) {
    const key = String((raw as { k?: unknown }).k ?? '');
    const described = describedPayment(raw, key);
    if ('error' in described) {
      verdicts.push(fail(key, 'PAYMENT_NOT_FOUND', described.error));
      continue;
    }
    const { payment } = described;
    const verdict: VerdictOf = (code, detail, extra = {}) => fail(key, code, detail, { payment, ...extra });
    if (typeof payment.readingsHash !== 'string' || !/^(0x)?[0-9a-fA-F]{64}$/.test(payment.readingsHash)) {
      verdicts.push(verdict('NO_READINGS_HASH', `payment "${key}" names no readingsHash`));
      continue;
    }
    const readingsHash = normalizeHash(payment.readingsHash);
    const refOf = channelRefOf(payment);
    if ('error' in refOf) {
      verdicts.push(verdict('NO_CHANNEL', refOf.error, { readingsHash }));
      continue;
    }
    const { ref } = refOf;
    const signer = await signerOf(ref, options);
    if ('error' in signer) {
      verdicts.push(verdict('NO_SIGNER', signer.error, { readingsHash }));
      continue;
    }
    let located = await locate(options.api, ref, options);
    if ('code' in located && located.code === 'MESSAGE_NOT_FOUND') {
      const pending = await pendingIndex(options.api, transactionId);
      if (pending) located = { code: 'PENDING_INDEX', detail: `${located.detail}; ${pending}` };
    }
    if ('code' in located) {
      verdicts.push(verdict(located.code, located.detail, { readingsHash, signer: signer.source }));
      continue;
    }
    const channel = verifyEntries(located.entries, {
      channelId: ref.id,
      signers: signer.signers,
      startAnywhere: true,
      epochKeys: located.ring,
      ...(options.readerSecretKey ? { readerSecretKey: options.readerSecretKey } : {}),
    });
    verdicts.push(judge(payment, readingsHash, channel, verdict, signer.source));
  }
  return verdicts;
}
