import { FakeFiles, JournalFailedError } from '@tanglewatt/journal';
import { describe, expect, it } from 'vitest';
import { PaymentsStore } from './payments-store.js';

const txId = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const to = 'watt1qq9x4cs9vtwpd7m5etek37jw42tzvyy8nhmkyhpev0mfax937lpjuyjmu6a';
const signed = {
  txId: txId(1),
  kind: 'payments' as const,
  keys: ['a'],
  outputIndexes: [0],
  inputs: ['0xin'],
  payloadJson: '{"essence":{}}',
};

describe('PaymentsStore on a failing disk', () => {
  it('a disk full while journaling a signed transaction: refused, not applied, nothing to post twice', async () => {
    const files = new FakeFiles();
    const store = await PaymentsStore.open('/data', { files });
    await store.request({ idempotencyKey: 'a', to, amount: '5000' }, { micro: false });
    files.capacityBytes = files.contents('/data/payments.journal')!.length + 40;
    const error = await store.recordSigned(signed).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JournalFailedError);
    // Not journaled, so not applied: the settlement loop has no transaction to post.
    expect(store.openTransactions()).toEqual([]);
    expect(store.get('a')).toMatchObject({ state: 'queued', attempts: 0 });
    await expect(store.request({ idempotencyKey: 'b', to, amount: '1' }, { micro: false })).rejects.toThrow(
      /payments\.journal: write failed \(ENOSPC.*reopened$/,
    );
    await store.close();
    files.crash();
    files.capacityBytes = Number.POSITIVE_INFINITY;
    const reopened = await PaymentsStore.open('/data', { files });
    expect(reopened.get('a')).toMatchObject({ state: 'queued', attempts: 0 });
    expect(reopened.get('b')).toBeUndefined();
    expect(reopened.openTransactions()).toEqual([]);
    await reopened.recordSigned(signed);
    expect(reopened.openTransactions().map((t) => t.txId)).toEqual([txId(1)]);
    await reopened.close();
  });
});
