import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeFiles, Journal } from '@tanglewatt/journal';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { compactPaymentEvents, POSTED_KEPT } from './payments-compaction.js';
import { PaymentsStore } from './payments-store.js';
import { paymentRequest, storeDir, txId } from './testing/payments.js';

const dir = () => storeDir('payments-compaction-');
const blockId = (n: number) => `0x${(1_000_000 + n).toString(16).padStart(64, '0')}`;
const request = (key: string) => paymentRequest(key, '5000', { metadata: { periodId: key } });
const payload = (n: number) => JSON.stringify({ essence: 'x'.repeat(2_000), n });

let clock = Date.parse('2026-01-01T00:00:00Z');
/** Each event a second after the last: the store orders blocks by time. */
function tick(): void {
  clock += 1000;
  vi.setSystemTime(clock);
}
beforeEach(() => vi.useFakeTimers({ toFake: ['Date'] }));
afterEach(() => vi.useRealTimers());

/** Everything the store shows: payments, every transaction, blocks, open and awaiting work. */
function observable(store: PaymentsStore, keys: string[], txIds: string[]) {
  return {
    list: store.list({ limit: 10_000 }),
    get: keys.map((k) => store.get(k)),
    transactions: txIds.map((t) => store.transaction(t)),
    postedBlocks: store.postedBlocks(1000),
    openTransactions: store.openTransactions(),
    includedAfter: store.includedAfter(0),
    awaitingTransaction: store.awaitingTransaction(),
  };
}

async function sign(store: PaymentsStore, n: number, keys: string[]): Promise<void> {
  tick();
  await store.recordSigned({
    txId: txId(n),
    kind: 'payments',
    keys,
    outputIndexes: keys.map((_, i) => i),
    inputs: [`0xin${n}`],
    payloadJson: payload(n),
  });
}

async function post(store: PaymentsStore, n: number, block: number): Promise<void> {
  tick();
  await store.recordPosted(txId(n), blockId(block));
}

/** A history with every kind of event: re-posts, notes, a conflict and re-signing, final and open work. */
async function history(store: PaymentsStore): Promise<{ keys: string[]; txIds: string[] }> {
  const keys = ['a', 'b', 'c', 'd', 'e'];
  for (const k of keys) {
    tick();
    await store.request(request(k), { micro: k === 'b' });
  }
  tick();
  await store.note('a', 'not enough funds: 0 of 5000');
  tick();
  await store.note('a', 'not enough funds: 100 of 5000');
  tick();
  await store.note('c', 'waiting for an output');
  await sign(store, 1, ['a', 'b']);
  for (let i = 0; i < POSTED_KEPT; i++) await post(store, 1, 10 + i);
  tick();
  await store.recordIncluded(txId(1), blockId(19), 40, 1_800_000_000);
  await sign(store, 2, ['c']);
  await post(store, 2, 20);
  await post(store, 2, 21);
  tick();
  await store.recordConflicting(txId(2), 'input 0xin2 was spent by another transaction');
  tick();
  await store.note('c', 'not enough funds: 0 of 5000');
  await sign(store, 3, ['c', 'd']);
  await post(store, 3, 30);
  await post(store, 3, 31); // open: posted, not yet included
  await sign(store, 4, ['e']); // open: signed, never posted
  return { keys, txIds: [1, 2, 3, 4].map(txId) };
}

describe('payments journal compaction', () => {
  it('replays to the same store: payments, transactions, blocks, open transactions with payloads', async () => {
    const d = await dir();
    const store = await PaymentsStore.open(d);
    const { keys, txIds } = await history(store);
    const before = observable(store, keys, txIds);
    await store.close();
    const sizeBefore = (await stat(join(d, 'payments.journal'))).size;

    const reopened = await PaymentsStore.open(d); // compacts on open
    expect(observable(reopened, keys, txIds)).toEqual(before);
    await reopened.close();
    // The two final transactions' payloads are gone; the open ones' stay.
    expect((await stat(join(d, 'payments.journal'))).size).toBeLessThan(sizeBefore - 2 * 2_000);
    expect(reopened.transaction(txId(3))?.payloadJson).toBe(payload(3));
    expect(reopened.transaction(txId(4))?.payloadJson).toBe(payload(4));

    // Compacting the compacted journal changes nothing more.
    const { records } = await Journal.read<{ t: string }>(join(d, 'payments.journal'));
    expect(compactPaymentEvents(records).changed).toBe(0);
    const text = await readFile(join(d, 'payments.journal'), 'utf8');
    const inJournal = (n: number) => JSON.stringify(payload(n)).slice(1, -1);
    expect(text).not.toContain(inJournal(1));
    expect(text).not.toContain(inJournal(2));
    expect(text).toContain(inJournal(3));
    expect(text.match(/"t":"note"/g)).toHaveLength(2); // the last note of 'a' and of 'c'
  });

  it('keeps the first and the last blocks of a final transaction posted many times', async () => {
    const d = await dir();
    const store = await PaymentsStore.open(d);
    tick();
    await store.request(request('a'), { micro: false });
    await sign(store, 1, ['a']);
    for (let i = 0; i < 25; i++) await post(store, 1, i);
    tick();
    await store.recordIncluded(txId(1), blockId(24), 40, 1_800_000_000);
    const payment = store.get('a');
    await store.close();
    const reopened = await PaymentsStore.open(d);
    expect(reopened.get('a')).toEqual(payment);
    expect(reopened.transaction(txId(1))?.blockIds).toEqual(
      [0, ...Array.from({ length: POSTED_KEPT - 1 }, (_, i) => 25 - POSTED_KEPT + 1 + i)].map(blockId),
    );
    await reopened.close();
  });

  it('compacts again once the journal grew by the threshold, keeping what is appended meanwhile', async () => {
    const d = await dir();
    const store = await PaymentsStore.open(d, { compactAfterBytes: 5_000 });
    const { keys, txIds } = await history(store);
    const before = observable(store, keys, txIds);
    await store.close(); // waits for a compaction still running
    // Read as the running store left it, before a reopen would compact it again.
    const { records } = await Journal.read<{ t: string; txId?: string; payloadJson?: string }>(
      join(d, 'payments.journal'),
    );
    const signed = records.filter((e) => e.t === 'signed');
    expect(signed.find((e) => e.txId === txId(1))?.payloadJson).toBe('');
    expect(signed.find((e) => e.txId === txId(2))?.payloadJson).toBe('');
    expect(records.filter((e) => e.t === 'note').length).toBeLessThan(4);
    const reopened = await PaymentsStore.open(d);
    expect(observable(reopened, keys, txIds)).toEqual(before);
    await reopened.close();
  });

  it('keeps events of unknown types, and whole the transactions they name', () => {
    const events = [
      { t: 'requested', key: 'a' },
      { t: 'signed', txId: 't1', payloadJson: 'p1' },
      { t: 'posted', txId: 't1', blockId: 'b1' },
      { t: 'failed', key: 'a', reason: 'expired' },
      { t: 'signed', txId: 't2', payloadJson: 'p2' },
      { t: 'retried', txId: 't2' },
      ...Array.from({ length: 12 }, (_, i) => ({ t: 'posted', txId: 't2', blockId: `b${i}` })),
      { t: 'included', txId: 't2' },
      { t: 'conflicting', txId: 't1' },
    ];
    const { events: compacted } = compactPaymentEvents(events);
    expect(compacted).toContainEqual({ t: 'failed', key: 'a', reason: 'expired' });
    expect(compacted).toContainEqual({ t: 'retried', txId: 't2' });
    expect(compacted.filter((e) => e.txId === 't2')).toEqual(events.filter((e) => e.txId === 't2'));
    expect(compacted).toContainEqual({ t: 'signed', txId: 't1', payloadJson: '' });
  });

  it('a compaction that fails on a full disk leaves the journal as it was, and the store working', async () => {
    const files = new FakeFiles();
    const store = await PaymentsStore.open('/data', { files, compactAfterBytes: 1 });
    tick();
    await store.request(request('a'), { micro: false });
    files.inject({ op: 'write', error: 'ENOSPC', path: '.rewrite' });
    await sign(store, 1, ['a']); // triggers a compaction, which fails
    await post(store, 1, 1);
    await store.close();
    expect(files.pendingFaults).toEqual([]);
    files.crash();
    const reopened = await PaymentsStore.open('/data', { files });
    expect(reopened.get('a')).toMatchObject({ state: 'submitted', blockId: blockId(1) });
    expect(reopened.transaction(txId(1))?.payloadJson).toBe(payload(1));
    await reopened.close();
  });
});
