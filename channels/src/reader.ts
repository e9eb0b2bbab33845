/**
 * The reader: opens, verifies and chains a channel's messages, and says exactly which message fails and why.
 * Checks per message, in this order (the first that fails names the reason):
 *   structure (MALFORMED) → decryption (WRONG_KEY, or BAD_SIGNATURE when altered) → channel id and tag
 *   (WRONG_CHANNEL) → Ed25519 signature under a key valid for it (BAD_SIGNATURE) → what the signed bytes
 *   say (MALFORMED) → repeats (REPLAY) → position in the chain (BROKEN_CHAIN, GAP).
 * Nothing is skipped silently: every entry of the source is either verified or reported.
 */
import { isError } from '@tanglewatt/errors';
import { equalBytes, fromHex, isZero, toBlockId, toHex } from './bytes.js';
import {
  epochSubkeys,
  messageHash,
  publicTag,
  restrictedTag,
  sha256,
  verifySignature,
  x25519PublicKey,
} from './crypto.js';
import type { ReadFailureReason } from './errors.js';
import { type ChannelMode, type InnerMessage, type MessageKind, wireMode } from './format.js';
import { EpochKeyring, type Opened, openWire } from './message.js';
import { decodeDataPayload, decodeEpochPayload, type PeriodSummary, type Sample } from './payload.js';
import type { SignerKeys } from './signers.js';
import type { MessageSource, SourceEntry } from './sources.js';

export interface ReadOptions {
  /** Channel id, hex (64 digits) or bytes. */
  channelId: string | Uint8Array;
  /** Who may sign (keys out of band, a schedule, or a DID's history). */
  signers: SignerKeys;
  /** Expected mode; taken from the first message when absent. */
  mode?: ChannelMode;
  /** This reader's X25519 secret key: opens the epoch announcements that name it. */
  readerSecretKey?: Uint8Array;
  /** Epoch keys already held (the owner's journal, or learned earlier). */
  epochKeys?: EpochKeyring | Iterable<[number, Uint8Array]>;
  /** First sequence number expected (default 0). */
  fromSeq?: number;
  /** Accept whatever sequence number the first message has (a period's messages, a walked chain). */
  startAnywhere?: boolean;
  /** Hash of the message just before the first one, when starting mid-channel and it is known. */
  prevHash?: string | Uint8Array;
  /** Keep going after a failure and report all of them (default: stop at the first). */
  allFailures?: boolean;
}

export interface VerifiedMessage {
  seq: number;
  /** SHA-256 of the wire bytes, hex: the Merkle leaf and the next message's prevHash. */
  hash: string;
  kind: MessageKind;
  mode: ChannelMode;
  epoch: number;
  keyId: string;
  fromMs: number;
  toMs: number;
  prevHash: string;
  prevBlockId: string;
  samples: Sample[];
  summaries: PeriodSummary[];
  /** Epoch announcements: X25519 public keys (hex) of the readers of the new epoch. */
  readers?: string[];
  wireBytes: number;
  blockId?: string;
  tag?: string;
  milestoneIndex?: number;
}

export interface ReadFailure {
  reason: ReadFailureReason;
  /** The message's own sequence number when it could be read, else the one the index filed it under. */
  seq?: number;
  /** Index of the entry in the source's list. */
  position: number;
  blockId?: string;
  detail: string;
}

export interface ReadResult {
  ok: boolean;
  channelId: string;
  mode?: ChannelMode;
  messages: VerifiedMessage[];
  failures: ReadFailure[];
  /** False when the first message's link to its predecessor could not be checked (mid-channel start). */
  anchored: boolean;
  /** Every epoch key held at the end, including those learned from announcements. */
  epochKeys: EpochKeyring;
}

/** Raised inside the walk to report a failure for the current entry. */
class Reject {
  constructor(
    readonly reason: ReadFailureReason,
    readonly detail: string,
    readonly seq?: number,
  ) {}
}

interface ChainState {
  expectedSeq: number | undefined;
  /** Epoch of the last verified message (restricted mode). */
  epoch: number | undefined;
  prevHash: Uint8Array | undefined;
  prevToMs: number | undefined;
  anchored: boolean;
}

function asRing(keys: ReadOptions['epochKeys']): EpochKeyring {
  if (keys instanceof EpochKeyring) return keys;
  return new EpochKeyring(keys ?? []);
}

/** Reads every message of a source and verifies it. */
export async function readChannel(source: MessageSource, options: ReadOptions): Promise<ReadResult> {
  return verifyEntries(await source.list(), options);
}

/** The reader's core, on entries already fetched (synchronous, so a browser can run it on its own data). */
export function verifyEntries(entries: SourceEntry[], options: ReadOptions): ReadResult {
  const channelId =
    typeof options.channelId === 'string' ? fromHex(options.channelId, 32, 'channel id') : options.channelId;
  const ring = asRing(options.epochKeys);
  const readerPublic = options.readerSecretKey ? x25519PublicKey(options.readerSecretKey) : undefined;
  let mode = options.mode;
  const startAnywhere = options.startAnywhere ?? false;
  const state: ChainState = {
    expectedSeq: startAnywhere ? undefined : (options.fromSeq ?? 0),
    epoch: undefined,
    prevHash:
      options.prevHash !== undefined
        ? typeof options.prevHash === 'string'
          ? fromHex(options.prevHash, 32, 'prevHash')
          : options.prevHash
        : undefined,
    prevToMs: undefined,
    anchored: options.prevHash !== undefined || (!startAnywhere && (options.fromSeq ?? 0) === 0),
  };
  const messages: VerifiedMessage[] = [];
  const failures: ReadFailure[] = [];
  const seenHashes = new Map<string, number>();
  const verifiedSeqs = new Set<number>();

  // A later entry's sequence number, to tell a reordered message (BROKEN_CHAIN) from a missing one (GAP).
  const seqAt = (position: number): number | undefined => {
    const entry = entries[position];
    if (!entry) return undefined;
    if (entry.seq !== undefined) return entry.seq;
    if (!entry.bytes) return undefined;
    const opened = openWire(entry.bytes, { epochKeys: ring }, mode);
    return opened.ok ? opened.inner.header.seq : undefined;
  };

  for (const [position, entry] of entries.entries()) {
    try {
      if (!mode && entry.bytes) {
        try {
          mode = wireMode(entry.bytes);
        } catch {
          // reported as MALFORMED below
        }
      }
      const verified = verifyOne(entry, position);
      messages.push(verified);
    } catch (error) {
      if (!(error instanceof Reject)) throw error;
      failures.push({
        reason: error.reason,
        position,
        ...((error.seq ?? entry.seq) !== undefined ? { seq: error.seq ?? entry.seq } : {}),
        ...(entry.blockId ? { blockId: entry.blockId } : {}),
        detail: error.detail,
      });
      if (!options.allFailures) break;
    }
  }

  function verifyOne(entry: SourceEntry, position: number): VerifiedMessage {
    if (entry.missing || !entry.bytes)
      throw new Reject(entry.missing?.reason ?? 'GAP', entry.missing?.detail ?? 'no message bytes');
    const bytes = entry.bytes;
    // An index entry right after a verified message must be sealed under that message's epoch (keys change
    // only by announcement), so a key check that fits no key means alteration there, not a missing key.
    const successor = entry.seq !== undefined && entry.seq === state.expectedSeq;
    const sealedUnder = successor && state.epoch !== undefined ? ring.get(state.epoch) : undefined;
    const opened = openWire(
      bytes,
      { epochKeys: ring, ...(options.readerSecretKey ? { readerSecretKey: options.readerSecretKey } : {}) },
      mode,
      sealedUnder,
    );
    if (!opened.ok) throw new Reject(opened.reason, opened.detail);
    const { inner } = opened;
    const h = inner.header;
    const seq = h.seq;
    // Until the signature verifies, the header's seq is only a claim: report the index's when there is one.
    const claimed = entry.seq ?? seq;

    if (!equalBytes(h.channelId, channelId))
      throw new Reject('WRONG_CHANNEL', `message of channel ${toHex(h.channelId)}`, claimed);
    checkTag(entry, opened, claimed);
    checkSignature(inner, entry, claimed);
    if (opened.key?.knownEpoch !== undefined && opened.key.knownEpoch !== h.epoch)
      throw new Reject(
        'MALFORMED',
        `sealed with the key of epoch ${opened.key.knownEpoch}, says ${h.epoch}`,
        seq,
      );
    const content = checkContent(inner, opened, seq);
    const hash = messageHash(bytes);
    checkChain(inner, hash, entry, position, seq);

    seenHashes.set(toHex(hash), seq);
    verifiedSeqs.add(seq);
    state.expectedSeq = seq + 1;
    state.prevHash = hash;
    state.prevToMs = h.toMs;
    if (h.mode === 'restricted') state.epoch = h.epoch;
    if (h.kind === 'epoch' && opened.key) ring.add(h.epoch, opened.key.key);
    return {
      seq,
      hash: toHex(hash),
      kind: h.kind,
      mode: h.mode,
      epoch: h.epoch,
      keyId: toHex(h.keyId),
      fromMs: h.fromMs,
      toMs: h.toMs,
      prevHash: toHex(h.prevHash),
      prevBlockId: toBlockId(h.prevBlockId),
      ...content,
      wireBytes: bytes.length,
      ...(entry.blockId ? { blockId: entry.blockId } : {}),
      ...(entry.tag !== undefined ? { tag: entry.tag } : {}),
      ...(entry.milestoneIndex !== undefined ? { milestoneIndex: entry.milestoneIndex } : {}),
    };
  }

  /** A block's tag must be the one the format derives for this message (a misfiled block is not ours). */
  function checkTag(entry: SourceEntry, opened: Opened & { ok: true }, reportSeq: number): void {
    if (entry.tag === undefined) return;
    const h = opened.inner.header;
    const seq = h.seq;
    let expected: string | undefined;
    if (h.mode === 'public') expected = publicTag(channelId);
    else if (h.kind === 'data' && opened.key) expected = restrictedTag(epochSubkeys(opened.key.key), seq);
    else if (h.kind === 'epoch') {
      // Announcements carry the tag of the epoch before them, so that epoch's readers can spot them.
      const previous = ring.get(h.epoch - 1);
      if (previous) expected = restrictedTag(previous.subkeys, seq);
      else if (h.epoch === 1 && opened.key) expected = restrictedTag(epochSubkeys(opened.key.key), seq);
    }
    if (expected !== undefined && entry.tag !== expected)
      throw new Reject(
        'WRONG_CHANNEL',
        `block tag "${entry.tag}" is not this channel's tag for seq ${seq}`,
        reportSeq,
      );
  }

  function checkSignature(inner: InnerMessage, entry: SourceEntry, seq: number): void {
    const query = {
      header: inner.header,
      ...(entry.milestoneIndex !== undefined ? { milestoneIndex: entry.milestoneIndex } : {}),
    };
    const candidates = options.signers.candidates(query);
    if (candidates.keys.length === 0)
      throw new Reject('BAD_SIGNATURE', candidates.why ?? 'no key may sign this message', seq);
    if (!candidates.keys.some((key) => verifySignature(inner.signature, inner.signed, key)))
      throw new Reject(
        'BAD_SIGNATURE',
        `signature does not verify under key id ${toHex(inner.header.keyId)}`,
        seq,
      );
  }

  /** What the signed bytes say must make sense; a meter that signs nonsense is reported, not trusted. */
  function checkContent(
    inner: InnerMessage,
    opened: Opened & { ok: true },
    seq: number,
  ): { samples: Sample[]; summaries: PeriodSummary[]; readers?: string[] } {
    const h = inner.header;
    const bad = (detail: string) => new Reject('MALFORMED', detail, seq);
    if (h.mode === 'public' && h.epoch !== 0) throw bad('a public message names an epoch');
    if (h.mode === 'restricted' && h.epoch < 1) throw bad('a restricted message in epoch 0');
    if (h.fromMs > h.toMs) throw bad('time range ends before it starts');
    if ((seq === 0) !== isZero(h.prevHash)) throw bad('only the first message has no previous hash');
    if (seq === 0 && !isZero(h.prevBlockId)) throw bad('the first message names a previous block');
    try {
      if (h.kind === 'epoch') {
        const epoch = decodeEpochPayload(inner.payload);
        const wraps = opened.envelope?.wrapsBytes ?? new Uint8Array();
        if (!equalBytes(epoch.wrapsHash, sha256(wraps)))
          throw new Reject('BAD_SIGNATURE', 'the wraps are not the ones the meter signed', seq);
        if (
          readerPublic &&
          opened.key?.knownEpoch === undefined &&
          !epoch.readers.some((r) => equalBytes(r, readerPublic))
        )
          throw bad('a wrap opened for a reader the announcement does not name');
        return { samples: [], summaries: [], readers: epoch.readers.map(toHex) };
      }
      const data = decodeDataPayload(inner.payload, h.fromMs);
      for (const s of data.samples)
        if (s.timestampMs > h.toMs) throw bad(`sample at ${s.timestampMs} outside the message's time range`);
      for (const p of data.summaries)
        if (p.endMs < h.fromMs || p.endMs > h.toMs)
          throw bad(`summary ${p.periodId} ends outside the time range`);
      return data;
    } catch (error) {
      if (isError(error, 'MALFORMED')) throw bad(error.message);
      throw error;
    }
  }

  function checkChain(
    inner: InnerMessage,
    hash: Uint8Array,
    entry: SourceEntry,
    position: number,
    seq: number,
  ): void {
    const h = inner.header;
    const earlier = seenHashes.get(toHex(hash));
    if (earlier !== undefined) throw new Reject('REPLAY', `the same message as seq ${earlier}, again`, seq);
    if (verifiedSeqs.has(seq)) throw new Reject('REPLAY', `a second, different message with seq ${seq}`, seq);
    if (state.expectedSeq !== undefined && seq < state.expectedSeq)
      throw new Reject('REPLAY', `seq ${seq} is behind the chain (next expected: ${state.expectedSeq})`, seq);
    if (entry.seq !== undefined && entry.seq !== seq)
      throw new Reject('BROKEN_CHAIN', `filed under seq ${entry.seq} but is seq ${seq} (reordered)`, seq);
    if (state.expectedSeq !== undefined && seq > state.expectedSeq) {
      const missing = state.expectedSeq;
      const later = entries.slice(position + 1).some((_, i) => seqAt(position + 1 + i) === missing);
      const gap = new Reject(
        later ? 'BROKEN_CHAIN' : 'GAP',
        later
          ? `out of order: seq ${seq} comes before seq ${missing}`
          : `seq ${missing}${seq - 1 > missing ? `..${seq - 1}` : ''} missing before seq ${seq}`,
        later ? seq : missing,
      );
      // Continue from here when reporting every failure: later messages still verify against this one.
      state.expectedSeq = seq + 1;
      state.prevHash = hash;
      state.prevToMs = h.toMs;
      seenHashes.set(toHex(hash), seq);
      throw gap;
    }
    if (state.prevHash === undefined) {
      // The first message read: anchored if it is the channel's first, else nothing to link it to.
      state.anchored = seq === 0;
    } else if (!equalBytes(h.prevHash, state.prevHash)) {
      throw new Reject('BROKEN_CHAIN', `prev hash does not match the message before seq ${seq}`, seq);
    }
    if (state.prevToMs !== undefined && h.fromMs < state.prevToMs)
      throw new Reject(
        'BROKEN_CHAIN',
        `time goes back: starts at ${h.fromMs}, previous ended ${state.prevToMs}`,
        seq,
      );
  }

  return {
    ok: failures.length === 0,
    channelId: toHex(channelId),
    ...(mode ? { mode } : {}),
    messages,
    failures,
    anchored: state.anchored,
    epochKeys: ring,
  };
}
