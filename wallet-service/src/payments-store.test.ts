import { join } from 'node:path';
import { Journal } from '@tanglewatt/journal';
import { describe, expect, it } from 'vitest';
import { IdempotencyConflictError } from './errors.js';
import { PaymentsStore } from './payments-store.js';
import { storeDir as dir, paymentRequest, txId } from './testing/payments.js';

const request = (key: string, amount = '5000') =>
  paymentRequest(key, amount, { metadata: { periodId: key } });

describe('PaymentsStore', () => {
  it('answers the same key with the same payment and refuses other content under it', async () => {
    const store = await PaymentsStore.open(await dir());
    const first = await store.request(request('a'), { micro: false });
    const again = await store.request(request('a'), { micro: false });
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.payment).toEqual(first.payment);
    await expect(store.request(request('a', '6000'), { micro: false })).rejects.toBeInstanceOf(
      IdempotencyConflictError,
    );
    expect(store.list().total).toBe(1);
  });

  it('two concurrent requests with one key make one payment', async () => {
    const store = await PaymentsStore.open(await dir());
    const results = await Promise.all([
      store.request(request('k'), { micro: false }),
      store.request(request('k'), { micro: false }),
    ]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(store.list().total).toBe(1);
  });

  it('concurrent requests with one key and different bodies: the one answered 202 is the one stored and replayed', async () => {
    for (let round = 0; round < 10; round++) {
      const d = await dir();
      const store = await PaymentsStore.open(d);
      const outcomes = await Promise.allSettled([
        store.request(request('k', '5000'), { micro: false }),
        store.request(request('k', '7000'), { micro: false }),
      ]);
      const accepted = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
      expect(accepted).toHaveLength(1);
      expect(accepted[0]!.created).toBe(true);
      expect(refused).toHaveLength(1);
      expect(refused[0]).toBeInstanceOf(IdempotencyConflictError);
      const acceptedAmount = accepted[0]!.payment.amount;
      expect(store.get('k')?.amount).toBe(acceptedAmount);
      await store.close();
      const reopened = await PaymentsStore.open(d);
      expect(reopened.get('k')?.amount).toBe(acceptedAmount);
      expect(reopened.list().total).toBe(1);
      await reopened.close();
      // Only one request event ever reached the journal.
      const requested = (await Journal.read<{ t: string }>(join(d, 'payments.journal'))).records.filter(
        (e) => e.t === 'requested',
      );
      expect(requested).toHaveLength(1);
    }
  });

  it('replays a journal holding two requests for one key as the first one', async () => {
    const d = await dir();
    const { journal } = await Journal.open<Record<string, unknown>>(join(d, 'payments.journal'));
    const base = { t: 'requested', key: 'k', to: request('k').to, micro: false };
    await journal.append({ ...base, at: '2026-01-01T00:00:00.000Z', amount: '5000' });
    await journal.append({ ...base, at: '2026-01-01T00:00:00.001Z', amount: '7000' });
    await journal.close();
    const store = await PaymentsStore.open(d);
    expect(store.get('k')?.amount).toBe('5000');
    expect(store.list().total).toBe(1);
    await store.close();
  });

  it('remembers a payment another copy of the wallet made, also for a key it never saw, across a reopen', async () => {
    const d = await dir();
    const store = await PaymentsStore.open(d);
    const paidElsewhere = {
      key: 'k',
      to: request('k').to,
      amount: '5000',
      metadata: { periodId: 'k' },
      txId: txId(9),
      outputId: `${txId(9)}0000`,
      blockId: txId(90),
      milestoneIndex: 42,
      milestoneTimestamp: 1_800_000_000,
    };
    expect(await store.adopt(paidElsewhere)).toBe(true);
    await store.close();
    const reopened = await PaymentsStore.open(d);
    // The agent asks again: answered with the payment made, not paid a second time.
    const again = await reopened.request(request('k'), { micro: false });
    expect(again.created).toBe(false);
    expect(again.payment).toMatchObject({ state: 'included', transactionId: txId(9), milestoneIndex: 42 });
    expect(reopened.awaitingTransaction()).toEqual([]);
    await expect(reopened.request(request('k', '7000'), { micro: false })).rejects.toBeInstanceOf(
      IdempotencyConflictError,
    );
    // Another payee or amount under the key is not taken for ours.
    await reopened.request(request('other'), { micro: false });
    expect(await reopened.adopt({ ...paidElsewhere, key: 'other', amount: '4999' })).toBe(false);
    expect(reopened.get('other')?.state).toBe('queued');
    await reopened.close();
  });

  it('replays its journal: payments, transactions and states survive a reopen', async () => {
    const d = await dir();
    const store = await PaymentsStore.open(d);
    await store.request(request('a'), { micro: false });
    await store.request(request('b'), { micro: true, depositUnits: 5060n });
    await store.recordSigned({
      txId: txId(1),
      kind: 'payments',
      keys: ['a', 'b'],
      outputIndexes: [0, 1],
      inputs: ['0xin'],
      payloadJson: '{}',
    });
    await store.recordPosted(txId(1), txId(100));
    await store.close();

    const reopened = await PaymentsStore.open(d);
    expect(reopened.get('a')).toMatchObject({
      state: 'submitted',
      transactionId: txId(1),
      blockId: txId(100),
      attempts: 1,
    });
    expect(reopened.get('b')).toMatchObject({
      micro: true,
      depositUnits: '5060',
      outputId: `${txId(1)}0100`,
    });
    expect(reopened.openTransactions().map((t) => t.txId)).toEqual([txId(1)]);
    expect(reopened.awaitingTransaction()).toEqual([]);
  });

  it('after a conflict the payments wait for a new transaction, which then carries them', async () => {
    const store = await PaymentsStore.open(await dir());
    await store.request(request('a'), { micro: false });
    await store.recordSigned({
      txId: txId(1),
      kind: 'payments',
      keys: ['a'],
      outputIndexes: [0],
      inputs: ['0xin'],
      payloadJson: '{}',
    });
    await store.recordPosted(txId(1), txId(101));
    await store.recordConflicting(txId(1), 'input spent elsewhere');
    expect(store.get('a')).toMatchObject({ state: 'conflicting', error: 'input spent elsewhere' });
    expect(store.awaitingTransaction().map((p) => p.idempotencyKey)).toEqual(['a']);
    await store.recordSigned({
      txId: txId(2),
      kind: 'payments',
      keys: ['a'],
      outputIndexes: [0],
      inputs: ['0xin2'],
      payloadJson: '{}',
    });
    await store.recordPosted(txId(2), txId(102));
    await store.recordIncluded(txId(2), txId(102), 42, 1_800_000_000);
    expect(store.get('a')).toMatchObject({
      state: 'included',
      transactionId: txId(2),
      milestoneIndex: 42,
      attempts: 2,
    });
    expect(store.openTransactions()).toEqual([]);
  });

  it('filters and pages the list, newest first', async () => {
    const store = await PaymentsStore.open(await dir());
    for (const k of ['a', 'b', 'c']) await store.request(request(k), { micro: false });
    expect(store.list({ limit: 2 }).items.map((p) => p.idempotencyKey)).toEqual(['c', 'b']);
    expect(store.list({ periodId: 'b' }).items.map((p) => p.idempotencyKey)).toEqual(['b']);
    expect(store.list({ state: 'included' }).total).toBe(0);
  });
});
