/**
 * Payloads inside channel messages: batches of samples with period summaries (kind "data"), and the signed
 * part of an epoch-key announcement (kind "epoch"). Samples are integers at fixed resolution (mV, mA, mW,
 * ms), stored as columns of deltas in LEB128 varints, then DEFLATE (fflate) when that is smaller: the
 * round trip is bit-exact.
 */
import { deflateSync, inflateSync } from 'fflate';
import { ByteReader, ByteWriter } from './bytes.js';
import { ChannelError, malformed } from './errors.js';

export interface Sample {
  /** Unix time of the reading, milliseconds. */
  timestampMs: number;
  busVoltageMV: number;
  /** Signed: negative when energy flows back. */
  currentMA: number;
  /** Signed, like currentMA. */
  powerMW: number;
}

export interface PeriodSummary {
  periodId: string;
  startMs: number;
  endMs: number;
  /** Energy of the period in milliwatt-seconds (signed: net export is negative). */
  energyMWs: bigint;
  sampleCount: number;
}

export interface DataPayload {
  samples: Sample[];
  summaries: PeriodSummary[];
}

export const PAYLOAD_RAW = 0;
export const PAYLOAD_DEFLATE = 1;

/** Readings beyond these are refused: 2^48 ms is the year 10889; int32 covers ±2 MW in mW. */
export const MAX_TIMESTAMP_MS = 2 ** 48;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
/** Counts are u16 on the wire. */
export const MAX_SAMPLES_PER_MESSAGE = 0xffff;
/** Guards inflate against decompression bombs; far above what a 32 KiB block can carry honestly. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_PERIOD_ID_BYTES = 128;
/** Keeps the zigzag varint within 11 bytes. */
const MAX_ENERGY_MWS = 2n ** 75n;

const isInt32 = (n: number) => Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX;
const isTimestamp = (n: number) => Number.isInteger(n) && n >= 0 && n < MAX_TIMESTAMP_MS;

export function assertValidSample(s: Sample): void {
  if (!isTimestamp(s.timestampMs))
    throw new ChannelError('INVALID_SAMPLE', `timestampMs: must be a whole number of ms in [0, 2^48)`);
  for (const field of ['busVoltageMV', 'currentMA', 'powerMW'] as const) {
    if (!isInt32(s[field]))
      throw new ChannelError('INVALID_SAMPLE', `${field}: must be a whole number in the int32 range`);
  }
}

export function assertValidSummary(s: PeriodSummary): void {
  const idBytes = new TextEncoder().encode(s.periodId).length;
  if (idBytes === 0 || idBytes > MAX_PERIOD_ID_BYTES)
    throw new ChannelError('INVALID_SUMMARY', `periodId: 1 to ${MAX_PERIOD_ID_BYTES} bytes of UTF-8`);
  if (!isTimestamp(s.startMs) || !isTimestamp(s.endMs) || s.endMs < s.startMs)
    throw new ChannelError('INVALID_SUMMARY', 'startMs/endMs: whole ms with startMs <= endMs');
  if (typeof s.energyMWs !== 'bigint' || s.energyMWs >= MAX_ENERGY_MWS || s.energyMWs <= -MAX_ENERGY_MWS)
    throw new ChannelError('INVALID_SUMMARY', 'energyMWs: a bigint of magnitude below 2^75');
  if (!Number.isInteger(s.sampleCount) || s.sampleCount < 0 || s.sampleCount > 2 ** 32)
    throw new ChannelError('INVALID_SUMMARY', 'sampleCount: a whole number');
}

/** The time range a message covers: its samples and the end of each period it closes. */
export function timeRangeOf(payload: DataPayload): { fromMs: number; toMs: number } | undefined {
  let fromMs = Number.POSITIVE_INFINITY;
  let toMs = Number.NEGATIVE_INFINITY;
  for (const t of [...payload.samples.map((s) => s.timestampMs), ...payload.summaries.map((s) => s.endMs)]) {
    fromMs = Math.min(fromMs, t);
    toMs = Math.max(toMs, t);
  }
  return fromMs <= toMs ? { fromMs, toMs } : undefined;
}

function encodeColumns(payload: DataPayload, baseMs: number): Uint8Array {
  const w = new ByteWriter();
  let previous = baseMs;
  for (const s of payload.samples) {
    w.varint(s.timestampMs - previous);
    previous = s.timestampMs;
  }
  for (const field of ['busVoltageMV', 'currentMA', 'powerMW'] as const) {
    let last = 0;
    for (const s of payload.samples) {
      w.svarint(s[field] - last);
      last = s[field];
    }
  }
  const encoder = new TextEncoder();
  for (const p of payload.summaries) {
    const id = encoder.encode(p.periodId);
    w.varint(id.length).bytes(id);
    w.svarint(p.startMs - baseMs);
    w.varint(p.endMs - p.startMs);
    w.bigSvarint(p.energyMWs);
    w.varint(p.sampleCount);
  }
  return w.finish();
}

/**
 * Payload of a data message. `baseMs` is the message's fromMs: times are stored relative to it.
 * Layout: encoding u8 | sampleCount u16 | summaryCount u16 | bodyLength u32 | body (raw or DEFLATE).
 */
export function encodeDataPayload(payload: DataPayload, baseMs: number): Uint8Array {
  if (payload.samples.length > MAX_SAMPLES_PER_MESSAGE || payload.summaries.length > 0xffff)
    throw new ChannelError('MESSAGE_TOO_LARGE', 'at most 65535 samples and 65535 summaries per message');
  let previous = baseMs;
  for (const s of payload.samples) {
    assertValidSample(s);
    if (s.timestampMs < previous)
      throw new ChannelError(
        'INVALID_SAMPLE',
        'samples must be in time order, none before the message start',
      );
    previous = s.timestampMs;
  }
  for (const p of payload.summaries) assertValidSummary(p);
  const body = encodeColumns(payload, baseMs);
  const deflated = deflateSync(body, { level: 9 });
  const useDeflate = deflated.length < body.length;
  return new ByteWriter()
    .u8(useDeflate ? PAYLOAD_DEFLATE : PAYLOAD_RAW)
    .u16(payload.samples.length)
    .u16(payload.summaries.length)
    .u32(body.length)
    .bytes(useDeflate ? deflated : body)
    .finish();
}

function inflateBody(encoding: number, stored: Uint8Array, bodyLength: number): Uint8Array {
  if (bodyLength > MAX_BODY_BYTES)
    throw malformed(`payload: body of ${bodyLength} bytes is beyond the limit`);
  if (encoding === PAYLOAD_RAW) {
    if (stored.length !== bodyLength) throw malformed('payload: raw body length does not match');
    return stored;
  }
  if (encoding !== PAYLOAD_DEFLATE) throw malformed(`payload: unknown encoding ${encoding}`);
  let body: Uint8Array;
  try {
    // A fixed output buffer bounds the work; a stream that would write past it fails.
    body = inflateSync(stored, { out: new Uint8Array(bodyLength) });
  } catch (cause) {
    throw malformed(`payload: DEFLATE stream is damaged (${(cause as Error).message})`);
  }
  if (body.length !== bodyLength) throw malformed('payload: inflated length does not match');
  return body;
}

export function decodeDataPayload(bytes: Uint8Array, baseMs: number): DataPayload {
  const head = new ByteReader(bytes, 'payload');
  const encoding = head.u8();
  const sampleCount = head.u16();
  const summaryCount = head.u16();
  const bodyLength = head.u32();
  const body = new ByteReader(inflateBody(encoding, head.rest(), bodyLength), 'payload body');
  const times: number[] = [];
  let t = baseMs;
  for (let i = 0; i < sampleCount; i++) {
    t += body.varint();
    if (t >= MAX_TIMESTAMP_MS) throw malformed('payload: timestamp beyond 2^48');
    times.push(t);
  }
  const columns = [0, 1, 2].map(() => {
    const values: number[] = [];
    let last = 0;
    for (let i = 0; i < sampleCount; i++) {
      last += body.svarint();
      if (!isInt32(last)) throw malformed('payload: sample value outside int32');
      values.push(last);
    }
    return values;
  });
  const samples: Sample[] = times.map((timestampMs, i) => ({
    timestampMs,
    busVoltageMV: columns[0]![i]!,
    currentMA: columns[1]![i]!,
    powerMW: columns[2]![i]!,
  }));
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const summaries: PeriodSummary[] = [];
  for (let i = 0; i < summaryCount; i++) {
    const idLength = body.varint();
    if (idLength === 0 || idLength > MAX_PERIOD_ID_BYTES) throw malformed('payload: bad period id length');
    let periodId: string;
    try {
      periodId = decoder.decode(body.bytes(idLength));
    } catch {
      throw malformed('payload: period id is not UTF-8');
    }
    const startMs = baseMs + body.svarint();
    const endMs = startMs + body.varint();
    if (!isTimestamp(startMs) || !isTimestamp(endMs)) throw malformed('payload: summary time out of range');
    summaries.push({ periodId, startMs, endMs, energyMWs: body.bigSvarint(), sampleCount: body.varint() });
  }
  body.end();
  return { samples, summaries };
}

/** Signed part of an epoch-key announcement: who may read the epoch, and which wraps carry its key. */
export interface EpochPayload {
  /** X25519 public keys of the readers of this epoch. */
  readers: Uint8Array[];
  /** SHA-256 of the wraps exactly as they sit in the envelope. */
  wrapsHash: Uint8Array;
}

export const MAX_READERS = 255;

export function encodeEpochPayload(p: EpochPayload): Uint8Array {
  if (p.readers.length > MAX_READERS)
    throw new ChannelError('INVALID_OPTIONS', `at most ${MAX_READERS} readers`);
  const w = new ByteWriter().u8(p.readers.length);
  for (const r of p.readers) w.bytes(r);
  return w.bytes(p.wrapsHash).finish();
}

export function decodeEpochPayload(bytes: Uint8Array): EpochPayload {
  const r = new ByteReader(bytes, 'epoch payload');
  const count = r.u8();
  const readers = Array.from({ length: count }, () => r.bytes(32).slice());
  const wrapsHash = r.bytes(32).slice();
  r.end();
  return { readers, wrapsHash };
}
