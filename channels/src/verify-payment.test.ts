import { describe, expect, it } from 'vitest';
import { toHex } from './bytes.js';
import { ed25519PublicKey, x25519PublicKey } from './crypto.js';
import { channelRefOf, PAYMENT_TAG } from './period.js';
import { didHistorySigners } from './signers.js';
import {
  deterministicRandom,
  fakePaymentNode,
  fakePoster,
  hourlyPayment,
  twoHourlyPeriods,
} from './testing.js';
import { verifyPayment } from './verify-payment.js';
import type { ChannelWriter } from './writer.js';

const T0 = Date.parse('2026-11-24T05:00:00Z');
const keys = deterministicRandom('verify-payment.test keys');
const meterKey = keys(32);
const readerKey = keys(32);
const strangerKey = keys(32);
const otherMeterKey = keys(32);

type Txs = Map<string, { tag: string; data: unknown }>;

const twoPeriods = (mode: 'public' | 'restricted') =>
  twoHourlyPeriods(meterKey, mode, [x25519PublicKey(readerKey)], T0);

/** What the meter-agent names: channel id, seq range, last block, announcements, signing key. */
function channelOf(writer: ChannelWriter, fromSeq: number, toSeq: number, extra: object = {}) {
  const first = writer.message(fromSeq)!;
  return {
    id: writer.channelId,
    publicKey: toHex(ed25519PublicKey(meterKey)),
    fromSeq,
    toSeq,
    lastBlockId: writer.message(toSeq)!.blockId!,
    ...(writer.mode === 'restricted' ? { epochs: { [String(first.epoch)]: first.blockId! } } : {}),
    ...extra,
  };
}

const payment = (index: number, root: string, channel?: object, extra: object = {}) => ({
  ...hourlyPayment(index, root, T0),
  ...(channel ? { channel } : {}),
  ...extra,
});

const pay = (...payments: object[]): { tag: string; data: unknown } => ({
  tag: PAYMENT_TAG,
  data: { v: 1, payments },
});

describe('verifyPayment: from the transaction alone', () => {
  it('finds, opens and verifies a restricted period with nothing but the reader key', async () => {
    const { writer, poster, periods } = await twoPeriods('restricted');
    const p = periods[1]!;
    const txs: Txs = new Map([
      ['0xpay', pay(payment(1, p.closed.root, channelOf(writer, p.closed.fromSeq, p.closed.toSeq)))],
    ]);
    const [verdict, ...rest] = await verifyPayment({
      api: fakePaymentNode(poster, txs),
      transactionId: '0xpay',
      readerSecretKey: readerKey,
    });
    expect(rest).toEqual([]);
    expect(verdict).toMatchObject({
      ok: true,
      code: 'PASS',
      computedRoot: p.closed.root,
      seqRange: [p.closed.fromSeq, p.closed.toSeq],
      signer: "the channel's own key (its id is the key's hash)",
    });
    expect(verdict!.detail).toBe(
      `${p.closed.toSeq - p.closed.fromSeq + 1} messages (seq ${p.closed.fromSeq}..${p.closed.toSeq}) verified; root matches`,
    );
  });

  it('verifies every payment of a batched transaction, or the one asked for', async () => {
    const { writer, poster, periods } = await twoPeriods('public');
    const described = periods.map((p, i) =>
      payment(i, p.closed.root, channelOf(writer, p.closed.fromSeq, p.closed.toSeq)),
    );
    const api = fakePaymentNode(poster, new Map([['0xbatch', pay(...described)]]));
    const all = await verifyPayment({ api, transactionId: '0xbatch' });
    expect(all.map((v) => [v.paymentKey, v.code])).toEqual([
      ['meter-1/0', 'PASS'],
      ['meter-1/1', 'PASS'],
    ]);
    const one = await verifyPayment({ api, transactionId: '0xbatch', periodId: 'meter-1/1' });
    expect(one.map((v) => v.paymentKey)).toEqual(['meter-1/1']);
  });

  it('names what is missing, in one line each', async () => {
    const { writer, poster, periods } = await twoPeriods('restricted');
    const p = periods[1]!;
    const ch = channelOf(writer, p.closed.fromSeq, p.closed.toSeq);
    const pruned = fakePoster();
    for (const [id, b] of poster.blocks) pruned.blocks.set(id, b);
    const middle = writer.message(p.closed.fromSeq + 2)!.blockId!;
    pruned.blocks.delete(middle);
    const txs: Txs = new Map([
      ['0xok', pay(payment(1, p.closed.root, ch))],
      ['0xother', { tag: 'tanglewatt/test', data: {} }],
      ['0xnochannel', pay(payment(1, p.closed.root))],
      ['0xbadchannel', pay(payment(1, p.closed.root, { ...ch, lastBlockId: 'nope' }))],
      ['0xdoctored', pay(payment(1, 'ab'.repeat(32), ch))],
      ['0xnoepochs', pay(payment(1, p.closed.root, { ...ch, epochs: undefined }))],
      [
        '0xrotated',
        pay(payment(1, p.closed.root, { ...ch, publicKey: toHex(ed25519PublicKey(otherMeterKey)) })),
      ],
      ['0xshifted', pay(payment(1, p.closed.root, { ...ch, toSeq: p.closed.toSeq + 1 }))],
    ]);
    const line = async (transactionId: string, more: object = {}, api = fakePaymentNode(poster, txs)) => {
      const [v] = await verifyPayment({ api, transactionId, readerSecretKey: readerKey, ...more });
      return `${v!.code}: ${v!.detail}`;
    };
    expect(await line('0xmissing')).toBe(
      'PAYMENT_NOT_FOUND: transaction 0xmissing is not included in the ledger',
    );
    expect(await line('0xother')).toBe(
      'PAYMENT_NOT_FOUND: transaction\'s tagged data is "tanglewatt/test", not tanglewatt/pay/v1',
    );
    expect(await line('0xnochannel')).toMatch(
      /^NO_CHANNEL: payment "meter-1\/1" names no channel .*--blocks$/,
    );
    expect(await line('0xbadchannel')).toBe(
      'NO_CHANNEL: payment "meter-1/1": channel.lastBlockId: a block id',
    );
    expect(await line('0xok', {}, fakePaymentNode(pruned, txs))).toBe(
      `MESSAGE_NOT_FOUND: seq ${p.closed.fromSeq + 2}: block ${middle} not found (pruned, or never posted)`,
    );
    expect(await line('0xok', { readerSecretKey: strangerKey })).toBe(
      `WRONG_KEY: no epoch key for epoch 2 with this reader key (${toHex(x25519PublicKey(strangerKey)).slice(0, 16)}…): none of the 1 wraps is for this reader (not authorised)`,
    );
    expect(await line('0xok', { readerSecretKey: undefined })).toBe(
      'WRONG_KEY: no epoch key for epoch 2: the channel is restricted and no reader key was given (--key-file)',
    );
    expect(await line('0xnoepochs')).toBe(
      `WRONG_KEY: no epoch key for seq ${p.closed.toSeq}: the payment names no announcement this reader key opens for its epoch`,
    );
    expect(await line('0xrotated')).toMatch(
      /^NO_SIGNER: the payment's signing key [0-9a-f]{18}… is not the channel's own \(rotated\?\) and it names no DID/,
    );
    expect(await line('0xshifted')).toMatch(
      new RegExp(
        `^RANGE_MISMATCH: block 0x[0-9a-f]{16}… holds seq ${p.closed.toSeq} where the payment's range ${p.closed.fromSeq}\\.\\.${p.closed.toSeq + 1} puts seq ${p.closed.toSeq + 1}$`,
      ),
    );
    expect(await line('0xdoctored')).toBe(
      `ROOT_MISMATCH: readingsHash ${'ab'.repeat(32)} is not the Merkle root ${p.closed.root} of seq ${p.closed.fromSeq}..${p.closed.toSeq}`,
    );
  });

  it('takes the signer from the DID the payment names, and says when the DID does not list the key', async () => {
    const { writer, poster, periods } = await twoPeriods('public');
    const p = periods[1]!;
    const did = `did:iota:tst:0x${'12'.repeat(32)}`;
    const didOrigin = `0x${'34'.repeat(34)}`;
    const ch = channelOf(writer, p.closed.fromSeq, p.closed.toSeq, { did, didOrigin });
    const api = fakePaymentNode(poster, new Map([['0xpay', pay(payment(1, p.closed.root, ch))]]));
    const asked: string[] = [];
    const resolving = (listed: Uint8Array) => async (d: string, origin: string, channelId: string) => {
      asked.push(`${d} ${origin} ${channelId}`);
      return {
        signers: didHistorySigners([{ fromMilestone: 1, publicKeys: [listed] }]),
        source: `${d} (1 document versions)`,
      };
    };
    const [good] = await verifyPayment({
      api,
      transactionId: '0xpay',
      resolveDid: resolving(ed25519PublicKey(meterKey)),
    });
    expect(good).toMatchObject({ code: 'PASS', signer: `${did} (1 document versions)` });
    expect(asked).toEqual([`${did} ${didOrigin} ${writer.channelId}`]);
    const [bad] = await verifyPayment({
      api,
      transactionId: '0xpay',
      resolveDid: resolving(ed25519PublicKey(otherMeterKey)),
    });
    expect(`${bad!.code}: ${bad!.detail}`).toMatch(
      new RegExp(
        `^BAD_SIGNATURE: BAD_SIGNATURE at seq ${p.closed.fromSeq}: key id [0-9a-f]{16} is not in the DID document in force at milestone 42 \\(signer: ${did} `,
      ),
    );
    const [unresolved] = await verifyPayment({
      api,
      transactionId: '0xpay',
      resolveDid: async () => ({ error: `${did}: alias not found` }),
    });
    expect(unresolved).toMatchObject({ code: 'NO_SIGNER', detail: `${did}: alias not found` });
  });
});

describe('the channel description in a payment', () => {
  // Shaped as a meter-agent payment describes its period (hex values made up).
  const recorded = {
    k: 'channel-consumer-1/2026-12-02T06:50:20.000Z',
    o: 0,
    a: '5316',
    periodId: 'channel-consumer-1/2026-12-02T06:50:20.000Z',
    readingsHash: '5b1b5b4cd1e7e0c5b8e7b0a0c1a3e5d7f9b1c3e5a7c9e1f3b5d7f9a1c3e5b7d9',
    channel: {
      id: 'e3f1d5b7a9c1e3f5b7d9a1c3e5f7b9d1a3c5e7f9b1d3a5c7e9f1b3d5a7c9e1f3',
      publicKey: 'a1c3e5f7b9d1a3c5e7f9b1d3a5c7e9f1b3d5a7c9e1f3a5c7e9f1b3d5a7c9e1f3',
      fromSeq: 8,
      toSeq: 11,
      lastBlockId: '0x7f1e3d5c7b9a1e3d5c7b9a1e3d5c7b9a1e3d5c7b9a1e3d5c7b9a1e3d5c7b9a1e',
      epochs: { '3': '0x1e3d5c7b9a1e3d5c7b9a1e3d5c7b9a1e3d5c7b9a1e3d5c7b9a1e3d5c7b9a1e3d' },
    },
  };

  it('parses, with fields a newer writer may add', () => {
    expect(channelRefOf({ ...recorded, channel: { ...recorded.channel, later: 1 } })).toMatchObject({
      ref: { fromSeq: 8, toSeq: 11, epochs: { '3': recorded.channel.epochs['3'] } },
    });
  });

  it('refuses a range that ends before it starts, naming it', () => {
    expect(channelRefOf({ ...recorded, channel: { ...recorded.channel, toSeq: 7 } })).toEqual({
      error: `payment "${recorded.k}": channel.toSeq is before channel.fromSeq`,
    });
  });
});
