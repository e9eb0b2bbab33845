import { type BlockJson, utf8ToHex } from '@tanglewatt/ledger';
import { describe, expect, it } from 'vitest';
import { capacityFromHistory, paidDeliveriesOf, paymentEntriesOf } from './delivery-history.js';
import { PAYMENT_TAG } from './settlement.js';

const TAG = utf8ToHex(PAYMENT_TAG);
const PRODUCER = `0x${'ab'.repeat(32)}`;
const OTHER = `0x${'cd'.repeat(32)}`;

function owner(pubKeyHash: string, extra: object[] = []) {
  return {
    type: 3,
    amount: '5000',
    unlockConditions: [{ type: 0, address: { type: 0, pubKeyHash } }, ...extra],
  };
}

function paymentBlock(payments: object[], tag = TAG): BlockJson {
  return {
    protocolVersion: 2,
    parents: [],
    payload: {
      type: 6,
      essence: {
        type: 1,
        outputs: [
          owner(PRODUCER),
          // A micro-payment: the deposit goes back to the payer, the address is still the payee's.
          owner(OTHER, [{ type: 1, returnAddress: { type: 0, pubKeyHash: PRODUCER }, amount: '4260' }]),
          owner(OTHER),
        ],
        payload: { type: 5, tag, data: utf8ToHex(JSON.stringify({ v: 1, payments })) },
      },
      unlocks: [],
    },
    nonce: '0',
  } as unknown as BlockJson;
}

const hour = { periodStart: '2026-01-01T10:00:00.000Z', periodEnd: '2026-01-01T11:00:00.000Z' };

describe('paid delivery history', () => {
  it('reads each described payment with energy and a period, joined with the output it names', () => {
    const block = paymentBlock([
      { k: 'a', o: 0, a: '100', energyMWs: '36000000', ...hour },
      { k: 'b', o: 1, a: '1', energyMWs: '3600000', ...hour },
      { k: 'c', o: 2, a: '7' }, // no energy: a payment for something else
      { k: 'd', o: 9, a: '7', energyMWs: '1', ...hour }, // names no output
      { k: 'e', o: 2, a: '7', energyMWs: '1', periodStart: hour.periodEnd, periodEnd: hour.periodStart },
    ]);
    expect(paidDeliveriesOf(block, TAG, 12)).toEqual([
      { payeeHex: PRODUCER, energyMWs: 36_000_000n, periodMs: 3_600_000, milestoneIndex: 12 },
      { payeeHex: OTHER, energyMWs: 3_600_000n, periodMs: 3_600_000, milestoneIndex: 12 },
    ]);
  });

  it('reads every payment with its key, amount and payee, energy or not', () => {
    const trade = `market/${'7'.repeat(64)}/1000`;
    const block = paymentBlock([
      { k: trade, o: 0, a: '1000', energyMWs: '3600000', ...hour },
      { k: 'plain', o: 2, a: '7' },
      { k: 'no-amount', o: 2 },
    ]);
    expect(paymentEntriesOf(block, TAG)).toEqual([
      {
        key: trade,
        units: 1000n,
        payeeHex: PRODUCER,
        outputIndex: 0,
        metadata: { energyMWs: '3600000', ...hour },
        delivery: { energyMWs: 3_600_000n, periodMs: 3_600_000 },
      },
      { key: 'plain', units: 7n, payeeHex: OTHER, outputIndex: 2, metadata: {} },
    ]);
  });

  it('reads a payment with shares as the producer’s: the shares are not part of its metadata', () => {
    const block = paymentBlock([
      {
        k: 'split',
        o: 0,
        a: '100',
        energyMWs: '36000000',
        ...hour,
        shares: [
          { role: 'operator', o: 1, a: '1', to: 'watt1…' },
          { role: 'grid', o: 2, a: '7', to: 'watt1…' },
        ],
      },
    ]);
    expect(paymentEntriesOf(block, TAG)).toEqual([
      {
        key: 'split',
        units: 100n,
        payeeHex: PRODUCER,
        outputIndex: 0,
        metadata: { energyMWs: '36000000', ...hour },
        delivery: { energyMWs: 36_000_000n, periodMs: 3_600_000 },
      },
    ]);
  });

  it('ignores blocks that are not payment transactions', () => {
    expect(
      paidDeliveriesOf(paymentBlock([{ o: 0, energyMWs: '1', ...hour }], utf8ToHex('other')), TAG, 1),
    ).toEqual([]);
    const tagged = { protocolVersion: 2, parents: [], payload: { type: 5, tag: TAG, data: '0x7b7d' } };
    expect(paidDeliveriesOf(tagged as unknown as BlockJson, TAG, 1)).toEqual([]);
    const garbled = paymentBlock([]);
    (garbled.payload as unknown as { essence: { payload: { data: string } } }).essence.payload.data =
      '0xffff';
    expect(paidDeliveriesOf(garbled, TAG, 1)).toEqual([]);
  });

  it('sustains the peak paid rate over the window, floored, from milestones before the offer only', () => {
    const history = [
      // 10 Wh in an hour (10 W), confirmed at milestone 5.
      { payeeHex: PRODUCER, energyMWs: 36_000_000n, periodMs: 3_600_000, milestoneIndex: 5 },
      // 1 Wh in a minute (60 W), confirmed at milestone 9.
      { payeeHex: PRODUCER, energyMWs: 3_600_000n, periodMs: 60_000, milestoneIndex: 9 },
    ];
    expect(capacityFromHistory(history, 2 * 3_600_000, 9)).toBe(20n);
    expect(capacityFromHistory(history, 2 * 3_600_000, 10)).toBe(120n);
    expect(capacityFromHistory(history, 30 * 60_000, 100)).toBe(30n);
    // 10 W for 359 s is 0.997 Wh: nothing whole.
    expect(capacityFromHistory(history, 359_000, 6)).toBe(0n);
    expect(capacityFromHistory(history, 3_600_000, 5)).toBeUndefined();
    expect(capacityFromHistory([], 3_600_000, 5)).toBeUndefined();
  });
});
