import { outputIdOf } from '@tanglewatt/ledger';
import { describe, expect, it } from 'vitest';
import { repayKeyOf } from './payments-state.js';
import { PaymentsStore } from './payments-store.js';
import { storeDir as dir, PAYEE, paymentRequest as request, txId } from './testing/payments.js';

const OPERATOR = 'watt1operator';
const GRID = 'watt1grid';

/** A payment of 7 units to PAYEE with micro shares of 3 (operator) and 2 (grid), included in txId(1). */
async function includedWithShares(store: PaymentsStore, key = 'm'): Promise<void> {
  await store.request(
    request(key, '7', {
      shares: [
        { role: 'operator', to: OPERATOR, amount: '3' },
        { role: 'grid', to: GRID, amount: '2' },
      ],
    }),
    {
      micro: true,
      depositUnits: 5060n,
      shares: [
        { micro: true, depositUnits: 5060n },
        { micro: true, depositUnits: 5060n },
      ],
    },
  );
  await store.recordSigned({
    txId: txId(1),
    kind: 'payments',
    keys: [key],
    outputIndexes: [0],
    inputs: ['0xin1'],
    payloadJson: '{}',
  });
  await store.recordIncluded(txId(1), txId(101), 5, 1_800_000_000);
}

/** Our transaction n spending `inputs` (a take-back after expiry), signed and then included or lost. */
async function takeBack(store: PaymentsStore, n: number, inputs: string[], outcome: 'included' | 'lost') {
  await store.recordSigned({
    txId: txId(n),
    kind: 'consolidation',
    keys: [],
    outputIndexes: [],
    inputs,
    payloadJson: '{}',
  });
  if (outcome === 'included') await store.recordIncluded(txId(n), txId(100 + n), 9, 1_800_000_100);
  else await store.recordConflicting(txId(n), 'an input was spent by another transaction');
}

describe('micro-payment outputs that expire unclaimed are paid again, once', () => {
  it("the payee's expired output is paid again by a payment of its own; the shares are not paid again", async () => {
    const d = await dir();
    const store = await PaymentsStore.open(d);
    await includedWithShares(store);
    const payeeOutput = outputIdOf(txId(1), 0);
    expect(store.get('m')?.outputId).toBe(payeeOutput);
    await takeBack(store, 2, [payeeOutput], 'included');

    const key = `m/repay/${payeeOutput}`;
    expect(store.get('m')).toMatchObject({
      state: 'included',
      outputId: payeeOutput,
      expired: [{ outputId: payeeOutput, role: 'payee', takenBackBy: txId(2), repayKey: key }],
    });
    expect(store.get(key)).toMatchObject({
      state: 'queued',
      to: PAYEE,
      amount: '7',
      micro: true,
      depositUnits: '5060',
      repays: { key: 'm', outputId: payeeOutput, role: 'payee' },
    });
    expect(store.get(key)?.shares).toBeUndefined();
    expect(store.awaitingTransaction().map((p) => p.idempotencyKey)).toEqual([key]);

    // Journaled: a restart finds the same payment owed, and only that one.
    await store.close();
    const reopened = await PaymentsStore.open(d);
    expect(reopened.awaitingTransaction().map((p) => [p.idempotencyKey, p.to, p.amount])).toEqual([
      [key, PAYEE, '7'],
    ]);
    expect(reopened.get('m')?.state).toBe('included');
  });

  it("a share's expired output is paid again to that share's payee, for that share's amount", async () => {
    const store = await PaymentsStore.open(await dir());
    await includedWithShares(store);
    const [operatorOutput, gridOutput] = store.get('m')!.shares!.map((s) => s.outputId!);
    expect([operatorOutput, gridOutput]).toEqual([outputIdOf(txId(1), 1), outputIdOf(txId(1), 2)]);
    await takeBack(store, 2, [gridOutput!], 'included');
    const repaid = store.awaitingTransaction();
    expect(repaid.map((p) => [p.idempotencyKey, p.to, p.amount, p.repays?.role])).toEqual([
      [`m/repay/${gridOutput}`, GRID, '2', 'grid'],
    ]);
    expect(store.get('m')?.expired?.map((e) => e.role)).toEqual(['grid']);
  });

  it('a take-back that lost its input to the payee (claimed in time) owes nothing', async () => {
    const store = await PaymentsStore.open(await dir());
    await includedWithShares(store);
    await takeBack(store, 2, [outputIdOf(txId(1), 0), outputIdOf(txId(1), 1)], 'lost');
    expect(store.awaitingTransaction()).toEqual([]);
    expect(store.get('m')?.expired).toBeUndefined();
  });

  it('the same expired output never makes a second payment: not on replay, not from a second take-back', async () => {
    const d = await dir();
    const store = await PaymentsStore.open(d);
    await includedWithShares(store);
    const payeeOutput = outputIdOf(txId(1), 0);
    await takeBack(store, 2, [payeeOutput], 'included');
    await takeBack(store, 3, [payeeOutput], 'included');
    const owed = () =>
      store
        .list({ limit: 100 })
        .items.filter((p) => p.repays)
        .map((p) => p.idempotencyKey);
    expect(owed()).toEqual([`m/repay/${payeeOutput}`]);
    // Once paid and included, the repayment is done; its own micro output is followed like any other.
    await store.recordSigned({
      txId: txId(4),
      kind: 'payments',
      keys: [`m/repay/${payeeOutput}`],
      outputIndexes: [0],
      inputs: ['0xin4'],
      payloadJson: '{}',
    });
    await store.recordIncluded(txId(4), txId(104), 11, 1_800_000_200);
    await store.close();
    const reopened = await PaymentsStore.open(d);
    expect(reopened.awaitingTransaction()).toEqual([]);
    expect(reopened.get(`m/repay/${payeeOutput}`)?.state).toBe('included');
    expect(reopened.get('m')?.expired).toHaveLength(1);
  });

  it('two copies of the wallet: only the one whose take-back won the output owes it, under the same key', async () => {
    const a = await PaymentsStore.open(await dir());
    const b = await PaymentsStore.open(await dir());
    await includedWithShares(a);
    await includedWithShares(b);
    const payeeOutput = outputIdOf(txId(1), 0);
    await takeBack(a, 2, [payeeOutput], 'included');
    await takeBack(b, 3, [payeeOutput], 'lost');
    expect(a.awaitingTransaction().map((p) => p.idempotencyKey)).toEqual([repayKeyOf('m', payeeOutput)]);
    expect(b.awaitingTransaction()).toEqual([]);
  });

  it('a repayment key is <key>/repay/<outputId>, or a hash of both when that passes 128 characters', () => {
    const output = outputIdOf(txId(1), 2);
    expect(repayKeyOf('meter-1:42', output)).toBe(`meter-1:42/repay/${output}`);
    const long = repayKeyOf('k'.repeat(100), output);
    expect(long).toMatch(/^repay\/[0-9a-f]{64}$/);
    expect(repayKeyOf('k'.repeat(100), output)).toBe(long);
    expect(repayKeyOf('k'.repeat(101), output)).not.toBe(long);
  });
});
