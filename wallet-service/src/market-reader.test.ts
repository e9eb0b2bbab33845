import { IndexerApi } from '@tanglewatt/ledger';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { IndexerStream } from './indexer-stream.js';
import { MARKET_TAG } from './market-books.js';
import { IndexerMarketReader, type MarketReader } from './market-reader.js';
import { PAYMENT_TAG } from './settlement.js';
import { TEST_ADDRESS } from './testing/api.js';
import { FakeIndexer, type FakeTaggedBlock } from './testing/fake-indexer.js';

const log = pino({ level: 'silent' });
let n = 0;
const tagged = (tag: string): FakeTaggedBlock => {
  const blockId = `0x${String(++n).padStart(64, '0')}`;
  const hex = (t: string) => `0x${Buffer.from(t).toString('hex')}`;
  return {
    blockId,
    tag,
    block: { protocolVersion: 2, payload: { type: 5, tag: hex(tag), data: hex('{}') } },
  };
};

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function setUp() {
  const fake = new FakeIndexer();
  await fake.start();
  const indexer = new IndexerApi(fake.url, { timeoutMs: 1_000 });
  const stream = new IndexerStream({
    indexer,
    filter: { address: TEST_ADDRESS, tag: 'tanglewatt/' },
    log,
    minBackoffMs: 20,
    maxBackoffMs: 100,
  });
  const reader = new IndexerMarketReader({ indexer, stream, tags: [MARKET_TAG, PAYMENT_TAG] });
  stops.push(
    () => stream.stop(),
    () => fake.kill(),
  );
  return { fake, stream, reader };
}

/** Milestones the reader gives after `checkpoint`: index and block ids. */
async function readAll(reader: MarketReader, checkpoint: number) {
  const out: { index: number; blocks: string[] }[] = [];
  for await (const step of reader.read(checkpoint, Number.MAX_SAFE_INTEGER))
    if (step.kind === 'milestone')
      out.push({ index: step.milestone.index, blocks: step.milestone.blocks.map((b) => b.blockId) });
  return out;
}

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; !ok(); i++) {
    if (i > 500) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("the market's blocks from the community indexer", () => {
  it('reads the market and payment blocks over REST from its checkpoint, then from the stream', async () => {
    const { fake, stream, reader } = await setUp();
    const [m1, p1, channel] = [tagged(MARKET_TAG), tagged(PAYMENT_TAG), tagged('tw/ch/v1/x')];
    fake.commit({ tagged: [m1!] });
    fake.commit({ tagged: [p1!, channel!] });
    fake.commit();
    stream.start();
    expect(await readAll(reader, 0)).toEqual([
      { index: 1, blocks: [m1!.blockId] },
      { index: 2, blocks: [p1!.blockId] },
      { index: 3, blocks: [] },
    ]);
    const m2 = tagged(MARKET_TAG);
    fake.commit({ tagged: [m2] });
    const streamed: { index: number; blocks: string[] }[] = [];
    await until(() => fake.indexed === 4);
    for (let i = 0; streamed.length === 0 && i < 200; i++) {
      streamed.push(...(await readAll(reader, 3)));
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(streamed).toEqual([{ index: 4, blocks: [m2.blockId] }]);
    expect(await reader.isIncluded(m2.blockId)).toBe(false); // a tagged-data block carries no transaction
  });

  it('after `event: error` catches up over REST from its checkpoint, repeating nothing it read', async () => {
    const { fake, stream, reader } = await setUp();
    stream.start();
    const m1 = tagged(MARKET_TAG);
    fake.commit({ tagged: [m1] });
    expect(await readAll(reader, 0)).toEqual([{ index: 1, blocks: [m1.blockId] }]);
    fake.dropReaders();
    const away = tagged(MARKET_TAG);
    fake.commit({ tagged: [away] });
    await until(() => stream.connections === 2);
    expect(await readAll(reader, 1)).toEqual([{ index: 2, blocks: [away.blockId] }]);
  });
});
