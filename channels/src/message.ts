/** Sealing messages (sign, then encrypt in restricted mode) and opening them again. */
import { isError } from '@tanglewatt/errors';
import { concatBytes, equalBytes } from './bytes.js';
import {
  type EpochSubkeys,
  epochSubkeys,
  keyCheckOf,
  keyIdOf,
  messageHash,
  openWithEpochKey,
  type RandomSource,
  sealWithEpochKey,
  secureRandom,
  sha256,
  signMessage,
  unwrapEpochKey,
  wrapEpochKey,
} from './crypto.js';
import { ChannelError, type ReadFailureReason } from './errors.js';
import {
  type ChannelMode,
  decodeEnvelope,
  decodeInner,
  type Envelope,
  encodeEnvelopePrefix,
  encodeHeader,
  type InnerMessage,
  MAX_WIRE_BYTES,
  type MessageHeader,
  type MessageKind,
  NONCE_BYTES,
  wireMode,
} from './format.js';
import { type DataPayload, encodeDataPayload, encodeEpochPayload, MAX_READERS } from './payload.js';

/** Where a message sits in its channel: everything of the header but what sealing fills in. */
export type ChainPosition = Omit<MessageHeader, 'mode' | 'kind' | 'epoch' | 'keyId'>;

export interface SigningKey {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export interface SealedMessage {
  /** The wire bytes: what goes into the tagged-data block. */
  bytes: Uint8Array;
  /** SHA-256 of `bytes`. */
  hash: Uint8Array;
  header: MessageHeader;
}

/** An epoch's number and key, with its derived subkeys. */
export interface EpochKey {
  epoch: number;
  key: Uint8Array;
  subkeys: EpochSubkeys;
}

export function epochKey(epoch: number, key: Uint8Array): EpochKey {
  return { epoch, key, subkeys: epochSubkeys(key) };
}

function signInner(header: MessageHeader, payload: Uint8Array, signer: SigningKey): Uint8Array {
  const signed = concatBytes(encodeHeader(header, payload.length), payload);
  return concatBytes(signed, signMessage(signed, signer.secretKey));
}

function headerFor(
  position: ChainPosition,
  mode: ChannelMode,
  kind: MessageKind,
  epoch: number,
  signer: SigningKey,
): MessageHeader {
  return { ...position, mode, kind, epoch, keyId: keyIdOf(signer.publicKey) };
}

function sealed(bytes: Uint8Array, header: MessageHeader): SealedMessage {
  if (bytes.length > MAX_WIRE_BYTES)
    throw new ChannelError('MESSAGE_TOO_LARGE', `message of ${bytes.length} bytes exceeds ${MAX_WIRE_BYTES}`);
  return { bytes, hash: messageHash(bytes), header };
}

function envelope(
  kind: MessageKind,
  wraps: Uint8Array[],
  inner: Uint8Array,
  epoch: EpochKey,
  random: RandomSource,
): Uint8Array {
  const nonce = random(NONCE_BYTES);
  const prefix = encodeEnvelopePrefix({ kind, wraps, nonce, keyCheck: keyCheckOf(epoch.subkeys, nonce) });
  return concatBytes(prefix, sealWithEpochKey(epoch.subkeys, nonce, prefix, inner));
}

export function sealPublicData(
  position: ChainPosition,
  data: DataPayload,
  signer: SigningKey,
): SealedMessage {
  const header = headerFor(position, 'public', 'data', 0, signer);
  return sealed(signInner(header, encodeDataPayload(data, position.fromMs), signer), header);
}

export function sealRestrictedData(
  position: ChainPosition,
  data: DataPayload,
  signer: SigningKey,
  epoch: EpochKey,
  random: RandomSource = secureRandom,
): SealedMessage {
  const header = headerFor(position, 'restricted', 'data', epoch.epoch, signer);
  const inner = signInner(header, encodeDataPayload(data, position.fromMs), signer);
  return sealed(envelope('data', [], inner, epoch, random), header);
}

/**
 * Announces a new epoch key: wrapped once per reader in the envelope, and the signed inner payload names
 * the readers and hashes the wraps, so the meter vouches for exactly who can read the epoch.
 */
export function sealEpochAnnouncement(
  position: ChainPosition,
  signer: SigningKey,
  epoch: EpochKey,
  readers: Uint8Array[],
  random: RandomSource = secureRandom,
): SealedMessage {
  if (readers.length === 0 || readers.length > MAX_READERS)
    throw new ChannelError('INVALID_OPTIONS', `readers: 1 to ${MAX_READERS} X25519 public keys`);
  const wraps = readers.map((reader) => wrapEpochKey(epoch.key, reader, random));
  const payload = encodeEpochPayload({ readers, wrapsHash: sha256(concatBytes(...wraps)) });
  const header = headerFor(position, 'restricted', 'epoch', epoch.epoch, signer);
  return sealed(envelope('epoch', wraps, signInner(header, payload, signer), epoch, random), header);
}

// ---- opening ----

/** Epoch keys a reader holds, newest first when searched. */
export class EpochKeyring {
  private readonly keys = new Map<number, EpochKey>();

  constructor(initial: Iterable<[number, Uint8Array]> = []) {
    for (const [epoch, key] of initial) this.add(epoch, key);
  }

  add(epoch: number, key: Uint8Array): EpochKey {
    const existing = this.keys.get(epoch);
    if (existing && equalBytes(existing.key, key)) return existing;
    const entry = epochKey(epoch, key);
    this.keys.set(epoch, entry);
    return entry;
  }

  get(epoch: number): EpochKey | undefined {
    return this.keys.get(epoch);
  }

  /**
   * The held key whose key check matches: first the epoch that matched last and the one after it (messages
   * are mostly read in order, so a reader holding many epochs' keys tries one or two), then the newest first.
   */
  findByKeyCheck(nonce: Uint8Array, keyCheck: Uint8Array): EpochKey | undefined {
    const fits = (k: EpochKey | undefined) =>
      k !== undefined && equalBytes(keyCheckOf(k.subkeys, nonce), keyCheck);
    const likely = this.lastMatched === undefined ? [] : [this.lastMatched, this.lastMatched + 1];
    let found = likely.map((e) => this.keys.get(e)).find(fits);
    if (!found) {
      const newestFirst = [...this.keys.values()].sort((a, b) => b.epoch - a.epoch);
      found = newestFirst.find((k) => !likely.includes(k.epoch) && fits(k));
    }
    if (found) this.lastMatched = found.epoch;
    return found;
  }

  private lastMatched: number | undefined;

  get size(): number {
    return this.keys.size;
  }

  entries(): [number, Uint8Array][] {
    return [...this.keys.values()].map((k) => [k.epoch, k.key]);
  }
}

export interface OpenKeys {
  epochKeys: EpochKeyring;
  /** The reader's X25519 secret key, to open epoch announcements. */
  readerSecretKey?: Uint8Array;
}

export type Opened =
  | {
      ok: true;
      inner: InnerMessage;
      envelope?: Envelope;
      /** The epoch key that opened a restricted message, with its number when the reader already knew it. */
      key?: { key: Uint8Array; knownEpoch?: number };
    }
  | { ok: false; reason: ReadFailureReason; detail: string };

type Failure = Opened & { ok: false };
const fail = (reason: ReadFailureReason, detail: string): Failure => ({ ok: false, reason, detail });

/** Runs a decoder; its MALFORMED error becomes a failure value. */
function decode<T>(what: () => T): { ok: true; value: T } | Failure {
  try {
    return { ok: true, value: what() };
  } catch (error) {
    if (isError(error, 'MALFORMED')) return fail('MALFORMED', error.message);
    throw error;
  }
}

/**
 * Finds the epoch key for an envelope: a held key by its key check, else a wrap for this reader. When the
 * caller knows which key must have sealed a data message (`sealedUnder`), a key check that fits no held key
 * means the message was altered, not that the key is missing.
 */
function keyFor(
  env: Envelope,
  keys: OpenKeys,
  sealedUnder: EpochKey | undefined,
): { ok: true; key: EpochKey; knownEpoch?: number } | Failure {
  const held = keys.epochKeys.findByKeyCheck(env.nonce, env.keyCheck);
  if (held) return { ok: true, key: held, knownEpoch: held.epoch };
  if (env.kind === 'data' && sealedUnder)
    return fail(
      'BAD_SIGNATURE',
      `key check does not match epoch ${sealedUnder.epoch}, whose key must seal it: altered`,
    );
  if (env.kind === 'data')
    return fail(
      'WRONG_KEY',
      keys.epochKeys.size === 0
        ? 'restricted message and no epoch key held'
        : `none of the ${keys.epochKeys.size} epoch keys held opens it`,
    );
  if (!keys.readerSecretKey)
    return fail('WRONG_KEY', 'epoch announcement and no reader key given to open its wraps');
  for (const wrap of env.wraps) {
    const key = unwrapEpochKey(wrap, keys.readerSecretKey);
    if (!key) continue;
    const candidate = epochKey(-1, key);
    if (!equalBytes(keyCheckOf(candidate.subkeys, env.nonce), env.keyCheck))
      return fail('BAD_SIGNATURE', 'key check does not match the key in this reader’s wrap: altered');
    return { ok: true, key: candidate };
  }
  return fail('WRONG_KEY', `none of the ${env.wraps.length} wraps is for this reader (not authorised)`);
}

/**
 * Decrypts (restricted) and parses a wire message. Verification of what it says is the reader's job.
 * `sealedUnder`: the epoch key a data message in this position must be sealed with, when known.
 */
export function openWire(
  wire: Uint8Array,
  keys: OpenKeys,
  expectedMode?: ChannelMode,
  sealedUnder?: EpochKey,
): Opened {
  const mode = decode(() => wireMode(wire));
  if (!mode.ok) return mode;
  if (expectedMode && mode.value !== expectedMode)
    return fail('MALFORMED', `a ${mode.value} message in a ${expectedMode} channel`);
  if (mode.value === 'public') {
    const inner = decode(() => decodeInner(wire));
    return inner.ok ? { ok: true, inner: inner.value } : inner;
  }
  const env = decode(() => decodeEnvelope(wire));
  if (!env.ok) return env;
  const found = keyFor(env.value, keys, sealedUnder);
  if (!found.ok) return found;
  const plaintext = openWithEpochKey(found.key.subkeys, env.value.nonce, env.value.aad, env.value.ciphertext);
  if (!plaintext)
    return fail('BAD_SIGNATURE', 'ciphertext fails AES-GCM authentication under its epoch key: altered');
  const inner = decode(() => decodeInner(plaintext));
  if (!inner.ok) return inner;
  if (inner.value.header.mode !== 'restricted' || inner.value.header.kind !== env.value.kind)
    return fail('MALFORMED', 'sealed header does not match its envelope');
  return {
    ok: true,
    inner: inner.value,
    envelope: env.value,
    key: {
      key: found.key.key,
      ...(found.knownEpoch !== undefined ? { knownEpoch: found.knownEpoch } : {}),
    },
  };
}
