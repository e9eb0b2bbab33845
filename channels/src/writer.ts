/**
 * The publisher. Collects samples, seals them into messages every `batchSeconds` (or on demand), posts each
 * through an injected `post(tag, bytes) → blockId`, and keeps its state in a durable store (a Journal in
 * production, see node.ts) so a restart continues the chain: a message is journaled *before* it is posted
 * and re-posted after a crash, so no sequence number is ever used for two different messages.
 *
 * Samples not yet sealed live in memory only; the meter-agent's own journal is their durable copy.
 */
import { equalBytes, fromBase64, fromHex, toHex } from './bytes.js';
import {
  channelIdOf,
  ed25519PublicKey,
  keyIdOf,
  publicTag,
  type RandomSource,
  secureRandom,
} from './crypto.js';
import { ChannelError } from './errors.js';
import { type ChannelMode, MAX_WIRE_BYTES, type MessageKind } from './format.js';
import {
  type ChainPosition,
  epochKey,
  type SealedMessage,
  type SigningKey,
  sealEpochAnnouncement,
  sealPublicData,
  sealRestrictedData,
} from './message.js';
import {
  assertValidSample,
  assertValidSummary,
  type DataPayload,
  MAX_READERS,
  type PeriodSummary,
  type Sample,
  timeRangeOf,
} from './payload.js';
import type { ScheduledKey } from './signers.js';
import { type Batch, splitBatch } from './writer-batches.js';
import {
  type ClosedPeriod,
  type MessageInfo,
  type SealedRecord,
  sealedRecordOf,
  WriterChain,
  type WriterRecord,
} from './writer-journal.js';
import type { ChannelWriterOptions, PostedMessage } from './writer-options.js';

export {
  type ClosedPeriod,
  MemoryWriterStore,
  type WriterRecord,
  type WriterStore,
} from './writer-journal.js';
export type { ChannelWriterOptions, PostedMessage, PostMessage } from './writer-options.js';

function sameKeys(a: Uint8Array[], b: Uint8Array[]): boolean {
  const hexes = (keys: Uint8Array[]) => keys.map(toHex).sort().join();
  return hexes(a) === hexes(b);
}

export class ChannelWriter {
  readonly mode: ChannelMode;
  private readonly channelIdBytes: Uint8Array;
  private signer: SigningKey;
  private readonly chain = new WriterChain();
  private currentEpoch = 0;
  private readers: Uint8Array[] = [];
  private rotationDue = false;
  private pending: Sample[] = [];
  private readonly queue: Batch[] = [];
  private lock: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  private recordsSinceCompaction = 0;
  private readonly batchMs: number;
  private readonly maxMessageBytes: number;
  private readonly newEpochEachPeriod: boolean;
  private readonly random: RandomSource;
  private readonly now: () => number;

  private constructor(
    private readonly options: ChannelWriterOptions,
    channelId: Uint8Array,
    mode: ChannelMode,
  ) {
    this.channelIdBytes = channelId;
    this.mode = mode;
    this.signer = { secretKey: options.signingKey, publicKey: ed25519PublicKey(options.signingKey) };
    this.batchMs = (options.batchSeconds ?? 60) * 1000;
    this.maxMessageBytes = Math.min(options.maxMessageBytes ?? 16 * 1024, MAX_WIRE_BYTES);
    this.newEpochEachPeriod = options.newEpochEachPeriod ?? true;
    this.random = options.random ?? secureRandom;
    this.now = options.now ?? Date.now;
    if (!(this.batchMs > 0)) throw new ChannelError('INVALID_OPTIONS', 'batchSeconds: must be positive');
    if (this.maxMessageBytes < 1024)
      throw new ChannelError('INVALID_OPTIONS', 'maxMessageBytes: at least 1024');
  }

  /** Opens the channel in `store`, or starts a new one there. */
  static async open(options: ChannelWriterOptions): Promise<ChannelWriter> {
    const records = await options.store.load();
    const publicKey = ed25519PublicKey(options.signingKey);
    const first = records[0];
    let writer: ChannelWriter;
    if (!first) {
      writer = new ChannelWriter(options, channelIdOf(publicKey), options.mode);
      const start: WriterRecord[] = [
        {
          t: 'channel',
          v: 1,
          channelId: toHex(writer.channelIdBytes),
          mode: options.mode,
          genesisPublicKey: toHex(publicKey),
        },
        { t: 'key', publicKey: toHex(publicKey), fromSeq: 0 },
      ];
      await options.store.append(start);
      for (const r of start) writer.chain.apply(r);
    } else {
      if (first.t !== 'channel' || first.v !== 1)
        throw new ChannelError('STATE_CORRUPT', 'the store does not start with a v1 channel record');
      if (first.mode !== options.mode)
        throw new ChannelError('INVALID_OPTIONS', `mode: the channel is ${first.mode}`);
      writer = new ChannelWriter(options, fromHex(first.channelId, 32, 'channel id'), first.mode);
      for (const r of records) writer.chain.apply(r);
      writer.recordsSinceCompaction = records.length;
    }
    writer.afterLoad(options.readers);
    return writer;
  }

  // ---- state from records ----

  private afterLoad(readers: Uint8Array[] | undefined): void {
    const current = this.chain.keySchedule.at(-1);
    if (!current || !equalBytes(current.publicKey, this.signer.publicKey))
      throw new ChannelError(
        'KEY_MISMATCH',
        `signingKey: the channel's current key has id ${current ? toHex(keyIdOf(current.publicKey)) : '?'}; ` +
          'a new key must be taken on with rotateSigningKey()',
      );
    const intended = this.chain.dropUnannouncedEpochs();
    this.currentEpoch = Math.max(0, ...this.chain.epochs.keys());
    if (this.mode === 'public') return;
    this.readers = intended ?? this.chain.epochs.get(this.currentEpoch)?.readers ?? [];
    if (readers && !sameKeys(readers, this.readers)) {
      this.readers = [...readers];
      this.rotationDue = true;
    }
    if (this.readers.length === 0)
      throw new ChannelError('INVALID_OPTIONS', 'readers: a restricted channel needs at least one reader');
    const lastPeriod = this.chain.closedPeriods.at(-1);
    if (
      this.currentEpoch === 0 ||
      intended !== undefined ||
      (this.newEpochEachPeriod && lastPeriod && lastPeriod.toSeq === this.chain.nextSeq - 1)
    )
      this.rotationDue = true;
  }

  // ---- what callers see ----

  get channelId(): string {
    return toHex(this.channelIdBytes);
  }

  /** Sequence number the next message will get. */
  get nextSeq(): number {
    return this.chain.nextSeq;
  }

  get signingPublicKey(): Uint8Array {
    return this.signer.publicKey;
  }

  /** Seq → block id of every posted message, in order. */
  blockIndex(fromSeq = 0, toSeq = Number.POSITIVE_INFINITY): { seq: number; blockId: string }[] {
    return this.chain.blockIndex(fromSeq, toSeq);
  }

  /** What the writer knows of one message (hash, tag, block id once posted). */
  message(seq: number): Readonly<MessageInfo> | undefined {
    return this.chain.messages.get(seq);
  }

  periods(): ClosedPeriod[] {
    return [...this.chain.closedPeriods];
  }

  /** Epoch keys of this channel (the owner can read its own restricted channel with them). */
  epochKeys(): [number, Uint8Array][] {
    return this.chain.epochKeys();
  }

  /** Which key signed which sequence numbers, for seqScheduleSigners. */
  signingSchedule(): ScheduledKey[] {
    return this.chain.signingSchedule();
  }

  /** Samples waiting for the next message. */
  get pendingSamples(): number {
    return this.pending.length + this.queue.reduce((n, b) => n + b.samples.length, 0);
  }

  // ---- input ----

  private assertOpen(): void {
    if (this.closed) throw new ChannelError('WRITER_CLOSED', 'the writer is stopped');
  }

  private latestTimeMs(): number {
    const queued = this.queue.at(-1)?.samples.at(-1)?.timestampMs ?? 0;
    return Math.max(this.chain.lastToMs, queued, this.pending.at(-1)?.timestampMs ?? 0);
  }

  /** Adds a reading. Readings must come in time order, none before the last sealed message ends. */
  addSample(sample: Sample): void {
    this.assertOpen();
    assertValidSample(sample);
    if (sample.timestampMs < this.latestTimeMs())
      throw new ChannelError(
        'INVALID_SAMPLE',
        `timestampMs ${sample.timestampMs} is before the latest reading or sealed message (${this.latestTimeMs()})`,
      );
    this.pending.push({ ...sample });
  }

  addSamples(samples: Iterable<Sample>): void {
    for (const s of samples) this.addSample(s);
  }

  // ---- sealing and posting ----

  /** Runs `task` after every earlier one: sealing is strictly sequential. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.lock.then(task, task);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Seals what is pending into messages now and posts them (and anything a failure left unposted). */
  flush(): Promise<PostedMessage[]> {
    return this.exclusive(async () => {
      this.assertOpen();
      if (this.pending.length) this.queue.push({ samples: this.pending.splice(0), summaries: [] });
      return this.drain();
    });
  }

  /**
   * Ends a period: samples before `summary.endMs` and the summary go out now, and the period's messages
   * (from the first after the previous period) get their Merkle root. Later samples stay for the next one.
   */
  closePeriod(summary: PeriodSummary): Promise<ClosedPeriod> {
    return this.exclusive(async () => {
      this.assertOpen();
      assertValidSummary(summary);
      if (this.chain.closedPeriods.some((p) => p.periodId === summary.periodId))
        throw new ChannelError('INVALID_SUMMARY', `period ${summary.periodId} is already closed`);
      if (summary.endMs < Math.max(this.chain.lastToMs, this.queue.at(-1)?.samples.at(-1)?.timestampMs ?? 0))
        throw new ChannelError('INVALID_SUMMARY', 'endMs: before data already queued or sealed');
      const inPeriod = this.pending.filter((s) => s.timestampMs < summary.endMs);
      this.pending = this.pending.slice(inPeriod.length);
      this.queue.push({ samples: inPeriod, summaries: [{ ...summary }], closesPeriod: summary.periodId });
      await this.drain();
      return this.chain.closedPeriods.find((p) => p.periodId === summary.periodId)!;
    });
  }

  /** Restricted mode: a new epoch readable by exactly these readers, announced now. */
  setReaders(readers: Uint8Array[]): Promise<PostedMessage[]> {
    return this.exclusive(async () => {
      this.assertOpen();
      if (this.mode !== 'restricted')
        throw new ChannelError('INVALID_OPTIONS', 'readers: only a restricted channel has readers');
      if (readers.length === 0 || readers.length > MAX_READERS)
        throw new ChannelError('INVALID_OPTIONS', `readers: 1 to ${MAX_READERS} X25519 public keys`);
      this.readers = [...readers];
      this.rotationDue = true;
      return this.drain();
    });
  }

  /**
   * Signs every message sealed from now on with `newSecretKey`. Publish the new key in the meter's DID
   * first (see rotateMeterKey in node.ts), or readers that follow the DID will refuse these messages.
   */
  rotateSigningKey(newSecretKey: Uint8Array): Promise<void> {
    return this.exclusive(async () => {
      this.assertOpen();
      const publicKey = ed25519PublicKey(newSecretKey);
      const record: WriterRecord = { t: 'key', publicKey: toHex(publicKey), fromSeq: this.chain.nextSeq };
      await this.options.store.append([record]);
      this.chain.apply(record);
      this.signer = { secretKey: newSecretKey, publicKey };
    });
  }

  /** Drops the bytes of posted messages from the store; keys, epochs, the block index and periods stay. */
  private async compactIfDue(): Promise<void> {
    const { store } = this.options;
    if (!store.rewrite || this.recordsSinceCompaction < (this.options.compactAfterRecords ?? 2000)) return;
    const records = this.chain.compactedRecords(this.channelIdBytes, this.mode);
    await store.rewrite(records);
    this.recordsSinceCompaction = records.length;
  }

  private async drain(): Promise<PostedMessage[]> {
    const posted: PostedMessage[] = [];
    for (const u of [...this.chain.unposted]) posted.push(await this.post(u));
    if (this.mode === 'restricted' && this.rotationDue) posted.push(await this.announceEpoch());
    while (this.queue.length) {
      const batch = this.queue[0]!;
      for (const part of splitBatch(batch, this.mode, this.maxMessageBytes)) {
        const closing = batch.closesPeriod !== undefined && part.summaries.length > 0;
        const sealed = await this.sealData(part, closing ? batch.closesPeriod : undefined);
        // Progress is kept in the batch, so a failed post resumes after what was sealed.
        batch.samples = batch.samples.slice(part.samples.length);
        batch.summaries = batch.summaries.slice(part.summaries.length);
        posted.push(await this.post(sealed));
      }
      this.queue.shift();
      if (this.mode === 'restricted' && this.rotationDue) posted.push(await this.announceEpoch());
    }
    return posted;
  }

  private position(fromMs: number, toMs: number): ChainPosition {
    return this.chain.positionOf(this.channelIdBytes, fromMs, toMs);
  }

  private tagFor(seq: number, kind: MessageKind, epoch: number): string {
    if (this.mode === 'public') return publicTag(this.channelIdBytes);
    return this.chain.restrictedTagFor(seq, kind, epoch);
  }

  private async sealData(payload: DataPayload, closesPeriod: string | undefined) {
    const range = timeRangeOf(payload)!;
    const position = this.position(range.fromMs, range.toMs);
    if (this.mode === 'public')
      return this.record(sealPublicData(position, payload, this.signer), closesPeriod);
    const epoch = this.chain.epochs.get(this.currentEpoch)!;
    return this.record(
      sealRestrictedData(position, payload, this.signer, epoch.key, this.random),
      closesPeriod,
    );
  }

  private async announceEpoch() {
    const number = this.currentEpoch + 1;
    const key = epochKey(number, this.random(32));
    const seq = this.chain.nextSeq;
    // At the end of the chain's time so far; a new channel starts at its first reading (or now).
    const atMs = seq === 0 ? (this.queue[0]?.samples[0]?.timestampMs ?? this.now()) : this.chain.lastToMs;
    const readers = [...this.readers];
    const epochRecord = this.chain.beginEpoch(key, readers, seq);
    const sealed = sealEpochAnnouncement(this.position(atMs, atMs), this.signer, key, readers, this.random);
    const record = await this.record(sealed, undefined, [epochRecord]).catch((error: unknown) => {
      this.chain.epochs.delete(number);
      throw error;
    });
    this.currentEpoch = number;
    this.rotationDue = false;
    return this.post(record);
  }

  /** Journals a sealed message (with the records that must land with it), then makes it the chain's head. */
  private async record(sealed: SealedMessage, closesPeriod: string | undefined, before: WriterRecord[] = []) {
    const h = sealed.header;
    const record = sealedRecordOf(sealed, this.tagFor(h.seq, h.kind, h.epoch));
    const records: WriterRecord[] = [...before, record];
    let period: ClosedPeriod | undefined;
    if (closesPeriod !== undefined) {
      period = this.chain.periodEndingWith(closesPeriod, h.seq, record.hash);
      records.push({ t: 'period', ...period });
    }
    // Durable before it is posted: after a crash these exact bytes go out again under the same seq.
    await this.options.store.append(records);
    this.recordsSinceCompaction += records.length;
    this.chain.apply(record);
    if (period) {
      this.chain.apply({ t: 'period', ...period });
      if (this.mode === 'restricted' && this.newEpochEachPeriod) this.rotationDue = true;
    }
    return record;
  }

  private async post(record: SealedRecord): Promise<PostedMessage> {
    const bytes = fromBase64(record.bytes);
    const blockId = await this.options.post(record.tag, bytes);
    const posted: WriterRecord = { t: 'posted', seq: record.seq, blockId };
    await this.options.store.append([posted]);
    this.recordsSinceCompaction++;
    this.chain.apply(posted);
    await this.compactIfDue();
    const { t: _t, bytes: _bytes, ...facts } = record;
    return { ...facts, blockId };
  }

  // ---- schedule ----

  /** Seals and posts a message every batchSeconds until stop(). */
  start(): void {
    this.assertOpen();
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.flush().catch((error: unknown) => this.options.onError?.(error));
    }, this.batchMs);
  }

  /** Stops the schedule, posts what is pending (unless `flush: false`) and closes the store. */
  async stop(options: { flush?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (options.flush ?? true) await this.flush().catch((error: unknown) => this.options.onError?.(error));
    await this.exclusive(async () => {
      this.closed = true;
      await this.options.store.close?.();
    });
  }
}
