import { describe, expect, it } from 'vitest';
import { NotCancellableError } from './errors.js';
import { PaymentsStore } from './payments-store.js';
import { storeDir as dir, paymentRequest as request, txId } from './testing/payments.js';

const sign = (store: PaymentsStore, n: number, keys: string[], inputs = [`0xin${n}`]) =>
  store.recordSigned({
    txId: txId(n),
    kind: 'payments',
    keys,
    outputIndexes: keys.map((_, i) => i),
    inputs,
    payloadJson: '{}',
  });

describe('PaymentsStore outcomes', () => {
  it('cancels a waiting payment once, answers the same again, and survives a reopen', async () => {
    const d = await dir();
    const store = await PaymentsStore.open(d);
    await store.request(request('a'), { micro: false });
    await store.request(request('b'), { micro: false });
    expect((await store.cancel('a'))?.state).toBe('cancelled');
    expect((await store.cancel('a'))?.state).toBe('cancelled');
    expect(await store.cancel('nope')).toBeUndefined();
    expect(store.awaitingTransaction().map((p) => p.idempotencyKey)).toEqual(['b']);
    await store.close();
    const reopened = await PaymentsStore.open(d);
    expect(reopened.get('a')?.state).toBe('cancelled');
    expect(reopened.awaitingTransaction().map((p) => p.idempotencyKey)).toEqual(['b']);
  });

  it('refuses to cancel a signed, an included or a failed payment, with a one-line reason', async () => {
    const store = await PaymentsStore.open(await dir());
    for (const k of ['s', 'i', 'f']) await store.request(request(k), { micro: false });
    await sign(store, 1, ['s']);
    await sign(store, 2, ['i']);
    await store.recordIncluded(txId(2), txId(102), 7, 1_800_000_000);
    await store.recordFailed(['f'], 'to: not an address of this network');
    for (const k of ['s', 'i', 'f']) {
      const error = await store.cancel(k).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotCancellableError);
      expect((error as Error).message).not.toContain('\n');
    }
    expect(store.get('s')?.state).toBe('queued');
    expect(store.get('i')?.state).toBe('included');
    expect(store.get('f')).toMatchObject({ state: 'failed', error: 'to: not an address of this network' });
  });

  it('a key held for signing cannot be cancelled, and a key being cancelled cannot be held', async () => {
    const store = await PaymentsStore.open(await dir());
    await store.request(request('a'), { micro: false });
    await store.request(request('b'), { micro: false });
    expect(store.hold(['a'])).toBe(true);
    await expect(store.cancel('a')).rejects.toBeInstanceOf(NotCancellableError);
    expect(store.awaitingTransaction().map((p) => p.idempotencyKey)).toEqual(['b']);
    store.release(['a']);
    const cancelling = store.cancel('b');
    expect(store.hold(['b'])).toBe(false);
    await cancelling;
    expect(store.hold(['b'])).toBe(false);
    expect(store.hold(['a'])).toBe(true);
  });

  it('records payments the winning transaction paid as included by it; only the rest wait again', async () => {
    const store = await PaymentsStore.open(await dir());
    for (const k of ['a', 'b', 'c']) await store.request(request(k), { micro: false });
    await sign(store, 1, ['a', 'b', 'c']);
    await store.recordIncludedElsewhere(
      { txId: txId(9), blockId: txId(109), milestoneIndex: 12, milestoneTimestamp: 1_800_000_000 },
      [
        { key: 'a', outputId: `${txId(9)}0300` },
        { key: 'c', outputId: `${txId(9)}0000` },
      ],
    );
    await store.recordConflicting(txId(1), `input 0xin1 was spent by transaction ${txId(9)}`);
    expect(store.get('a')).toMatchObject({
      state: 'included',
      transactionId: txId(9),
      outputId: `${txId(9)}0300`,
      milestoneIndex: 12,
    });
    expect(store.get('c')?.state).toBe('included');
    expect(store.get('b')?.state).toBe('conflicting');
    expect(store.awaitingTransaction().map((p) => p.idempotencyKey)).toEqual(['b']);
  });

  it('a transaction the ledger refuses gets one more from fresh inputs; a second refusal fails it', async () => {
    const store = await PaymentsStore.open(await dir());
    await store.request(request('a'), { micro: false });
    await sign(store, 1, ['a']);
    await store.recordConflicting(txId(1), 'an unlock signature is invalid (conflict reason 5)', {
      rejected: true,
    });
    expect(store.get('a')?.state).toBe('conflicting');
    expect(store.awaitingTransaction()).toHaveLength(1);
    await sign(store, 2, ['a']);
    await store.recordConflicting(txId(2), 'an unlock signature is invalid (conflict reason 5)', {
      rejected: true,
    });
    expect(store.get('a')).toMatchObject({
      state: 'failed',
      error: 'the ledger refused its transaction twice: an unlock signature is invalid (conflict reason 5)',
    });
    expect(store.awaitingTransaction()).toEqual([]);
  });
});
