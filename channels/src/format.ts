/**
 * Wire format v1 (byte layout tables in channels/README.md).
 *
 * Inner message = header (136 bytes) ‖ payload ‖ Ed25519 signature (64). A public message goes on the
 * Tangle as it is. A restricted message goes inside an envelope: the whole inner message (header included,
 * so nothing links one block to the next) is sealed with AES-256-GCM, and the envelope's clear bytes are the
 * AEAD's associated data.
 */
import { ByteReader, ByteWriter } from './bytes.js';
import { malformed } from './errors.js';

export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 136;
export const SIGNATURE_BYTES = 64;
export const CHANNEL_ID_BYTES = 32;
export const HASH_BYTES = 32;
export const KEY_ID_BYTES = 8;
export const NONCE_BYTES = 12;
export const KEY_CHECK_BYTES = 32;
export const GCM_TAG_BYTES = 16;
/** Ephemeral X25519 public key (32) ‖ AES-GCM of the 32-byte epoch key (32 + 16). */
export const WRAP_BYTES = 80;
export const ENVELOPE_PREFIX_BYTES = 4;
/** Largest tagged-data `data` a block can carry: 32768 − block framing with 8 parents − a 64-byte tag. */
export const MAX_WIRE_BYTES = 32_400;
export const MIN_INNER_BYTES = HEADER_BYTES + SIGNATURE_BYTES;

export type ChannelMode = 'public' | 'restricted';
export type MessageKind = 'data' | 'epoch';

const MODE_BYTE: Record<ChannelMode, number> = { public: 0, restricted: 1 };
const KIND_BYTE: Record<MessageKind, number> = { data: 1, epoch: 2 };

export interface MessageHeader {
  mode: ChannelMode;
  kind: MessageKind;
  channelId: Uint8Array;
  seq: number;
  /** SHA-256 of the previous message's wire bytes; zero for seq 0. */
  prevHash: Uint8Array;
  /** The block that carried the previous message, to walk the chain back; zero for seq 0. */
  prevBlockId: Uint8Array;
  fromMs: number;
  toMs: number;
  /** Epoch whose key sealed the message; 0 in public mode. */
  epoch: number;
  /** First 8 bytes of SHA-256 of the signing Ed25519 public key. */
  keyId: Uint8Array;
}

export interface InnerMessage {
  header: MessageHeader;
  payload: Uint8Array;
  signature: Uint8Array;
  /** Header ‖ payload: what the signature covers (after a domain prefix). */
  signed: Uint8Array;
}

function modeOf(byte: number): ChannelMode {
  if (byte === 0) return 'public';
  if (byte === 1) return 'restricted';
  throw malformed(`unknown mode byte ${byte}`);
}

function kindOf(byte: number): MessageKind {
  if (byte === 1) return 'data';
  if (byte === 2) return 'epoch';
  throw malformed(`unknown kind byte ${byte}`);
}

function checkVersion(byte: number | undefined): void {
  if (byte !== FORMAT_VERSION) throw malformed(`unsupported format version ${byte}`);
}

export function encodeHeader(h: MessageHeader, payloadLength: number): Uint8Array {
  return new ByteWriter()
    .u8(FORMAT_VERSION)
    .u8(MODE_BYTE[h.mode])
    .u8(KIND_BYTE[h.kind])
    .u8(0)
    .bytes(h.channelId)
    .u32(h.seq)
    .bytes(h.prevHash)
    .bytes(h.prevBlockId)
    .u64(h.fromMs)
    .u64(h.toMs)
    .u32(h.epoch)
    .bytes(h.keyId)
    .u32(payloadLength)
    .finish();
}

/** Structure only: lengths, version, mode, kind, reserved byte. Meaning is checked after the signature. */
export function decodeInner(bytes: Uint8Array): InnerMessage {
  if (bytes.length < MIN_INNER_BYTES) throw malformed(`message of ${bytes.length} bytes is too short`);
  const r = new ByteReader(bytes, 'header');
  checkVersion(r.u8());
  const mode = modeOf(r.u8());
  const kind = kindOf(r.u8());
  if (r.u8() !== 0) throw malformed('reserved header byte is not zero');
  if (kind === 'epoch' && mode !== 'restricted') throw malformed('an epoch announcement in a public message');
  const header: MessageHeader = {
    mode,
    kind,
    channelId: r.bytes(CHANNEL_ID_BYTES).slice(),
    seq: r.u32(),
    prevHash: r.bytes(HASH_BYTES).slice(),
    prevBlockId: r.bytes(HASH_BYTES).slice(),
    fromMs: r.u64(),
    toMs: r.u64(),
    epoch: r.u32(),
    keyId: r.bytes(KEY_ID_BYTES).slice(),
  };
  const payloadLength = r.u32();
  if (payloadLength !== bytes.length - MIN_INNER_BYTES)
    throw malformed(
      `payload length field says ${payloadLength}, message holds ${bytes.length - MIN_INNER_BYTES}`,
    );
  const payload = r.bytes(payloadLength);
  const signature = r.bytes(SIGNATURE_BYTES);
  return { header, payload, signature, signed: bytes.subarray(0, HEADER_BYTES + payloadLength) };
}

/** The mode a wire message claims (byte 1), after checking its version. */
export function wireMode(bytes: Uint8Array): ChannelMode {
  checkVersion(bytes[0]);
  if (bytes.length < 2) throw malformed('message of 1 byte');
  return modeOf(bytes[1]!);
}

export interface Envelope {
  kind: MessageKind;
  wraps: Uint8Array[];
  /** The wraps exactly as on the wire (hashed into the signed epoch payload). */
  wrapsBytes: Uint8Array;
  nonce: Uint8Array;
  keyCheck: Uint8Array;
  ciphertext: Uint8Array;
  /** Every byte before the ciphertext: the AEAD's associated data. */
  aad: Uint8Array;
}

/** The clear part of a restricted envelope (it is also the AAD). */
export function encodeEnvelopePrefix(e: {
  kind: MessageKind;
  wraps: Uint8Array[];
  nonce: Uint8Array;
  keyCheck: Uint8Array;
}): Uint8Array {
  if (e.kind === 'data' && e.wraps.length > 0) throw malformed('a data envelope carries no wraps');
  const w = new ByteWriter()
    .u8(FORMAT_VERSION)
    .u8(MODE_BYTE.restricted)
    .u8(KIND_BYTE[e.kind])
    .u8(e.wraps.length);
  for (const wrap of e.wraps) w.bytes(wrap);
  return w.bytes(e.nonce).bytes(e.keyCheck).finish();
}

export function decodeEnvelope(bytes: Uint8Array): Envelope {
  const r = new ByteReader(bytes, 'envelope');
  checkVersion(r.u8());
  if (modeOf(r.u8()) !== 'restricted') throw malformed('not a restricted envelope');
  const kind = kindOf(r.u8());
  const count = r.u8();
  if (kind === 'data' && count !== 0) throw malformed('a data envelope carries no wraps');
  if (kind === 'epoch' && count === 0) throw malformed('an epoch announcement without wraps');
  const wrapsStart = r.position;
  const wraps = Array.from({ length: count }, () => r.bytes(WRAP_BYTES));
  const wrapsBytes = bytes.subarray(wrapsStart, r.position);
  const nonce = r.bytes(NONCE_BYTES);
  const keyCheck = r.bytes(KEY_CHECK_BYTES);
  const aad = bytes.subarray(0, r.position);
  const ciphertext = r.rest();
  if (ciphertext.length < MIN_INNER_BYTES + GCM_TAG_BYTES)
    throw malformed('envelope ciphertext is too short');
  return { kind, wraps, wrapsBytes, nonce, keyCheck, ciphertext, aad };
}
