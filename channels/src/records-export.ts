/**
 * Exports a channel's messages as verifiable records: finds them (the indexer by tag, payments naming their
 * messages, or by walking the chain back from a block), verifies them as a reader does, and writes each
 * verified message as the bytes the meter signed, its signature and key, and its ledger anchors.
 * Browser-safe: the indexer and the node come in as structural interfaces.
 */
import { equalBytes, fromHex, isZero, toBlockId, toHex } from './bytes.js';
import { keyIdOf, messageHash, publicTag, restrictedTag } from './crypto.js';
import { EpochKeyring, openWire } from './message.js';
import { channelRefOf, describedPayment, PAYMENT_TAG, type PaymentChannelRef } from './period.js';
import { type ReadFailure, verifyEntries } from './reader.js';
import {
  RECORD_FORMAT,
  RECORD_SIGNATURE_ALGORITHM,
  recordPayloadOf,
  type VerifiableRecord,
} from './record-view.js';
import type { SignerKeys } from './signers.js';
import { type BlockApi, fetchBlockEntry, followChain, type SourceEntry } from './sources.js';

/** The part of ledger's IndexerApi the records need (structural, so this module stays browser-safe). */
export interface RecordIndexer {
  tagBlocks(
    tag: string,
    options?: { from?: number; limit?: number; after?: string },
  ): Promise<{
    items: {
      blockId: string;
      tag: string;
      data: string;
      milestoneIndex: number;
      ledgerInclusionState: string;
      transactionId?: string;
    }[];
    next?: string;
  }>;
  allTagBlocks(
    tag: string,
    options?: { from?: number },
  ): Promise<
    {
      blockId: string;
      tag: string;
      data: string;
      milestoneIndex: number;
      ledgerInclusionState: string;
      transactionId?: string;
    }[]
  >;
  block(blockId: string): Promise<unknown>;
  blockMetadata(blockId: string): Promise<{ milestoneIndex: number }>;
  milestone(index: number): Promise<{ milestoneId: string; timestamp: number }>;
}

const notFound = (error: unknown) => {
  const e = error as { code?: unknown; status?: unknown };
  return e?.code === 'NOT_FOUND' || e?.status === 404;
};

/**
 * Blocks from the indexer (which keeps them after the node prunes), else from the node (blocks the indexer
 * has not reached yet). Either may be absent.
 */
export function ledgerBlocks(sources: { indexer?: RecordIndexer; node?: BlockApi }): BlockApi {
  const { indexer, node } = sources;
  const missing = () => Object.assign(new Error('not found'), { code: 'NOT_FOUND' });
  return {
    async block(blockId) {
      if (indexer)
        try {
          return (await indexer.block(blockId)) as Awaited<ReturnType<BlockApi['block']>>;
        } catch (error) {
          if (!node || !notFound(error)) throw error;
        }
      if (!node) throw missing();
      return node.block(blockId);
    },
    async blockMetadata(blockId) {
      if (indexer)
        try {
          return { referencedByMilestoneIndex: (await indexer.blockMetadata(blockId)).milestoneIndex };
        } catch (error) {
          if (!node || !notFound(error)) throw error;
        }
      if (!node) throw missing();
      return node.blockMetadata(blockId);
    },
    ...(indexer ? { taggedBlocks: (tag: string) => indexedTagBlocks(indexer, tag) } : {}),
  };
}

/** The blocks milestones referenced that carry exactly `tag` (the index matches tags by prefix). */
export async function indexedTagBlocks(
  indexer: Pick<RecordIndexer, 'allTagBlocks'>,
  tag: string,
): Promise<{ blockId: string; data: string }[]> {
  return (await indexer.allTagBlocks(tag))
    .filter((b) => hexToUtf8(b.tag) === tag)
    .map((b) => ({ blockId: b.blockId, data: b.data }));
}

const hexToUtf8 = (h: string) => new TextDecoder().decode(fromHex(h.replace(/^0x/, '')));

/** Every included `tanglewatt/pay/v1` payment the indexer holds, with its transaction. */
export async function indexedPayments(
  indexer: RecordIndexer,
): Promise<{ transactionId: string; blockId: string; milestoneIndex: number; payment: unknown }[]> {
  const blocks = await indexer.allTagBlocks(PAYMENT_TAG);
  const out = [];
  for (const b of blocks) {
    if (b.ledgerInclusionState !== 'included' || !b.transactionId || hexToUtf8(b.tag) !== PAYMENT_TAG)
      continue;
    let payments: unknown;
    try {
      payments = (JSON.parse(hexToUtf8(b.data)) as { payments?: unknown }).payments;
    } catch {
      continue; // not a payment description: nothing of ours to read
    }
    if (!Array.isArray(payments)) continue;
    for (const payment of payments)
      out.push({
        transactionId: b.transactionId,
        blockId: b.blockId,
        milestoneIndex: b.milestoneIndex,
        payment,
      });
  }
  return out;
}

/** What the payments say about a channel: where its periods' messages end and which blocks announce epochs. */
export async function channelRefsOf(indexer: RecordIndexer, channelId: string): Promise<PaymentChannelRef[]> {
  const refs: PaymentChannelRef[] = [];
  for (const { payment } of await indexedPayments(indexer)) {
    const described = describedPayment(payment, String((payment as { k?: unknown } | null)?.k ?? ''));
    if ('error' in described) continue;
    const ref = channelRefOf(described.payment);
    if ('ref' in ref && ref.ref.id === channelId) refs.push(ref.ref);
  }
  return refs;
}

export type Bound = { seq: number } | { ms: number };

export interface ExportOptions {
  /** Where blocks are read: ledgerBlocks({ indexer, node }). */
  blocks: BlockApi;
  /** Finds the channel's blocks by tag and its payments; without it, give `starts` or `payments`. */
  indexer?: RecordIndexer;
  channelId: string;
  /** Who signs, and the public keys records name (the one that verifies each message). */
  signers: SignerKeys;
  publicKeys: Uint8Array[];
  did?: string;
  readerSecretKey?: Uint8Array;
  epochKeys?: Iterable<[number, Uint8Array]>;
  /** Payments' channel descriptions known to the caller (from `--tx`). */
  payments?: PaymentChannelRef[];
  /** Blocks to walk back from (the newest message, say). */
  starts?: string[];
  from?: Bound;
  to?: Bound;
  /** Milestone id and timestamp, for the anchors (the indexer's, else the node's). */
  milestone?: (index: number) => Promise<{ milestoneId?: string; timestamp?: number } | undefined>;
}

export interface ExportResult {
  records: VerifiableRecord[];
  /** Messages found but not verified (they are left out of the records). */
  failures: ReadFailure[];
  /** How the messages were found, for the operator. */
  notes: string[];
}

type Keys = { epochKeys: EpochKeyring; readerSecretKey?: Uint8Array };

const seqOf = (entry: SourceEntry, keys: Keys): number | undefined => {
  if (!entry.bytes) return undefined;
  const opened = openWire(entry.bytes, keys);
  return opened.ok ? opened.inner.header.seq : undefined;
};

/** Opens the epoch announcements payments name (with the reader key): the keys a backward walk needs. */
async function openAnnouncements(blocks: BlockApi, refs: PaymentChannelRef[], keys: Keys, notes: string[]) {
  const named = new Map<number, string>();
  for (const ref of refs)
    for (const [epoch, id] of Object.entries(ref.epochs ?? {})) named.set(Number(epoch), id);
  let opened = 0;
  for (const [epoch, blockId] of named) {
    if (keys.epochKeys.get(epoch) || !keys.readerSecretKey) continue;
    const entry = await fetchBlockEntry(blocks, blockId, { milestones: false });
    if (!entry.bytes) continue;
    const result = openWire(entry.bytes, keys, 'restricted');
    if (result.ok && result.inner.header.kind === 'epoch' && result.key) {
      keys.epochKeys.add(result.inner.header.epoch, result.key.key);
      opened++;
    }
  }
  if (named.size) notes.push(`opened ${opened} of ${named.size} epoch announcements the payments name`);
}

/** Restricted channels, forward from the newest message: the next seq's tag under its epoch's key. */
async function walkForward(
  indexer: RecordIndexer,
  blocks: BlockApi,
  found: Map<number, SourceEntry>,
  keys: Keys,
  toSeq: number,
) {
  // (a loop, not Math.max(...): a long channel has more seqs than a call takes arguments)
  let seq = [...found.keys()].reduce((a, b) => Math.max(a, b));
  let last = found.get(seq)!;
  for (;;) {
    const opened = last.bytes ? openWire(last.bytes, keys) : undefined;
    if (!opened?.ok || seq >= toSeq) return;
    const epoch = keys.epochKeys.get(opened.inner.header.epoch);
    if (!epoch) return;
    const tag = restrictedTag(epoch.subkeys, seq + 1);
    const page = await indexer.tagBlocks(tag, { limit: 10 });
    const item = page.items.find((i) => hexToUtf8(i.tag) === tag);
    if (!item) return;
    const entry = await fetchBlockEntry(blocks, item.blockId);
    const next = entry.bytes ? openWire(entry.bytes, keys) : undefined;
    if (!next?.ok || next.inner.header.seq !== seq + 1) return;
    if (next.inner.header.kind === 'epoch' && next.key)
      keys.epochKeys.add(next.inner.header.epoch, next.key.key);
    seq += 1;
    found.set(seq, { ...entry, seq });
    last = entry;
  }
}

/** A message the indexer lists under the channel's tag: its bytes and milestone come with the listing. */
function listedEntry(b: { blockId: string; tag: string; data: string; milestoneIndex: number }): SourceEntry {
  return {
    blockId: b.blockId,
    bytes: fromHex(b.data.replace(/^0x/, '')),
    tag: hexToUtf8(b.tag),
    milestoneIndex: b.milestoneIndex,
  };
}

/** The previous block a message names (its chain link), if it opens. */
const prevBlockOf = (entry: SourceEntry | undefined, keys: Keys): string | undefined => {
  const opened = entry?.bytes ? openWire(entry.bytes, keys) : undefined;
  return opened?.ok && !isZero(opened.inner.header.prevBlockId)
    ? toBlockId(opened.inner.header.prevBlockId)
    : undefined;
};

/**
 * Makes the found messages one chain as far as the ledger allows:
 * - a message in more than one block (a writer re-posts the same bytes when a post seemed to fail, and the
 *   first may land too) is taken from the block the next message names, as its chain link says;
 * - a hole (a busy node may reference a message a milestone after the one that follows it, so the indexer
 *   can list seq n+1 before seq n) is filled by walking back along the chain from the message after it,
 *   through the indexer, else the node;
 * - a message the node has but no milestone referenced yet ends the export before it: it and later ones
 *   are for the next export, as they are not on the ledger yet.
 */
async function linkChain(
  candidates: Map<number, SourceEntry[]>,
  blocks: BlockApi,
  keys: Keys,
  fromSeq: number,
  notes: string[],
): Promise<SourceEntry[]> {
  const seqs = [...candidates.keys()].sort((a, b) => a - b);
  const chosen = new Map<number, SourceEntry>();
  for (let i = seqs.length - 1; i >= 0; i--) {
    const seq = seqs[i]!;
    const copies = candidates.get(seq)!;
    const named = prevBlockOf(chosen.get(seq + 1), keys);
    chosen.set(seq, copies.find((c) => c.blockId === named) ?? copies[0]!);
  }
  const duplicated = [...candidates.values()].filter((c) => c.length > 1).length;
  if (duplicated)
    notes.push(`${duplicated} messages are in more than one block: the chain's links chose one`);
  // Holes, the one before the first message found included: walk back from the message after each.
  const starts = seqs.filter((seq, i) => (i === 0 ? seq > fromSeq : seq > seqs[i - 1]! + 1));
  for (const seq of starts) {
    const below = seqs.filter((s) => s < seq).at(-1) ?? fromSeq - 1;
    const chain = await followChain(blocks, chosen.get(seq)!.blockId!, { ...keys, stopAtSeq: below + 1 });
    let filled = 0;
    for (const entry of chain.entries) {
      const at = seqOf(entry, keys);
      if (at === undefined || chosen.has(at)) continue;
      chosen.set(at, { ...entry, seq: at });
      filled++;
    }
    if (filled)
      notes.push(`seq ${below + 1}..${seq - 1}: ${filled} messages not under the tag found along the chain`);
    if (chain.stopped)
      notes.push(
        `seq ${seq} names a previous block the ledger sources do not have (${chain.stopped.detail}): not referenced by a milestone yet (give --node), or lost`,
      );
  }
  const ordered = [...chosen.values()].sort((a, b) => a.seq! - b.seq!);
  const pending = ordered.findIndex((e) => e.milestoneIndex === undefined);
  if (pending < 0) return ordered;
  notes.push(
    `seq ${ordered[pending]!.seq} is on the node but no milestone referenced it yet: the export ends before it (export again for the rest)`,
  );
  return ordered.slice(0, pending);
}

/** Finds the channel's messages, oldest first, each filed under its seq. */
async function discover(options: ExportOptions, keys: Keys, notes: string[]): Promise<SourceEntry[]> {
  const { blocks, indexer } = options;
  const found = new Map<number, SourceEntry>();
  const file = (entry: SourceEntry) => {
    const seq = seqOf(entry, keys);
    if (seq !== undefined && !found.has(seq)) found.set(seq, { ...entry, seq });
  };
  const fromSeq = options.from && 'seq' in options.from ? options.from.seq : 0;
  if (indexer) {
    const tag = publicTag(fromHex(options.channelId, 32, 'channel id'));
    const tagged = (await indexer.allTagBlocks(tag)).filter(
      (b) => hexToUtf8(b.tag) === tag && b.ledgerInclusionState !== 'conflicting',
    );
    if (tagged.length) {
      notes.push(`public channel: ${tagged.length} blocks under its tag ${tag}`);
      // Blocks whose bytes do not open as a message are left out (anyone may post under a public tag).
      const candidates = new Map<number, SourceEntry[]>();
      for (const b of tagged) {
        const entry = listedEntry(b);
        const seq = seqOf(entry, keys);
        if (seq !== undefined) candidates.set(seq, [...(candidates.get(seq) ?? []), { ...entry, seq }]);
      }
      return linkChain(candidates, blocks, keys, fromSeq, notes);
    }
  }
  const refs = [
    ...(options.payments ?? []),
    ...(indexer ? await channelRefsOf(indexer, options.channelId) : []),
  ];
  if (refs.length) notes.push(`${refs.length} payments name this channel's messages`);
  await openAnnouncements(blocks, refs, keys, notes);
  const starts = [
    ...(options.starts ?? []),
    ...refs.sort((a, b) => b.toSeq - a.toSeq).map((r) => r.lastBlockId),
  ];
  const walked = new Set<string>();
  for (const start of starts) {
    if (walked.has(start)) continue;
    const chain = await followChain(blocks, start, { ...keys, stopAtSeq: fromSeq });
    for (const entry of chain.entries) {
      if (entry.blockId) walked.add(entry.blockId);
      file(entry);
    }
    if (chain.stopped) notes.push(`walk back from ${start.slice(0, 18)}… stopped: ${chain.stopped.detail}`);
  }
  const toSeq = options.to && 'seq' in options.to ? options.to.seq : Number.MAX_SAFE_INTEGER;
  if (indexer && found.size) await walkForward(indexer, blocks, found, keys, toSeq);
  return [...found.values()].sort((a, b) => a.seq! - b.seq!);
}

function inRange(entry: SourceEntry, keys: Keys, from?: Bound, to?: Bound): boolean {
  const opened = entry.bytes ? openWire(entry.bytes, keys) : undefined;
  if (!opened?.ok) return true; // reported by the reader
  const h = opened.inner.header;
  if (from && ('seq' in from ? h.seq < from.seq : h.toMs < from.ms)) return false;
  if (to && ('seq' in to ? h.seq > to.seq : h.fromMs > to.ms)) return false;
  return true;
}

/** The channel's messages in the range as verified records, and what could not be verified. */
export async function exportRecords(options: ExportOptions): Promise<ExportResult> {
  const notes: string[] = [];
  const keys: Keys = {
    epochKeys: new EpochKeyring(options.epochKeys ?? []),
    ...(options.readerSecretKey ? { readerSecretKey: options.readerSecretKey } : {}),
  };
  const all = await discover(options, keys, notes);
  // Announcements first: a range starting mid-epoch still needs the key its announcement carries.
  const entries = all.filter((e) => inRange(e, keys, options.from, options.to));
  const read = verifyEntries(entries, {
    channelId: options.channelId,
    signers: options.signers,
    startAnywhere: true,
    allFailures: true,
    epochKeys: keys.epochKeys,
    ...(options.readerSecretKey ? { readerSecretKey: options.readerSecretKey } : {}),
  });
  const bySeq = new Map(entries.map((e) => [e.seq!, e]));
  const milestones = new Map<number, { milestoneId?: string; timestamp?: number } | undefined>();
  const records: VerifiableRecord[] = [];
  for (const m of read.messages) {
    const entry = bySeq.get(m.seq)!;
    const opened = openWire(entry.bytes!, { epochKeys: read.epochKeys });
    if (!opened.ok) continue; // verified a moment ago with the same keys
    const { inner } = opened;
    // The reader verified the signature under a key the signers allow; the record names that key by its id.
    const publicKey = options.publicKeys.find((k) => equalBytes(keyIdOf(k), inner.header.keyId));
    if (!publicKey) {
      read.failures.push({
        reason: 'BAD_SIGNATURE',
        seq: m.seq,
        position: -1,
        detail: 'no public key given has the key id it was signed with',
      });
      continue;
    }
    let milestone: { milestoneId?: string; timestamp?: number } | undefined;
    if (m.milestoneIndex !== undefined && options.milestone) {
      if (!milestones.has(m.milestoneIndex))
        milestones.set(m.milestoneIndex, await options.milestone(m.milestoneIndex).catch(() => undefined));
      milestone = milestones.get(m.milestoneIndex);
    }
    records.push({
      record: RECORD_FORMAT,
      seq: m.seq,
      channelId: read.channelId,
      mode: m.mode,
      payload: recordPayloadOf(inner.header, m),
      signed: toHex(inner.signed),
      signature: { SA: RECORD_SIGNATURE_ALGORITHM, SE: 'hex', SD: toHex(inner.signature) },
      signer: { publicKey: toHex(publicKey), ...(options.did ? { did: options.did } : {}) },
      wireHash: toHex(messageHash(entry.bytes!)),
      ledger: {
        blockId: entry.blockId!,
        ...(m.milestoneIndex !== undefined ? { milestoneIndex: m.milestoneIndex } : {}),
        ...(milestone?.milestoneId ? { milestoneId: milestone.milestoneId } : {}),
        ...(milestone?.timestamp !== undefined ? { milestoneTimestamp: milestone.timestamp } : {}),
        ...(entry.tag !== undefined ? { tag: entry.tag } : {}),
      },
    });
  }
  return { records, failures: read.failures, notes };
}
