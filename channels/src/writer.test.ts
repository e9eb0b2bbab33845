import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ed25519PublicKey, x25519PublicKey } from './crypto.js';
import { ChannelError } from './errors.js';
import { JournalWriterStore, openChannelWriter } from './journal-store.js';
import { merkleRootHex } from './merkle.js';
import { verifyEntries } from './reader.js';
import { staticSigners } from './signers.js';
import type { SourceEntry } from './sources.js';
import { deterministicRandom, fakePoster, memoryWriter, simulatedSamples, summaryOf } from './testing.js';
import {
  ChannelWriter,
  type ChannelWriterOptions,
  MemoryWriterStore,
  type PostMessage,
  type WriterRecord,
} from './writer.js';

const T0 = 1_795_500_000_000;
const keys = deterministicRandom('writer.test keys');
const meterKey = keys(32);
const readerKey = keys(32);
const signers = staticSigners([ed25519PublicKey(meterKey)]);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tanglewatt-channels-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The meter's channel writer on the journal at `journalFile`, as a process (re)starting opens it. */
const meterWriter = (
  journalFile: string,
  mode: 'public' | 'restricted',
  post: PostMessage,
  options: Partial<ChannelWriterOptions> = {},
) => openChannelWriter({ journalFile, signingKey: meterKey, mode, post, ...options });

function entriesOf(
  poster: ReturnType<typeof fakePoster>,
  index: { seq: number; blockId: string }[],
): SourceEntry[] {
  return index.map(({ seq, blockId }) => ({ seq, blockId, ...poster.blocks.get(blockId)! }));
}

describe('ChannelWriter state in a journal', () => {
  it('continues the chain after a restart: next seq, prev hash and block index survive', async () => {
    const poster = fakePoster();
    const journalFile = join(dir, 'meter', 'channel.journal');
    const first = await meterWriter(journalFile, 'public', poster.post);
    first.addSamples(simulatedSamples(5, T0));
    await first.flush();
    first.addSamples(simulatedSamples(5, T0 + 5000));
    await first.stop();
    expect((await stat(journalFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'meter'))).mode & 0o777).toBe(0o700);

    const second = await meterWriter(journalFile, 'public', poster.post);
    expect(second.channelId).toBe(first.channelId);
    expect(second.nextSeq).toBe(2);
    expect(second.blockIndex()).toEqual(first.blockIndex());
    second.addSamples(simulatedSamples(5, T0 + 10_000));
    await second.flush();
    await second.stop();

    const result = verifyEntries(entriesOf(poster, second.blockIndex()), {
      channelId: second.channelId,
      signers,
    });
    expect(result.failures).toEqual([]);
    expect(result.messages.map((m) => m.seq)).toEqual([0, 1, 2]);
    expect(result.messages[2]!.prevBlockId).toBe(second.blockIndex()[1]!.blockId);
  });

  it('re-posts the very same bytes after a failed post, and never reuses a sequence number', async () => {
    const poster = fakePoster();
    let failNext = true;
    const flaky = async (tag: string, bytes: Uint8Array) => {
      if (failNext) {
        failNext = false;
        throw new Error('node unreachable');
      }
      return poster.post(tag, bytes);
    };
    const journalFile = join(dir, 'channel.journal');
    const writer = await meterWriter(journalFile, 'public', flaky);
    writer.addSamples(simulatedSamples(3, T0));
    await expect(writer.flush()).rejects.toThrow('node unreachable');
    expect(writer.nextSeq).toBe(1); // sealed and journaled, not posted
    const sealed = (await readFile(journalFile, 'utf8')).includes('"t":"sealed"');
    expect(sealed).toBe(true);

    // The process dies here; a new one opens the journal.
    const restarted = await meterWriter(journalFile, 'public', poster.post);
    expect(restarted.nextSeq).toBe(1);
    restarted.addSamples(simulatedSamples(3, T0 + 3000));
    const posted = await restarted.flush();
    expect(posted.map((p) => p.seq)).toEqual([0, 1]);
    expect(posted[0]!.hash).toBe(restarted.message(0)!.hash);
    await restarted.stop();
    const result = verifyEntries(entriesOf(poster, restarted.blockIndex()), {
      channelId: restarted.channelId,
      signers,
    });
    expect(result.ok).toBe(true);
  });

  it('after a crash between posting and journaling the block id, posts the same message again', async () => {
    const poster = fakePoster();
    const store = new MemoryWriterStore();
    let dieAfterPost = true;
    const post = async (tag: string, bytes: Uint8Array) => {
      const id = await poster.post(tag, bytes);
      if (dieAfterPost) {
        dieAfterPost = false;
        throw new Error('killed');
      }
      return id;
    };
    const writer = await ChannelWriter.open({ store, signingKey: meterKey, mode: 'public', post });
    writer.addSamples(simulatedSamples(3, T0));
    await expect(writer.flush()).rejects.toThrow('killed');
    const again = await ChannelWriter.open({
      store,
      signingKey: meterKey,
      mode: 'public',
      post: poster.post,
    });
    await again.flush();
    const [a, b] = poster.order.map((id) => poster.blocks.get(id)!.bytes);
    expect(a).toEqual(b); // two blocks, one message: a reader of the index sees it once
    expect(again.blockIndex()).toEqual([{ seq: 0, blockId: poster.order[1] }]);
  });

  it('refuses a different key or mode for an existing channel', async () => {
    const store = new MemoryWriterStore();
    await ChannelWriter.open({ store, signingKey: meterKey, mode: 'public', post: fakePoster().post });
    await expect(
      ChannelWriter.open({ store, signingKey: keys(32), mode: 'public', post: fakePoster().post }),
    ).rejects.toMatchObject({ code: 'KEY_MISMATCH' });
    await expect(
      ChannelWriter.open({
        store,
        signingKey: meterKey,
        mode: 'restricted',
        readers: [x25519PublicKey(readerKey)],
        post: fakePoster().post,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });

  it('compacts the journal and still continues from it', async () => {
    const poster = fakePoster();
    const journalFile = join(dir, 'channel.journal');
    const writer = await meterWriter(journalFile, 'restricted', poster.post, {
      readers: [x25519PublicKey(readerKey)],
      compactAfterRecords: 12,
    });
    for (let i = 0; i < 10; i++) {
      writer.addSamples(simulatedSamples(60, T0 + i * 60_000, 1000, `c${i}`));
      await writer.flush();
    }
    await writer.stop();
    const text = await readFile(journalFile, 'utf8');
    expect(text).toContain('"t":"message"');
    expect((await stat(journalFile)).mode & 0o777).toBe(0o600);
    const reopened = await meterWriter(journalFile, 'restricted', poster.post);
    expect(reopened.nextSeq).toBe(11);
    reopened.addSamples(simulatedSamples(5, T0 + 11 * 60_000));
    await reopened.flush();
    await reopened.stop();
    const result = verifyEntries(entriesOf(poster, reopened.blockIndex()), {
      channelId: reopened.channelId,
      signers,
      readerSecretKey: readerKey,
    });
    expect(result.failures).toEqual([]);
    expect(result.messages).toHaveLength(12);
  });
});

describe('ChannelWriter messages', () => {
  it('splits a large batch so every message fits, keeping every reading in order', async () => {
    const { writer, poster } = await memoryWriter(meterKey, 'restricted', {
      readers: [x25519PublicKey(readerKey)],
      maxMessageBytes: 1024,
    });
    const samples = simulatedSamples(3000, T0);
    writer.addSamples(samples);
    const posted = await writer.flush();
    expect(posted.length).toBeGreaterThan(5);
    for (const p of posted) expect(p.wireBytes).toBeLessThanOrEqual(1024);
    const result = verifyEntries(entriesOf(poster, writer.blockIndex()), {
      channelId: writer.channelId,
      signers,
      readerSecretKey: readerKey,
    });
    expect(result.ok).toBe(true);
    expect(result.messages.flatMap((m) => m.samples)).toEqual(samples);
  });

  it('closes a period with the Merkle root of its messages; a restricted period opens on its own', async () => {
    const { writer, poster } = await memoryWriter(meterKey, 'restricted', {
      readers: [x25519PublicKey(readerKey)],
    });
    const hour = 3_600_000;
    const samples = simulatedSamples(400, T0, 30_000);
    const inFirst = samples.filter((s) => s.timestampMs < T0 + hour);
    writer.addSamples(samples);
    const first = await writer.closePeriod(summaryOf('p1', inFirst, T0, T0 + hour));
    expect(writer.pendingSamples).toBe(samples.length - inFirst.length);
    writer.addSamples([]);
    await writer.flush();
    const second = await writer.closePeriod(
      summaryOf('p2', samples.slice(inFirst.length), T0 + hour, T0 + 5 * hour),
    );
    expect(first).toMatchObject({ periodId: 'p1', fromSeq: 0, toSeq: 1 });
    expect(second.fromSeq).toBe(2); // the new period starts with its epoch announcement

    const all = verifyEntries(entriesOf(poster, writer.blockIndex()), {
      channelId: writer.channelId,
      signers,
      readerSecretKey: readerKey,
    });
    expect(all.ok).toBe(true);
    const hashes = (from: number, to: number) =>
      all.messages.filter((m) => m.seq >= from && m.seq <= to).map((m) => m.hash);
    expect(first.root).toBe(merkleRootHex(hashes(0, 1)));
    expect(second.root).toBe(merkleRootHex(hashes(second.fromSeq, second.toSeq)));
    expect(all.messages[second.fromSeq]!.kind).toBe('epoch');
    expect(all.messages.flatMap((m) => m.summaries).map((s) => s.periodId)).toEqual(['p1', 'p2']);

    // Period 2 alone, with only the reader's key: its own announcement gives the epoch key.
    const alone = verifyEntries(
      entriesOf(poster, writer.blockIndex(second.fromSeq, second.toSeq)).map(({ seq: _s, ...e }) => e),
      { channelId: writer.channelId, signers, readerSecretKey: readerKey, startAnywhere: true },
    );
    expect(alone.ok).toBe(true);
    expect(merkleRootHex(alone.messages.map((m) => m.hash))).toBe(second.root);
  });

  it('refuses readings out of order and periods that end before sealed data', async () => {
    const { writer } = await memoryWriter(meterKey, 'public');
    writer.addSamples(simulatedSamples(3, T0));
    expect(() => writer.addSample(simulatedSamples(1, T0)[0]!)).toThrow(ChannelError);
    await writer.flush();
    await expect(
      writer.closePeriod({ periodId: 'x', startMs: 0, endMs: T0, energyMWs: 0n, sampleCount: 0 }),
    ).rejects.toMatchObject({
      code: 'INVALID_SUMMARY',
    });
    await writer.closePeriod({
      periodId: 'x',
      startMs: T0,
      endMs: T0 + 10_000,
      energyMWs: 1n,
      sampleCount: 3,
    });
    await expect(
      writer.closePeriod({ periodId: 'x', startMs: T0, endMs: T0 + 20_000, energyMWs: 1n, sampleCount: 3 }),
    ).rejects.toThrow(/already closed/);
  });

  it('posts a message every batchSeconds on its schedule', async () => {
    const { writer, poster } = await memoryWriter(meterKey, 'public', { batchSeconds: 0.05 });
    writer.start();
    for (let i = 0; i < 4; i++) {
      writer.addSamples(simulatedSamples(2, T0 + i * 2000, 1000, `s${i}`));
      await new Promise((r) => setTimeout(r, 80));
    }
    await writer.stop();
    expect(poster.order.length).toBeGreaterThanOrEqual(3);
    expect(writer.pendingSamples).toBe(0);
    expect(() => writer.addSample(simulatedSamples(1, T0 + 60_000)[0]!)).toThrow(/stopped/);
  });

  it('starts a new epoch when reopened with another reader set, and after a torn epoch record', async () => {
    const poster = fakePoster();
    const store = new MemoryWriterStore();
    const a = x25519PublicKey(readerKey);
    const b = x25519PublicKey(keys(32));
    const writer = await ChannelWriter.open({
      store,
      signingKey: meterKey,
      mode: 'restricted',
      readers: [a],
      post: poster.post,
    });
    writer.addSamples(simulatedSamples(2, T0));
    await writer.flush();
    const changed = await ChannelWriter.open({
      store,
      signingKey: meterKey,
      mode: 'restricted',
      readers: [a, b],
      post: poster.post,
    });
    const posted = await changed.flush();
    expect(posted.map((p) => [p.kind, p.epoch])).toEqual([['epoch', 2]]);

    // A crash between journaling an epoch and its announcement leaves only the epoch record.
    const records = store.records;
    const lastSealed = records.findLastIndex((r: WriterRecord) => r.t === 'sealed');
    store.records = records.slice(0, lastSealed);
    const torn = await ChannelWriter.open({
      store,
      signingKey: meterKey,
      mode: 'restricted',
      post: poster.post,
    });
    expect(torn.epochKeys().map(([e]) => e)).toEqual([1]);
    const again = await torn.flush();
    expect(again.map((p) => [p.kind, p.epoch, p.seq])).toEqual([['epoch', 2, 2]]);
    expect(torn.epochKeys().map(([e]) => e)).toEqual([1, 2]);
  });

  it('JournalWriterStore hands its records to one writer only', async () => {
    const store = await JournalWriterStore.open(join(dir, 'j'));
    await store.append([{ t: 'posted', seq: 0, blockId: '0x00' }]);
    await store.close();
    const reopened = await JournalWriterStore.open(join(dir, 'j'));
    expect(await reopened.load()).toHaveLength(1);
    expect(await reopened.load()).toHaveLength(0);
    await reopened.close();
  });
});
