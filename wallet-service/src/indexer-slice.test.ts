import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bech32ToHex, IndexerApi, NodeApi } from '@tanglewatt/ledger';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { IndexerSlice } from './indexer-slice.js';
import { IndexerStream } from './indexer-stream.js';
import { TEST_ADDRESS } from './testing/api.js';
import { FakeIndexer, type FakeOutput } from './testing/fake-indexer.js';
import { WalletLedger } from './wallet-ledger.js';

const OURS = bech32ToHex(TEST_ADDRESS).toLowerCase();
const OTHER = 'watt1qrrr9x4cs9vtwpd7m5etek37jw42tzvyy8nhmkyhpev0mfax937lzxyw3q';
const log = pino({ level: 'silent' });
let n = 0;
const ours = (amount: bigint): Omit<FakeOutput, 'booked'> => ({
  outputId: `0x${String(++n).padStart(64, '0')}0000`,
  amount,
  ownerHex: OURS,
  address: TEST_ADDRESS,
});

async function until(what: string, ok: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

/** A wallet ledger view on the fake indexer's slice of TEST_ADDRESS, following it. */
async function openView(fake: FakeIndexer, dataDir: string, silenceMs?: number) {
  const indexer = new IndexerApi(fake.url, { timeoutMs: 1_000 });
  const stream = new IndexerStream({
    indexer,
    filter: { address: TEST_ADDRESS },
    log,
    minBackoffMs: 20,
    maxBackoffMs: 100,
    ...(silenceMs ? { silenceMs } : {}),
  });
  const ledger = await WalletLedger.open({
    dataDir,
    // The node is never asked: port 9 refuses.
    api: new NodeApi('http://127.0.0.1:9', { timeoutMs: 200 }),
    addressHex: OURS,
    initialOutputs: [],
    log,
    source: (concernsUs) => new IndexerSlice({ indexer, stream, address: TEST_ADDRESS, concernsUs }),
  });
  /** How often the observers were given each created output: what received payments would record. */
  const observed = new Map<string, number>();
  ledger.onMilestoneRead(async (changes) => {
    for (const o of changes.created) observed.set(o.outputId, (observed.get(o.outputId) ?? 0) + 1);
  });
  stream.start();
  ledger.follow(20);
  const view = {
    ledger,
    stream,
    observed,
    unspent: () => new Set(ledger.all().map((o) => o.outputId)),
    stop: async () => {
      await stream.stop();
      await ledger.stop();
    },
  };
  running.push(view);
  return view;
}

describe("the wallet's ledger view from the community indexer", () => {
  it('starts from the address’s unspent outputs, read page by page over REST', async () => {
    const fake = new FakeIndexer();
    await fake.start();
    running.push({ stop: () => fake.kill() });
    const [a, b, c, d] = [ours(100n), ours(200n), ours(300n), ours(400n)];
    fake.commit({ created: [a!, b!, { ...ours(9n), ownerHex: `0x${'cd'.repeat(32)}`, address: OTHER }] });
    fake.commit({ created: [c!, d!] });
    fake.commit({ spent: [b!.outputId] });
    const view = await openView(fake, await mkdtemp(join(tmpdir(), 'slice-')));
    expect(view.unspent()).toEqual(new Set([a!.outputId, c!.outputId, d!.outputId]));
    expect(view.ledger.balance(0, new Set()).availableUnits).toBe(800n);
    await until('caught up', () => view.ledger.caughtUp);
    expect(view.ledger.ledgerIndex).toBe(3);
  });

  it('follows the stream milestone by milestone: outputs created and spent, each given to its observers once', async () => {
    const fake = new FakeIndexer();
    await fake.start();
    running.push({ stop: () => fake.kill() });
    const view = await openView(fake, await mkdtemp(join(tmpdir(), 'slice-')));
    await until('caught up and streaming', () => view.ledger.caughtUp && fake.streams === 1);
    const first = ours(1_000n);
    const index = fake.commit({ created: [first] });
    await until('the created output', () => view.unspent().has(first.outputId));
    expect(view.ledger.ledgerIndex).toBe(index);
    const change = ours(600n);
    fake.commit({ created: [change], spent: [first.outputId] });
    await until('the spend', () => !view.unspent().has(first.outputId));
    expect(view.unspent()).toEqual(new Set([change.outputId]));
    expect([...view.observed.values()]).toEqual([1, 1]);
  });

  it('reconnects after `event: error` and catches up over REST from the last milestone seen, missing and repeating nothing', async () => {
    const fake = new FakeIndexer();
    await fake.start();
    running.push({ stop: () => fake.kill() });
    const kept = ours(50n);
    fake.commit({ created: [kept] });
    const view = await openView(fake, await mkdtemp(join(tmpdir(), 'slice-')));
    await until('streaming', () => view.ledger.caughtUp && fake.streams === 1);
    const toSpend = ours(70n);
    fake.commit({ created: [toSpend] });
    await until('streamed', () => view.unspent().has(toSpend.outputId));
    // The reader fell behind: dropped, and these milestones are indexed before it is back.
    fake.dropReaders();
    const whileAway = ours(80n);
    fake.commit({ created: [whileAway] });
    fake.commit({ spent: [toSpend.outputId] });
    const afterwards = ours(90n);
    await until('reconnected', () => fake.streams === 1 && view.stream.connections === 2);
    await until('caught up', () => view.ledger.ledgerIndex === fake.indexed);
    fake.commit({ created: [afterwards] });
    await until('streaming again', () => view.unspent().has(afterwards.outputId));
    expect(view.unspent()).toEqual(new Set([kept.outputId, whileAway.outputId, afterwards.outputId]));
    for (const id of [kept.outputId, toSpend.outputId, whileAway.outputId, afterwards.outputId])
      expect(view.observed.get(id) ?? 0, id).toBeLessThanOrEqual(1);
    expect(view.observed.get(whileAway.outputId)).toBe(1);
  });

  it('outlives a killed indexer: keeps its view and its loop, and catches up once the indexer is back', async () => {
    const fake = new FakeIndexer();
    await fake.start();
    const view = await openView(fake, await mkdtemp(join(tmpdir(), 'slice-')));
    running.push({ stop: () => fake.kill() });
    const before = ours(10n);
    fake.commit({ created: [before] });
    await until('streamed', () => view.unspent().has(before.outputId));
    await fake.kill();
    // The indexer is down while the ledger moves on (it reads those milestones from its node on restart).
    const during = ours(20n);
    fake.commit({ created: [during], spent: [before.outputId] });
    await new Promise((r) => setTimeout(r, 300));
    expect(view.unspent()).toEqual(new Set([before.outputId]));
    await fake.start();
    await until('caught up after the restart', () => view.ledger.ledgerIndex === fake.indexed);
    expect(view.unspent()).toEqual(new Set([during.outputId]));
    const after = ours(30n);
    fake.commit({ created: [after] });
    await until('streaming after the restart', () => view.unspent().has(after.outputId));
  });

  it('takes a stream silent for too long as dead: reconnects and catches up', async () => {
    const fake = new FakeIndexer();
    await fake.start();
    running.push({ stop: () => fake.kill() });
    const view = await openView(fake, await mkdtemp(join(tmpdir(), 'slice-')), 300);
    await until('streaming', () => view.ledger.caughtUp && fake.streams === 1);
    fake.silent = true;
    const unheard = ours(40n);
    fake.commit({ created: [unheard] });
    fake.silent = false;
    await until('read after the silence', () => view.unspent().has(unheard.outputId));
    expect(view.stream.connections).toBe(2);
  });

  it('waits for an indexer that is not up yet instead of failing to start', async () => {
    const fake = new FakeIndexer();
    await fake.start();
    const a = ours(77n);
    fake.commit({ created: [a] });
    await fake.kill();
    const opening = openView(fake, await mkdtemp(join(tmpdir(), 'slice-')));
    await new Promise((r) => setTimeout(r, 400));
    await fake.start();
    running.push({ stop: () => fake.kill() });
    const view = await opening;
    expect(view.unspent()).toEqual(new Set([a.outputId]));
  });

  it('continues from its journaled checkpoint after a restart of the wallet', async () => {
    const fake = new FakeIndexer();
    await fake.start();
    running.push({ stop: () => fake.kill() });
    const dataDir = await mkdtemp(join(tmpdir(), 'slice-'));
    const first = await openView(fake, dataDir);
    const a = ours(5n);
    fake.commit({ created: [a] });
    await until('streamed', () => first.unspent().has(a.outputId));
    await first.stop();
    running.splice(running.indexOf(first), 1);
    const b = ours(6n);
    fake.commit({ created: [b], spent: [a.outputId] });
    const second = await openView(fake, dataDir);
    // What the first run journaled is there before anything is read.
    expect(second.unspent()).toEqual(new Set([a.outputId]));
    await until('caught up', () => second.ledger.ledgerIndex === fake.indexed);
    expect(second.unspent()).toEqual(new Set([b.outputId]));
  });
});
