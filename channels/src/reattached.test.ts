import { describe, expect, it } from 'vitest';
import { toHex } from './bytes.js';
import { ed25519PublicKey, x25519PublicKey } from './crypto.js';
import { PAYMENT_TAG } from './period.js';
import { verifyPeriods } from './period-refs.js';
import {
  deterministicRandom,
  type FakePoster,
  type FakeTransactions,
  fakeIndexer,
  fakePaymentNode,
  fakePoster,
  hourlyPayment,
  twoHourlyPeriods,
} from './testing.js';
import { verifyPayment } from './verify-payment.js';

const T0 = Date.parse('2026-11-24T05:00:00Z');
const keys = deterministicRandom('reattached.test keys');
const meterKey = keys(32);
const readerKey = keys(32);

/** The second of two hourly periods, paid in 0xtx1 naming its messages as the meter-agent names them. */
async function paidPeriod(mode: 'public' | 'restricted') {
  const { writer, poster, periods } = await twoHourlyPeriods(
    meterKey,
    mode,
    [x25519PublicKey(readerKey)],
    T0,
  );
  const { closed, summary } = periods[1]!;
  const first = writer.message(closed.fromSeq)!;
  const txs: FakeTransactions = new Map([
    [
      '0xtx1',
      {
        tag: PAYMENT_TAG,
        data: {
          v: 1,
          payments: [
            {
              ...hourlyPayment(1, closed.root, T0),
              energyMWs: summary.energyMWs.toString(),
              channel: {
                id: writer.channelId,
                publicKey: toHex(ed25519PublicKey(meterKey)),
                fromSeq: closed.fromSeq,
                toSeq: closed.toSeq,
                lastBlockId: writer.message(closed.toSeq)!.blockId!,
                ...(mode === 'restricted' ? { epochs: { [String(first.epoch)]: first.blockId! } } : {}),
              },
            },
          ],
        },
      },
    ],
  ]);
  return { writer, poster, closed, txs };
}

/** The ledger as it ends up: `seqs`' first blocks never referenced, and (unless `repost` is false) posted again. */
async function reattached(
  poster: FakePoster,
  blockIds: string[],
  repost: (b: { tag: string; bytes: Uint8Array }) => { tag: string; bytes: Uint8Array } | undefined = (b) =>
    b,
) {
  const ledger = fakePoster();
  for (const id of poster.order) ledger.blocks.set(id, poster.blocks.get(id)!);
  ledger.order.push(...poster.order);
  for (const id of blockIds) {
    const b = ledger.blocks.get(id)!;
    ledger.blocks.delete(id);
    ledger.order.splice(ledger.order.indexOf(id), 1);
    const again = repost(b);
    if (again) await ledger.post(again.tag, again.bytes);
  }
  return ledger;
}

const line = async (ledger: FakePoster, txs: FakeTransactions) => {
  const { periods } = await verifyPeriods([{ transactionId: '0xtx1' }], {
    indexer: fakeIndexer(ledger, txs),
    readerSecretKey: readerKey,
  });
  return `${periods[0]!.code}: ${periods[0]!.detail}`;
};

describe('a period whose channel blocks were posted again (the first never referenced by a milestone)', () => {
  for (const mode of ['public', 'restricted'] as const)
    it(`verifies through the indexer alone, finding the ${mode} messages by tag and seq`, async () => {
      const { writer, poster, closed, txs } = await paidPeriod(mode);
      const last = writer.message(closed.toSeq)!.blockId!;
      const middle = writer.message(closed.fromSeq + 1)!.blockId!;
      const ledger = await reattached(poster, [last, middle]);
      expect(ledger.blocks.has(last)).toBe(false);
      expect(await line(ledger, txs)).toBe(
        `PASS: ${closed.toSeq - closed.fromSeq + 1} messages (seq ${closed.fromSeq}..${closed.toSeq}) verified; root matches`,
      );
      // The node alone cannot look blocks up by tag: there the first block stays missing.
      const [v] = await verifyPayment({
        api: fakePaymentNode(ledger, txs),
        transactionId: '0xtx1',
        readerSecretKey: readerKey,
      });
      expect(`${v!.code}: ${v!.detail}`).toBe(
        `MESSAGE_NOT_FOUND: seq ${closed.toSeq}: block ${last} not found (pruned, or never posted)`,
      );
    });

  it('a block never posted again is still missing', async () => {
    const { writer, poster, closed, txs } = await paidPeriod('restricted');
    const last = writer.message(closed.toSeq)!.blockId!;
    const ledger = await reattached(poster, [last], () => undefined);
    expect(await line(ledger, txs)).toBe(
      `MESSAGE_NOT_FOUND: seq ${closed.toSeq}: block ${last} not found (pruned, or never posted)`,
    );
  });

  it('takes no other message carrying its tag: another seq, or bytes the next message did not sign', async () => {
    const { writer, poster, closed, txs } = await paidPeriod('restricted');
    const last = writer.message(closed.toSeq)!.blockId!;
    const before = poster.blocks.get(writer.message(closed.toSeq - 1)!.blockId!)!;
    // The last message's tag over the message before it: it opens to another seq.
    const wrongSeq = await reattached(poster, [last], (b) => ({ tag: b.tag, bytes: before.bytes }));
    expect(await line(wrongSeq, txs)).toMatch(/^MESSAGE_NOT_FOUND: seq \d+: block .* not found/);
    // A middle message's tag over other bytes: not the hash the message after it signed.
    const middleId = writer.message(closed.fromSeq + 1)!.blockId!;
    const tampered = await reattached(poster, [middleId], (b) => {
      const bytes = b.bytes.slice();
      bytes[bytes.length - 1]! ^= 1;
      return { tag: b.tag, bytes };
    });
    expect(await line(tampered, txs)).toBe(
      `MESSAGE_NOT_FOUND: seq ${closed.fromSeq + 1}: block ${middleId} not found (pruned, or never posted)`,
    );
  });
});
