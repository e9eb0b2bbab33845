import { describe, expect, it } from 'vitest';
import { toHex } from './bytes.js';
import { ed25519PublicKey, x25519PublicKey } from './crypto.js';
import { PAYMENT_TAG } from './period.js';
import { type PaymentIndexer, verifyPeriods } from './period-refs.js';
import { recordLine } from './record-view.js';
import { exportRecords, ledgerBlocks } from './records-export.js';
import { verifyRecords } from './records-verify.js';
import { staticSigners } from './signers.js';
import {
  deterministicRandom,
  type FakeTransactions,
  fakeIndexer,
  fakePaymentNode,
  fakePoster,
  hourlyPayment,
  twoHourlyPeriods,
} from './testing.js';

const T0 = Date.parse('2026-11-24T05:00:00Z');
const keys = deterministicRandom('period-refs.test keys');
const meterKey = keys(32);
const readerKey = keys(32);
const strangerKey = keys(32);

/** Two restricted periods, each paid in its own transaction naming its messages, as the meter-agent pays. */
async function paidPeriods() {
  const { writer, poster, periods } = await twoHourlyPeriods(
    meterKey,
    'restricted',
    [x25519PublicKey(readerKey)],
    T0,
  );
  const txs: FakeTransactions = new Map();
  for (const [i, { closed, summary }] of periods.entries()) {
    const first = writer.message(closed.fromSeq)!;
    txs.set(`0xtx${i}`, {
      tag: PAYMENT_TAG,
      data: {
        v: 1,
        payments: [
          {
            ...hourlyPayment(i, closed.root, T0),
            energyMWs: summary.energyMWs.toString(),
            channel: {
              id: writer.channelId,
              publicKey: toHex(ed25519PublicKey(meterKey)),
              fromSeq: closed.fromSeq,
              toSeq: closed.toSeq,
              lastBlockId: writer.message(closed.toSeq)!.blockId!,
              epochs: { [String(first.epoch)]: first.blockId! },
            },
          },
        ],
      },
    });
  }
  const indexer = fakeIndexer(
    poster,
    txs,
    new Map([
      ['0xtx0', 'watt1payer'],
      ['0xtx1', 'watt1payer'],
    ]),
  );
  return { writer, poster, periods, indexer, txs };
}

describe('verifyPeriods: many periods, by transaction or by period id through the indexer', () => {
  it('sums the energy and amounts of the periods that verify; a period nobody paid is one failure', async () => {
    const { periods, indexer } = await paidPeriods();
    const verdict = await verifyPeriods(
      [{ periodId: 'meter-1/0', payer: 'watt1payer' }, { transactionId: '0xtx1' }, { periodId: 'meter-1/7' }],
      { indexer, readerSecretKey: readerKey },
    );
    expect(verdict.periods.map((v) => v.code)).toEqual(['PASS', 'PASS', 'PAYMENT_NOT_FOUND']);
    expect(verdict.energyMWs).toBe(periods[0]!.summary.energyMWs + periods[1]!.summary.energyMWs);
    expect(verdict.amounts).toBe(2000n);
    expect(verdict.ok).toBe(false);
    expect(verdict.failures).toEqual([
      expect.objectContaining({
        detail: 'no included tanglewatt/pay/v1 payment for period meter-1/7 in the indexer',
      }),
    ]);
  });

  it('finds a period only among the named payer’s transactions; a stranger’s reader key is WRONG_KEY', async () => {
    const { indexer } = await paidPeriods();
    const other = await verifyPeriods([{ periodId: 'meter-1/0', payer: 'watt1other' }], {
      indexer,
      readerSecretKey: readerKey,
    });
    expect(other.failures.map((f) => f.code)).toEqual(['PAYMENT_NOT_FOUND']);
    const stranger = await verifyPeriods([{ periodId: 'meter-1/1' }], {
      indexer,
      readerSecretKey: strangerKey,
    });
    expect(stranger.failures.map((f) => f.code)).toEqual(['WRONG_KEY']);
    expect(stranger.energyMWs).toBe(0n);
  });

  it('takes a transaction the node has pruned from the indexer', async () => {
    const { indexer, poster } = await paidPeriods();
    const prunedNode = fakePaymentNode(poster, new Map());
    const verdict = await verifyPeriods([{ transactionId: '0xtx0' }], {
      api: prunedNode,
      indexer,
      readerSecretKey: readerKey,
    });
    expect(verdict.periods.map((v) => v.code)).toEqual(['PASS']);
    const nodeOnly = await verifyPeriods([{ transactionId: '0xtx0' }], {
      api: prunedNode,
      readerSecretKey: readerKey,
    });
    expect(nodeOnly.failures.map((f) => f.detail)).toEqual([
      'transaction 0xtx0 is not included in the ledger',
    ]);
  });

  it('exports a restricted channel from the indexer alone (payments, then tags forward) and the records verify on it', async () => {
    const { writer, indexer, poster } = await paidPeriods();
    const blocks = ledgerBlocks({ indexer });
    const publicKey = ed25519PublicKey(meterKey);
    const result = await exportRecords({
      blocks,
      indexer,
      channelId: writer.channelId,
      signers: staticSigners([publicKey]),
      publicKeys: [publicKey],
      readerSecretKey: readerKey,
      milestone: (i) => indexer.milestone(i),
    });
    expect(result.failures).toEqual([]);
    expect(result.records).toHaveLength(poster.order.length);
    expect(result.records[0]!.ledger).toMatchObject({
      milestoneIndex: 42,
      milestoneTimestamp: 1_764_000_042,
    });
    const verdict = await verifyRecords(result.records.map(recordLine).join('\n'), { ledger: blocks });
    expect(verdict.failures).toEqual([]);
    const middle = await exportRecords({
      blocks,
      indexer,
      channelId: writer.channelId,
      signers: staticSigners([publicKey]),
      publicKeys: [publicKey],
      readerSecretKey: readerKey,
      from: { seq: 3 },
      to: { ms: T0 + 3_600_000 },
    });
    expect(middle.records[0]!.seq).toBe(3);
    expect(middle.records.flatMap((r) => r.payload.RD.map((d) => d.XP))).toEqual(['meter-1/0']);
  });

  it('calls a message the indexer lacks pending until it has indexed past the payment’s milestone + 2', async () => {
    const { writer, poster, periods, txs } = await paidPeriods();
    // The indexer has the payment (milestone 43) but not yet the period's last message.
    const behind = fakePoster();
    for (const [id, b] of poster.blocks) behind.blocks.set(id, b);
    behind.order.push(...poster.order);
    const last = writer.message(periods[1]!.closed.toSeq)!.blockId!;
    behind.blocks.delete(last);
    behind.order.splice(behind.order.indexOf(last), 1);
    const base = fakeIndexer(behind, txs);
    const at = (indexedMilestone: number): PaymentIndexer => ({
      ...base,
      health: async () => ({ indexedMilestone }),
    });
    const line = async (indexer: PaymentIndexer) => {
      const [v] = (await verifyPeriods([{ transactionId: '0xtx1' }], { indexer, readerSecretKey: readerKey }))
        .periods;
      return `${v!.code}: ${v!.detail}`;
    };
    const missing = `seq ${periods[1]!.closed.toSeq}: block ${last} not found (pruned, or never posted)`;
    expect(await line(at(45))).toBe(
      `PENDING_INDEX: ${missing}; not indexed yet: the payment is in milestone 43 and the indexer has reached milestone 45; its messages count as missing only after milestone 45`,
    );
    expect(await line(at(46))).toBe(`MESSAGE_NOT_FOUND: ${missing}`);
    // An indexer that does not say how far it has come: missing is missing.
    expect(await line(base)).toBe(`MESSAGE_NOT_FOUND: ${missing}`);
  });
});
