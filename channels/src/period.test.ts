import { describe, expect, it } from 'vitest';
import { ed25519PublicKey, x25519PublicKey } from './crypto.js';
import { PAYMENT_TAG, type PaymentDescription, verifyPeriod } from './period.js';
import { staticSigners } from './signers.js';
import { deterministicRandom, fakePaymentNode, hourlyPayment, twoHourlyPeriods } from './testing.js';

const T0 = Date.parse('2026-11-24T05:00:00Z');
const keys = deterministicRandom('period.test keys');
const meterKey = keys(32);
const readerKey = keys(32);
const signers = staticSigners([ed25519PublicKey(meterKey)]);

const twoPeriods = (mode: 'public' | 'restricted') =>
  twoHourlyPeriods(meterKey, mode, [x25519PublicKey(readerKey)], T0);

const payment = (periodIndex: number, root: string, extra: Partial<PaymentDescription> = {}) => ({
  ...hourlyPayment(periodIndex, root, T0),
  ...extra,
});

describe('verifyPeriod', () => {
  it('passes for an honest payment and fails for a doctored one, saying why', async () => {
    const { writer, poster, periods } = await twoPeriods('public');
    const [, second] = periods;
    const blocks = writer.blockIndex(second!.closed.fromSeq, second!.closed.toSeq).map((b) => b.blockId);
    const energy = second!.summary.energyMWs.toString();
    const txs = new Map([
      [
        '0xhonest',
        {
          tag: PAYMENT_TAG,
          data: {
            v: 1,
            payments: [payment(0, 'ff'.repeat(32)), payment(1, second!.closed.root, { energyMWs: energy })],
          },
        },
      ],
      ['0xdoctored', { tag: PAYMENT_TAG, data: { v: 1, payments: [payment(1, `0x${'ab'.repeat(32)}`)] } }],
      ['0xnohash', { tag: PAYMENT_TAG, data: { v: 1, payments: [{ k: 'meter-1/1', o: 0, a: '1' }] } }],
      [
        '0xwrongenergy',
        { tag: PAYMENT_TAG, data: { v: 1, payments: [payment(1, second!.closed.root, { energyMWs: '1' })] } },
      ],
      ['0xother', { tag: 'tanglewatt/test', data: {} }],
      ['0xnotjson', { tag: PAYMENT_TAG, data: 'not json' }],
      [
        '0xbaddate',
        {
          tag: PAYMENT_TAG,
          data: { v: 1, payments: [payment(1, second!.closed.root, { periodStart: 'yesterday' })] },
        },
      ],
    ]);
    const api = fakePaymentNode(poster, txs);
    const check = (transactionId: string, blockIds = blocks, paymentKey = 'meter-1/1') =>
      verifyPeriod({ api, transactionId, paymentKey, channelId: writer.channelId, blockIds, signers });

    const honest = await check('0xhonest');
    expect(honest).toMatchObject({
      ok: true,
      code: 'PASS',
      readingsHash: second!.closed.root,
      computedRoot: second!.closed.root,
    });
    expect(honest.seqRange).toEqual([second!.closed.fromSeq, second!.closed.toSeq]);

    expect(await check('0xdoctored')).toMatchObject({
      ok: false,
      code: 'ROOT_MISMATCH',
      computedRoot: second!.closed.root,
    });
    expect(await check('0xnohash')).toMatchObject({ code: 'NO_READINGS_HASH' });
    expect(await check('0xwrongenergy')).toMatchObject({ code: 'SUMMARY_MISMATCH' });
    expect(await check('0xother')).toMatchObject({ code: 'PAYMENT_NOT_FOUND' });
    expect(await check('0xnotjson')).toMatchObject({ code: 'PAYMENT_NOT_FOUND' });
    const badDate = await check('0xbaddate');
    expect(badDate).toMatchObject({ code: 'PAYMENT_NOT_FOUND' });
    expect(badDate.detail).toMatch(/described wrongly/);
    expect(await check('0xmissing')).toMatchObject({ code: 'PAYMENT_NOT_FOUND' });
    expect(await check('0xhonest', blocks, 'meter-1/9')).toMatchObject({ code: 'PAYMENT_NOT_FOUND' });
    expect(await check('0xhonest', [])).toMatchObject({ code: 'NO_MESSAGES' });

    // The period's blocks doctored: one left out, one added from the period before, one foreign block.
    const gap = await check(
      '0xhonest',
      blocks.filter((_, i) => i !== 1),
    );
    expect(gap).toMatchObject({ code: 'CHANNEL_INVALID' });
    expect(gap.detail).toMatch(/^GAP at seq/);
    expect(await check('0xhonest', blocks.slice(0, -1))).toMatchObject({ code: 'SUMMARY_MISMATCH' });
    const earlier = writer
      .blockIndex(periods[0]!.closed.toSeq, periods[0]!.closed.toSeq)
      .map((b) => b.blockId);
    expect(await check('0xhonest', [...earlier, ...blocks])).toMatchObject({ code: 'OUTSIDE_PERIOD' });
    const missing = await check('0xhonest', [...blocks, `0x${'00'.repeat(32)}`]);
    expect(missing).toMatchObject({ code: 'CHANNEL_INVALID' });
  });

  it('needs the reader key for a restricted channel, and passes with it', async () => {
    const { writer, poster, periods } = await twoPeriods('restricted');
    const period = periods[1]!.closed;
    const txs = new Map([
      ['0xpay', { tag: PAYMENT_TAG, data: { v: 1, payments: [payment(1, period.root)] } }],
    ]);
    const api = fakePaymentNode(poster, txs);
    const blockIds = writer.blockIndex(period.fromSeq, period.toSeq).map((b) => b.blockId);
    const base = {
      api,
      transactionId: '0xpay',
      paymentKey: 'meter-1/1',
      channelId: writer.channelId,
      blockIds,
      signers,
    };
    const without = await verifyPeriod(base);
    expect(without).toMatchObject({ ok: false, code: 'CHANNEL_INVALID' });
    expect(without.detail).toMatch(/^WRONG_KEY/);
    expect(await verifyPeriod({ ...base, readerSecretKey: readerKey })).toMatchObject({
      ok: true,
      code: 'PASS',
    });
    expect(await verifyPeriod({ ...base, readerSecretKey: keys(32) })).toMatchObject({
      code: 'CHANNEL_INVALID',
    });
  });
});
