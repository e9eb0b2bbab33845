/**
 * What the channel writer journals, and the chain those records rebuild: keys, epochs, messages, periods
 * and the head the next message links to. Replaying the records in order gives back the writer's state.
 */
import { fromBase64, fromHex, toBase64, toHex } from './bytes.js';
import { restrictedTag } from './crypto.js';
import { ChannelError } from './errors.js';
import { type ChannelMode, HASH_BYTES, type MessageKind } from './format.js';
import { merkleRootHex } from './merkle.js';
import { type ChainPosition, type EpochKey, epochKey, type SealedMessage } from './message.js';
import type { ScheduledKey } from './signers.js';

/** What the writer journals. Secrets (epoch keys) are in it: keep the file 0600 (node.ts does). */
export type WriterRecord =
  | { t: 'channel'; v: 1; channelId: string; mode: ChannelMode; genesisPublicKey: string }
  | { t: 'key'; publicKey: string; fromSeq: number }
  | { t: 'epoch'; epoch: number; key: string; readers: string[]; announcedAtSeq: number }
  | ({ t: 'sealed'; bytes: string } & MessageFacts)
  | { t: 'posted'; seq: number; blockId: string }
  /** A sealed and posted message after compaction: everything but its bytes. */
  | ({ t: 'message'; blockId: string } & MessageFacts)
  | { t: 'period'; periodId: string; fromSeq: number; toSeq: number; root: string };

export interface MessageFacts {
  seq: number;
  hash: string;
  wireBytes: number;
  tag: string;
  kind: MessageKind;
  epoch: number;
  fromMs: number;
  toMs: number;
}

export interface WriterStore {
  load(): Promise<WriterRecord[]>;
  append(records: WriterRecord[]): Promise<void>;
  /** Replaces every record atomically (compaction). Optional. */
  rewrite?(records: WriterRecord[]): Promise<void>;
  close?(): Promise<void>;
}

/** A store in memory, for tests and for browsers that keep nothing. */
export class MemoryWriterStore implements WriterStore {
  records: WriterRecord[] = [];
  async load(): Promise<WriterRecord[]> {
    return structuredClone(this.records);
  }
  async append(records: WriterRecord[]): Promise<void> {
    this.records.push(...structuredClone(records));
  }
  async rewrite(records: WriterRecord[]): Promise<void> {
    this.records = structuredClone(records);
  }
}

export interface ClosedPeriod {
  periodId: string;
  fromSeq: number;
  toSeq: number;
  /** Merkle root (RFC 6962, SHA-256) of the period's message hashes: the payment's readingsHash. */
  root: string;
}

export interface MessageInfo extends MessageFacts {
  blockId?: string;
}

export interface EpochState {
  key: EpochKey;
  readers: Uint8Array[];
  announcedAtSeq: number;
}

export type SealedRecord = { t: 'sealed'; bytes: string } & MessageFacts;

/** The journal record of a sealed message, bytes included, posted under `tag`. */
export function sealedRecordOf(sealed: SealedMessage, tag: string): SealedRecord {
  const h = sealed.header;
  return {
    t: 'sealed' as const,
    seq: h.seq,
    hash: toHex(sealed.hash),
    wireBytes: sealed.bytes.length,
    tag,
    kind: h.kind,
    epoch: h.epoch,
    fromMs: h.fromMs,
    toMs: h.toMs,
    bytes: toBase64(sealed.bytes),
  };
}

const ZERO_HASH = new Uint8Array(HASH_BYTES);

/** The channel as its journal records it; the writer seals and posts on top of it. */
export class WriterChain {
  readonly keySchedule: { publicKey: Uint8Array; fromSeq: number }[] = [];
  /** Sequence number the next message will get. */
  nextSeq = 0;
  prevHash: Uint8Array = ZERO_HASH;
  prevBlockId: Uint8Array = ZERO_HASH;
  lastToMs = 0;
  readonly epochs = new Map<number, EpochState>();
  /** Sealed and journaled, not yet known to be posted: they go out again after a crash. */
  readonly unposted: SealedRecord[] = [];
  readonly messages = new Map<number, MessageInfo>();
  readonly closedPeriods: ClosedPeriod[] = [];
  periodStartSeq = 0;

  /** Replays one record onto the chain. */
  apply(r: WriterRecord): void {
    switch (r.t) {
      case 'channel':
        return;
      case 'key':
        this.keySchedule.push({ publicKey: fromHex(r.publicKey, 32, 'public key'), fromSeq: r.fromSeq });
        return;
      case 'epoch':
        this.epochs.set(r.epoch, {
          key: epochKey(r.epoch, fromBase64(r.key)),
          readers: r.readers.map((x) => fromHex(x, 32, 'reader key')),
          announcedAtSeq: r.announcedAtSeq,
        });
        return;
      case 'sealed':
      case 'message': {
        const { t: _t, ...facts } = r;
        const info: MessageInfo = { ...facts };
        delete (info as { bytes?: string }).bytes;
        this.messages.set(r.seq, info);
        this.nextSeq = r.seq + 1;
        this.prevHash = fromHex(r.hash, 32, 'hash');
        this.lastToMs = Math.max(this.lastToMs, r.toMs);
        if (r.t === 'sealed') this.unposted.push(r);
        else this.prevBlockId = fromHex(r.blockId, 32, 'block id');
        return;
      }
      case 'posted': {
        const info = this.messages.get(r.seq);
        if (!info) throw new ChannelError('STATE_CORRUPT', `posted record for unknown seq ${r.seq}`);
        info.blockId = r.blockId;
        const i = this.unposted.findIndex((u) => u.seq === r.seq);
        if (i >= 0) this.unposted.splice(i, 1);
        if (r.seq === this.nextSeq - 1) this.prevBlockId = fromHex(r.blockId, 32, 'block id');
        return;
      }
      case 'period':
        this.closedPeriods.push({ periodId: r.periodId, fromSeq: r.fromSeq, toSeq: r.toSeq, root: r.root });
        this.periodStartSeq = r.toSeq + 1;
        return;
    }
  }

  /** Where the next message goes: its seq and the links to the head before it. */
  positionOf(channelId: Uint8Array, fromMs: number, toMs: number): ChainPosition {
    return {
      channelId,
      seq: this.nextSeq,
      prevHash: this.prevHash,
      prevBlockId: this.prevBlockId,
      fromMs,
      toMs,
    };
  }

  /** Takes on an epoch to be announced at `seq`; returns the record to journal with its announcement. */
  beginEpoch(key: EpochKey, readers: Uint8Array[], seq: number): WriterRecord {
    const record: WriterRecord = {
      t: 'epoch',
      epoch: key.epoch,
      key: toBase64(key.key),
      readers: readers.map(toHex),
      announcedAtSeq: seq,
    };
    this.epochs.set(key.epoch, { key, readers, announcedAtSeq: seq });
    return record;
  }

  /** An epoch journaled without its announcement was never used: forgets its key, returns its reader set. */
  dropUnannouncedEpochs(): Uint8Array[] | undefined {
    let intended: Uint8Array[] | undefined;
    for (const [epoch, state] of [...this.epochs]) {
      if (this.messages.get(state.announcedAtSeq)?.kind === 'epoch') continue;
      this.epochs.delete(epoch);
      intended = state.readers;
    }
    return intended;
  }

  /** Seq → block id of every posted message, in order. */
  blockIndex(fromSeq: number, toSeq: number): { seq: number; blockId: string }[] {
    return [...this.messages.values()]
      .filter((m) => m.blockId !== undefined && m.seq >= fromSeq && m.seq <= toSeq)
      .sort((a, b) => a.seq - b.seq)
      .map((m) => ({ seq: m.seq, blockId: m.blockId! }));
  }

  epochKeys(): [number, Uint8Array][] {
    return [...this.epochs.values()].map((e) => [e.key.epoch, e.key.key]);
  }

  /** Which key signed which sequence numbers, for seqScheduleSigners. */
  signingSchedule(): ScheduledKey[] {
    return this.keySchedule.map((k, i) => {
      const next = this.keySchedule[i + 1];
      return { publicKey: k.publicKey, fromSeq: k.fromSeq, ...(next ? { untilSeq: next.fromSeq } : {}) };
    });
  }

  /** The tag of a restricted channel's message. */
  restrictedTagFor(seq: number, kind: MessageKind, epoch: number): string {
    // An announcement carries the tag of the epoch before it, so that epoch's readers can spot it.
    const keyed =
      kind === 'epoch' ? (this.epochs.get(epoch - 1) ?? this.epochs.get(epoch)) : this.epochs.get(epoch);
    return restrictedTag(keyed!.key.subkeys, seq);
  }

  /** The period that message `seq` (with `hash`) closes: from the first message after the previous period. */
  periodEndingWith(periodId: string, seq: number, hash: string): ClosedPeriod {
    const hashes: string[] = [];
    for (let s = this.periodStartSeq; s < seq; s++) hashes.push(this.messages.get(s)!.hash);
    hashes.push(hash);
    return { periodId, fromSeq: this.periodStartSeq, toSeq: seq, root: merkleRootHex(hashes) };
  }

  /** The records of a compacted store: posted messages lose their bytes; keys, epochs, the block index and periods stay. */
  compactedRecords(channelId: Uint8Array, mode: ChannelMode): WriterRecord[] {
    const first = this.keySchedule[0]!;
    return [
      {
        t: 'channel',
        v: 1,
        channelId: toHex(channelId),
        mode: mode,
        genesisPublicKey: toHex(first.publicKey),
      },
      ...this.keySchedule.map(
        (k): WriterRecord => ({ t: 'key', publicKey: toHex(k.publicKey), fromSeq: k.fromSeq }),
      ),
      ...[...this.epochs.values()].map(
        (e): WriterRecord => ({
          t: 'epoch',
          epoch: e.key.epoch,
          key: toBase64(e.key.key),
          readers: e.readers.map(toHex),
          announcedAtSeq: e.announcedAtSeq,
        }),
      ),
      ...[...this.messages.values()]
        .sort((a, b) => a.seq - b.seq)
        .map((m): WriterRecord => {
          const unposted = this.unposted.find((u) => u.seq === m.seq);
          if (unposted) return unposted;
          const { blockId, ...facts } = m;
          return { t: 'message', ...facts, blockId: blockId! };
        }),
      ...this.closedPeriods.map((p): WriterRecord => ({ t: 'period', ...p })),
    ];
  }
}
