import {
  ChannelWriter,
  channelIdHex,
  ed25519PublicKey,
  MemoryWriterStore,
  newEd25519SecretKey,
  newX25519SecretKey,
  x25519PublicKey,
} from '@tanglewatt/channels';
import { paymentMetadata } from '@tanglewatt/contract';
import { describe, expect, it } from 'vitest';
import { blockRefsOf } from './channel.js';
import { ManualClock } from './clock.js';
import { channelOfPayment, paymentRequestFor } from './period-record.js';
import type { PeriodRecord } from './store/state.js';
import { FakeNode, openNodeChannel, periodSummary } from './testing/node-channel.js';

const T0 = Date.UTC(2024, 5, 1, 12, 0, 0);
const READER = x25519PublicKey(newX25519SecretKey());
const DID = { id: `did:iota:tst:0x${'12'.repeat(32)}`, originOutputId: `0x${'34'.repeat(34)}` };

const sample = (i: number) => ({
  timestampMs: T0 + i * 1000,
  busVoltageMV: 12_000,
  currentMA: 500,
  powerMW: 6000,
});
const summary = periodSummary;

async function writerWithTwoPeriods(node: FakeNode, key = newEd25519SecretKey()) {
  const writer = await ChannelWriter.open({
    store: new MemoryWriterStore(),
    signingKey: key,
    mode: 'restricted',
    readers: [READER],
    post: node.post,
    maxMessageBytes: 1024,
  });
  for (const n of [1, 2]) {
    for (let i = (n - 1) * 10; i < n * 10; i++) writer.addSample(sample(i));
    await writer.flush(); // a batch mid-period: the period has several data messages
    await writer.closePeriod(summary(n));
  }
  return { writer, key };
}

describe("a period's block references (what its payment names)", () => {
  it('names the last block, the signing key and the announcement of the epoch that seals the period', async () => {
    const node = new FakeNode();
    const { writer, key } = await writerWithTwoPeriods(node);
    const [, p2] = writer.periods();
    // Each period starts with the announcement of its own epoch (a fresh key per period).
    expect(writer.message(p2!.fromSeq)).toMatchObject({ kind: 'epoch', epoch: 2 });
    const refs = blockRefsOf(writer, p2!.fromSeq, p2!.toSeq, DID);
    expect(refs).toEqual({
      lastBlockId: writer.message(p2!.toSeq)!.blockId,
      publicKey: Buffer.from(ed25519PublicKey(key)).toString('hex'),
      epochs: { '2': writer.message(p2!.fromSeq)!.blockId },
      did: DID.id,
      didOrigin: DID.originOutputId,
    });
  });

  it('finds an earlier announcement when the period starts inside an epoch', async () => {
    const node = new FakeNode();
    const { writer } = await writerWithTwoPeriods(node);
    const [p1] = writer.periods();
    // The period's second message onwards: sealed under epoch 1, announced at seq 0 (before the range).
    const refs = blockRefsOf(writer, p1!.fromSeq + 1, p1!.toSeq);
    expect(refs?.epochs).toEqual({ '1': writer.message(0)!.blockId });
    expect(refs).not.toHaveProperty('did');
  });

  it('has none while the last message is not posted', async () => {
    const node = new FakeNode();
    const { writer } = await writerWithTwoPeriods(node);
    node.up = false;
    for (let i = 20; i < 30; i++) writer.addSample(sample(i));
    await expect(writer.closePeriod(summary(3))).rejects.toThrow(/ECONNREFUSED/);
    const p3 = writer.periods().find((p) => p.periodId === 'm/p3')!;
    expect(blockRefsOf(writer, p3.fromSeq, p3.toSeq)).toBeUndefined();
  });

  it('NodeChannel reports a root only once the period is posted, with its references', async () => {
    const node = new FakeNode();
    const clock = new ManualClock(T0);
    const { channel, writer, roots } = await openNodeChannel({
      store: new MemoryWriterStore(),
      node,
      clock,
      signingKey: newEd25519SecretKey(),
      readers: [READER],
      did: DID,
    });
    const settle = async () => {
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    };
    node.up = false;
    for (let i = 0; i < 10; i++) channel.addSample(sample(i));
    channel.closePeriod(summary(1));
    await settle();
    // Sealed (its root is durable in the channel's journal) but not on the Tangle: no root for the agent.
    expect(channel.rootOf('m/p1')?.refs).toBeUndefined();
    expect(roots).toEqual([]);
    // A second close (the agent's restart replay) waits too, without closing the period twice.
    channel.closePeriod(summary(1));
    await settle();
    expect(roots).toEqual([]);
    node.up = true;
    clock.advance(5000);
    await settle();
    expect(roots).toHaveLength(1);
    expect(roots[0]!.refs).toMatchObject({
      lastBlockId: writer.message(roots[0]!.toSeq)!.blockId,
      epochs: { '1': writer.message(0)!.blockId },
      did: DID.id,
    });
    await channel.stop();
  });
});

describe("the payment's channel description", () => {
  const period = (channel: PeriodRecord['channel']): PeriodRecord =>
    ({
      id: 'house-7/2024-06-01T12:00:00.000Z',
      seq: 2,
      meterId: 'house-7',
      startMs: T0,
      endMs: T0 + 10_000,
      energyMWs: '4800000',
      price: { unitsPerWh: '4000' },
      readingsHash: 'aa'.repeat(32),
      payment: { state: 'due', key: 'house-7/2024-06-01T12:00:00.000Z', to: 'watt1qq', amount: '5333' },
      ...(channel ? { channel } : {}),
    }) as unknown as PeriodRecord;
  const channelId = channelIdHex(ed25519PublicKey(newEd25519SecretKey()));
  const refs = {
    lastBlockId: `0x${'ab'.repeat(32)}`,
    publicKey: 'cd'.repeat(32),
    epochs: { '3': `0x${'ef'.repeat(32)}` },
  };

  it('names the channel, the seq range, the last block and the epoch announcements, and the contract accepts it', () => {
    const request = paymentRequestFor(
      period({ channelId, root: 'bb'.repeat(32), fromSeq: 8, toSeq: 11, refs: { ...refs, ...DIDREFS } }),
    );
    expect(request.metadata?.readingsHash).toBe('bb'.repeat(32));
    expect(request.metadata?.channel).toEqual({
      id: channelId,
      publicKey: refs.publicKey,
      fromSeq: 8,
      toSeq: 11,
      lastBlockId: refs.lastBlockId,
      epochs: refs.epochs,
      did: DID.id,
      didOrigin: DID.originOutputId,
    });
  });

  it('leaves the field out for a period journaled before payments named their blocks, or without a channel', () => {
    expect(channelOfPayment(period({ channelId, root: 'bb'.repeat(32), fromSeq: 8, toSeq: 11 }))).toEqual({});
    expect(paymentRequestFor(period(undefined)).metadata).not.toHaveProperty('channel');
  });

  it('older descriptions still parse, and a bad channel field is named in one line', () => {
    expect(paymentMetadata.safeParse({ periodId: 'p', readingsHash: 'aa'.repeat(32) }).success).toBe(true);
    const bad = paymentMetadata.safeParse({
      channel: { id: channelId, fromSeq: 1, toSeq: 2, lastBlockId: 'not-a-block' },
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'channel.lastBlockId: a block id: 0x and 64 lowercase hex digits',
    ]);
  });
});

const DIDREFS = { did: DID.id, didOrigin: DID.originOutputId };
