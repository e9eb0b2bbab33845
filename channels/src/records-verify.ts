/**
 * The standalone check of exported records: every signature under the meter's key, the OCMF-shaped view
 * against the signed bytes, continuous numbering (a gap, a duplicate, a reordering or an insertion is one
 * failure naming the seq), the chain of previous hashes, and, given a ledger, that each block
 * is on it with that content. Needs no reader key: the records carry what the meter signed. Browser-safe.
 */
import { isError } from '@tanglewatt/errors';
import { concatBytes, equalBytes, fromHex, isZero, toHex } from './bytes.js';
import { channelIdHex, keyIdOf, messageHash, verifySignature } from './crypto.js';
import { decodeInner, type InnerMessage } from './format.js';
import { decodeDataPayload, decodeEpochPayload } from './payload.js';
import {
  RECORD_FORMAT,
  RECORD_SIGNATURE_ALGORITHM,
  recordPayloadOf,
  type VerifiableRecord,
} from './record-view.js';
import type { SignerKeys } from './signers.js';
import { type BlockApi, fetchBlockEntry } from './sources.js';

export type RecordFailureCode =
  | 'EMPTY'
  | 'MALFORMED'
  | 'WRONG_CHANNEL'
  | 'WRONG_KEY'
  | 'BAD_SIGNATURE'
  | 'TAMPERED'
  | 'DUPLICATE'
  | 'REORDERED'
  | 'MISSING'
  | 'BROKEN_CHAIN'
  | 'NOT_ON_LEDGER'
  | 'LEDGER_MISMATCH';

export interface RecordFailure {
  code: RecordFailureCode;
  /** 1-based line of the records file (absent for what concerns the file as a whole). */
  line?: number;
  seq?: number;
  detail: string;
}

export interface CheckedRecord {
  line: number;
  seq: number;
  /** Energy of the periods this record closes, mWs, from the signed bytes. */
  energyMWs: bigint;
  periodIds: string[];
}

export interface RecordsVerdict {
  ok: boolean;
  channelId?: string;
  /** Records whose signature and content verified, in file order. */
  records: CheckedRecord[];
  seqRange?: [number, number];
  /** Sum of the period energies the verified records carry. */
  energyMWs: bigint;
  /** Signing keys seen (hex). */
  publicKeys: string[];
  /** Whether each block was also checked on the ledger. */
  onLedger: boolean;
  failures: RecordFailure[];
}

export interface VerifyRecordsOptions {
  /**
   * Who may sign (keys given, a DID's history); by default only the channel's own key (its id is its hash).
   * A DID's key is judged by the milestone the record names, which only `ledger` confirms.
   */
  signers?: SignerKeys;
  /** Also check each block on the ledger (a node, the indexer, or both). */
  ledger?: BlockApi;
  /** The range the records must cover exactly; otherwise whatever range they hold, without holes. */
  expectSeq?: { from?: number; to?: number };
}

interface Parsed {
  line: number;
  record: VerifiableRecord;
  inner: InnerMessage;
  wire: Uint8Array;
}

const hex = /^[0-9a-f]*$/;

function shapeError(value: unknown): string | undefined {
  const r = value as Partial<VerifiableRecord> | null;
  if (typeof r !== 'object' || r === null) return 'not a JSON object';
  if (r.record !== RECORD_FORMAT) return `record: must be "${RECORD_FORMAT}"`;
  if (!Number.isInteger(r.seq) || (r.seq ?? -1) < 0) return 'seq: a whole number from 0';
  if (typeof r.signed !== 'string' || !hex.test(r.signed) || r.signed.length % 2 !== 0)
    return 'signed: lowercase hex, whole bytes';
  if (r.signature?.SA !== RECORD_SIGNATURE_ALGORITHM)
    return `signature.SA: must be ${RECORD_SIGNATURE_ALGORITHM}`;
  if (typeof r.signature.SD !== 'string' || !/^[0-9a-f]{128}$/.test(r.signature.SD))
    return 'signature.SD: 128 hex digits';
  if (typeof r.signer?.publicKey !== 'string' || !/^[0-9a-f]{64}$/.test(r.signer.publicKey))
    return 'signer.publicKey: 64 hex digits';
  if (typeof r.wireHash !== 'string' || !/^[0-9a-f]{64}$/.test(r.wireHash)) return 'wireHash: 64 hex digits';
  if (typeof r.ledger?.blockId !== 'string' || !/^0x[0-9a-f]{64}$/.test(r.ledger.blockId))
    return 'ledger.blockId: a block id';
  if (typeof r.channelId !== 'string' || !/^[0-9a-f]{64}$/.test(r.channelId))
    return 'channelId: 64 hex digits';
  return undefined;
}

/** The first path at which two JSON values differ, for a TAMPERED line that names the field. */
function firstDifference(a: unknown, b: unknown, path = 'payload'): string | undefined {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null)
    return Object.is(a, b) ? undefined : path;
  if (Array.isArray(a) !== Array.isArray(b)) return path;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const d = firstDifference(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      Array.isArray(a) ? `${path}[${key}]` : `${path}.${key}`,
    );
    if (d) return d;
  }
  return undefined;
}

/** Indices of a longest strictly increasing subsequence: the records that stay put in a reordering. */
function longestIncreasing(values: number[]): Set<number> {
  const tails: number[] = [];
  const previous = new Array<number>(values.length).fill(-1);
  for (let i = 0; i < values.length; i++) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[tails[mid]!]! < values[i]!) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) previous[i] = tails[lo - 1]!;
    tails[lo] = i;
  }
  const kept = new Set<number>();
  for (let i = tails.at(-1) ?? -1; i >= 0; i = previous[i]!) kept.add(i);
  return kept;
}

/** Splits a JSON Lines text into its non-empty lines, keeping their line numbers. */
export function recordLines(text: string): { line: number; text: string }[] {
  return text
    .split('\n')
    .map((t, i) => ({ line: i + 1, text: t.trim() }))
    .filter((l) => l.text !== '');
}

/** Verifies a records file (JSON Lines). One failure per problem; `ok` only when there is none. */
export async function verifyRecords(
  text: string,
  options: VerifyRecordsOptions = {},
): Promise<RecordsVerdict> {
  const failures: RecordFailure[] = [];
  const fail = (code: RecordFailureCode, detail: string, line?: number, seq?: number) =>
    failures.push({
      code,
      detail,
      ...(line !== undefined ? { line } : {}),
      ...(seq !== undefined ? { seq } : {}),
    });
  const lines = recordLines(text);
  const parsed: Parsed[] = [];
  const checked: CheckedRecord[] = [];
  const publicKeys = new Set<string>();
  /** Seqs of records present but refused: reported once, for what is wrong with them, never as missing. */
  const refused = new Set<number>();
  let channelId: string | undefined;

  for (const { line, text: json } of lines) {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      fail('MALFORMED', 'not JSON', line);
      continue;
    }
    const shape = shapeError(value);
    const seqClaim = (value as { seq?: unknown } | null)?.seq;
    const claimed = typeof seqClaim === 'number' ? seqClaim : undefined;
    if (shape) {
      fail('MALFORMED', shape, line, claimed);
      if (claimed !== undefined) refused.add(claimed);
      continue;
    }
    const record = value as VerifiableRecord;
    const one = checkOne(record, line);
    if (one) parsed.push(one);
    else refused.add(record.seq);
  }

  function checkOne(record: VerifiableRecord, line: number): Parsed | undefined {
    const signature = fromHex(record.signature.SD, 64);
    let inner: InnerMessage;
    try {
      inner = decodeInner(concatBytes(fromHex(record.signed), signature));
    } catch (error) {
      if (!isError(error, 'MALFORMED')) throw error;
      fail('MALFORMED', `signed bytes: ${error.message}`, line, record.seq);
      return undefined;
    }
    const h = inner.header;
    const channel = toHex(h.channelId);
    channelId ??= channel;
    if (channel !== channelId || record.channelId !== channel) {
      fail(
        'WRONG_CHANNEL',
        `a message of channel ${channel.slice(0, 16)}…, not ${channelId.slice(0, 16)}…`,
        line,
        h.seq,
      );
      return undefined;
    }
    const publicKey = fromHex(record.signer.publicKey, 32);
    if (!equalBytes(keyIdOf(publicKey), h.keyId)) {
      fail(
        'WRONG_KEY',
        `signer.publicKey is not the key (id ${toHex(h.keyId)}) the signed bytes name`,
        line,
        h.seq,
      );
      return undefined;
    }
    if (!verifySignature(signature, inner.signed, publicKey)) {
      fail(
        'BAD_SIGNATURE',
        `the signature does not verify under ${record.signer.publicKey.slice(0, 16)}…`,
        line,
        h.seq,
      );
      return undefined;
    }
    const allowed = options.signers
      ? options.signers
          .candidates({
            header: h,
            ...(record.ledger.milestoneIndex !== undefined
              ? { milestoneIndex: record.ledger.milestoneIndex }
              : {}),
          })
          .keys.some((k) => equalBytes(k, publicKey))
      : channelIdHex(publicKey) === channel;
    if (!allowed) {
      fail(
        'WRONG_KEY',
        options.signers
          ? `signed by ${record.signer.publicKey.slice(0, 16)}…, not a key the given signer (DID or keys) holds for it`
          : `signed by ${record.signer.publicKey.slice(0, 16)}…, not the channel's own key (its id is the key's hash): give --did or --public-key for a rotated key`,
        line,
        h.seq,
      );
      return undefined;
    }
    if (record.seq !== h.seq) {
      fail('TAMPERED', `seq says ${record.seq}, the signed bytes say ${h.seq}`, line, h.seq);
      return undefined;
    }
    if (record.mode !== h.mode) {
      fail('TAMPERED', `mode says ${record.mode}, the signed bytes say ${h.mode}`, line, h.seq);
      return undefined;
    }
    let content: ReturnType<typeof decodeDataPayload>;
    try {
      content =
        h.kind === 'data' ? decodeDataPayload(inner.payload, h.fromMs) : { samples: [], summaries: [] };
      if (h.kind === 'epoch') decodeEpochPayload(inner.payload);
    } catch (error) {
      if (!isError(error, 'MALFORMED')) throw error;
      fail('MALFORMED', `signed payload: ${error.message}`, line, h.seq);
      return undefined;
    }
    const differs = firstDifference(record.payload, recordPayloadOf(h, content));
    if (differs) {
      fail('TAMPERED', `${differs} is not what the meter signed`, line, h.seq);
      return undefined;
    }
    const wire = concatBytes(inner.signed, inner.signature);
    if (h.mode === 'public' && toHex(messageHash(wire)) !== record.wireHash) {
      fail('TAMPERED', 'wireHash is not the hash of the signed message', line, h.seq);
      return undefined;
    }
    publicKeys.add(record.signer.publicKey);
    checked.push({
      line,
      seq: h.seq,
      energyMWs: content.summaries.reduce((sum, s) => sum + s.energyMWs, 0n),
      periodIds: content.summaries.map((s) => s.periodId),
    });
    return { line, record, inner, wire };
  }

  checkNumbering(parsed, refused, fail, options.expectSeq);
  checkChain(parsed, fail);
  if (options.ledger) await checkLedger(parsed, options.ledger, fail);
  if (lines.length === 0) fail('EMPTY', 'no records');

  const seqs = parsed.map((p) => p.record.seq);
  failures.sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
  return {
    ok: failures.length === 0,
    ...(channelId ? { channelId } : {}),
    records: checked,
    ...(seqs.length
      ? {
          seqRange: [seqs.reduce((a, b) => Math.min(a, b)), seqs.reduce((a, b) => Math.max(a, b))] as [
            number,
            number,
          ],
        }
      : {}),
    energyMWs: checked.reduce((sum, r) => sum + r.energyMWs, 0n),
    publicKeys: [...publicKeys],
    onLedger: options.ledger !== undefined,
    failures,
  };
}

type Fail = (code: RecordFailureCode, detail: string, line?: number, seq?: number) => void;

/** Duplicates, then reorderings (records outside a longest increasing run), then holes. */
function checkNumbering(
  parsed: Parsed[],
  refused: Set<number>,
  fail: Fail,
  expect: VerifyRecordsOptions['expectSeq'],
): void {
  const firstLine = new Map<number, Parsed>();
  const unique: Parsed[] = [];
  for (const p of parsed) {
    const earlier = firstLine.get(p.record.seq);
    if (!earlier) {
      firstLine.set(p.record.seq, p);
      unique.push(p);
      continue;
    }
    const same = equalBytes(earlier.wire, p.wire);
    fail(
      'DUPLICATE',
      same
        ? `seq ${p.record.seq} again (first at line ${earlier.line})`
        : `a second, different record with seq ${p.record.seq} (first at line ${earlier.line})`,
      p.line,
      p.record.seq,
    );
  }
  const kept = longestIncreasing(unique.map((p) => p.record.seq));
  let lastKept: Parsed | undefined;
  for (const [i, p] of unique.entries()) {
    if (kept.has(i)) lastKept = p;
    else
      fail(
        'REORDERED',
        `seq ${p.record.seq} is out of order${lastKept ? ` (after seq ${lastKept.record.seq})` : ''}`,
        p.line,
        p.record.seq,
      );
  }
  const sorted = [...firstLine.keys()].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1]!, sorted[i]!];
    const holes = Array.from({ length: b - a - 1 }, (_, k) => a + 1 + k);
    if (holes.length && !holes.every((s) => refused.has(s)))
      fail(
        'MISSING',
        `seq ${a + 1}${b - 1 > a + 1 ? `..${b - 1}` : ''} missing (between seq ${a} and ${b})`,
        firstLine.get(b)!.line,
        a + 1,
      );
  }
  if (sorted.length === 0) return;
  const [lo, hi] = [sorted[0]!, sorted.at(-1)!];
  if (expect?.from !== undefined && lo > expect.from)
    fail(
      'MISSING',
      `seq ${expect.from}${lo - 1 > expect.from ? `..${lo - 1}` : ''} missing at the start`,
      undefined,
      expect.from,
    );
  if (expect?.to !== undefined && hi < expect.to)
    fail(
      'MISSING',
      `seq ${hi + 1}${expect.to > hi + 1 ? `..${expect.to}` : ''} missing at the end`,
      undefined,
      hi + 1,
    );
}

/** Each record names its predecessor's wire hash and block; the first of a channel names none. */
function checkChain(parsed: Parsed[], fail: Fail): void {
  const bySeq = new Map<number, Parsed>();
  for (const p of parsed) if (!bySeq.has(p.record.seq)) bySeq.set(p.record.seq, p);
  for (const p of bySeq.values()) {
    const h = p.inner.header;
    if (h.seq === 0) {
      if (!isZero(h.prevHash) || !isZero(h.prevBlockId))
        fail('BROKEN_CHAIN', 'the first message names a predecessor', p.line, 0);
      continue;
    }
    const before = bySeq.get(h.seq - 1);
    if (!before) continue; // a hole, reported as MISSING
    // The signed previous hash is the link. The previous block id only says where the meter first posted
    // that message: a block no milestone referenced is posted again (the same bytes in a new block), so
    // the record may name another block holding the very bytes the hash covers.
    if (toHex(h.prevHash) !== before.record.wireHash)
      fail('BROKEN_CHAIN', `the signed previous hash is not seq ${h.seq - 1}'s wireHash`, p.line, h.seq);
  }
}

/** Each block on the ledger holds exactly the bytes the record hashes, under its tag and milestone. */
async function checkLedger(parsed: Parsed[], ledger: BlockApi, fail: Fail): Promise<void> {
  for (const p of parsed) {
    const { record } = p;
    const entry = await fetchBlockEntry(ledger, record.ledger.blockId);
    if (!entry.bytes) {
      fail(
        'NOT_ON_LEDGER',
        entry.missing?.detail ?? `block ${record.ledger.blockId} holds no data`,
        p.line,
        record.seq,
      );
      continue;
    }
    const problem =
      toHex(messageHash(entry.bytes)) !== record.wireHash
        ? 'the block does not hold the bytes the record hashes'
        : record.mode === 'public' && !equalBytes(entry.bytes, p.wire)
          ? 'the block does not hold the signed message'
          : record.ledger.tag !== undefined && entry.tag !== record.ledger.tag
            ? `the block's tag is "${entry.tag}", the record says "${record.ledger.tag}"`
            : record.ledger.milestoneIndex !== undefined &&
                entry.milestoneIndex !== undefined &&
                entry.milestoneIndex !== record.ledger.milestoneIndex
              ? `milestone ${entry.milestoneIndex} referenced the block, the record says ${record.ledger.milestoneIndex}`
              : undefined;
    if (problem) fail('LEDGER_MISMATCH', `${record.ledger.blockId}: ${problem}`, p.line, record.seq);
  }
}
