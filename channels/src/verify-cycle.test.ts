import { parseTariffHistory } from '@tanglewatt/tariff';
import { exampleTariff } from '@tanglewatt/tariff/testing';
import { describe, expect, it } from 'vitest';
import { toHex } from './bytes.js';
import { ed25519PublicKey } from './crypto.js';
import type { Sample } from './payload.js';
import { PAYMENT_TAG } from './period.js';
import type { PaymentIndexer } from './period-refs.js';
import {
  deterministicRandom,
  type FakeTransactions,
  fakeIndexer,
  fakePoster,
  memoryWriter,
} from './testing.js';
import { verifyCycle } from './verify-cycle.js';

const history = parseTariffHistory([exampleTariff()]);
const meterKey = deterministicRandom('verify-cycle.test keys')(32);
/** January 2026 in Berlin: the example tariff's one version. */
const CYCLE = { id: '2026-01', start: '2025-12-31T23:00:00.000Z', end: '2026-01-31T23:00:00.000Z' };
const utc = (day: number, h: number, m: number) => Date.UTC(2026, 0, day, h, m);
const sample = (timestampMs: number, powerMW: number): Sample => ({
  timestampMs,
  busVoltageMV: 230_000,
  currentMA: Math.round(powerMW / 230),
  powerMW,
});
const WH = 3_600_000n; // mW·s

/**
 * The worked example. Wednesday 14 January, 600 W from 16:58 to 17:02 Berlin (15:58–16:02Z), a reading a
 * minute: 10 Wh a minute, 20 Wh standard (until 17:00) and 20 Wh high. Saturday 17 January (low all day):
 * 1200 W exported 10:00–10:02Z, 40 Wh, and 600 W imported 12:00–12:01Z, 10 Wh. Readings further apart than
 * gapMs (2 min) are not bridged. So high +20/−0, standard +20/−0, low +10/−40 Wh.
 * Net: high 20 Wh → producer 20 × 0.5 = 10, operator 10 % = 1, grid 20 × 0.1 = 2; standard 20 Wh → 6, 0.6,
 * 20 × 0.05 = 1; low −30 Wh is surplus, paid nothing. Producer 16, operator 1.6, grid 3; with the operator's
 * carry-in ½: 16, 2 (2.1 floored), 3 units.
 */
const READINGS = [
  ...[58, 59].map((m) => sample(utc(14, 15, m), 600_000)),
  ...[0, 1, 2].map((m) => sample(utc(14, 16, m), 600_000)),
  ...[0, 1, 2].map((m) => sample(utc(17, 10, m), -1_200_000)),
  ...[0, 1].map((m) => sample(utc(17, 12, m), 600_000)),
];
const STATED = {
  ...CYCLE,
  bands: {
    '1': { importMWs: String(20n * WH), exportMWs: '0' },
    '2': { importMWs: String(20n * WH), exportMWs: '0' },
    '3': { importMWs: String(10n * WH), exportMWs: String(40n * WH) },
  },
  carry: { producer: '0/1', operator: '1/2', grid: '0/1' },
  gapMs: 120_000,
};

/**
 * The meter's channel over the cycle: two periods that tile it (the second from `secondFrom`), each closed
 * with its summary; the cycle paid once in a transaction naming the last period's messages, as the
 * meter-agent pays under `net`.
 */
async function paidCycle(
  payment: { a?: string; cycle?: object; shares?: object[] } = {},
  secondFrom = utc(14, 16, 3),
) {
  const { writer, poster } = await memoryWriter(meterKey, 'public');
  const periods = [
    { id: 'house-1/a', from: utc(14, 15, 58), to: utc(14, 16, 3) },
    { id: 'house-1/b', from: secondFrom, to: utc(17, 12, 5) },
  ];
  let last: Awaited<ReturnType<typeof writer.closePeriod>> | undefined;
  for (const p of periods) {
    const mine = READINGS.filter((s) => s.timestampMs >= p.from && s.timestampMs < p.to);
    for (const s of mine) {
      writer.addSamples([s]);
      await writer.flush();
    }
    last = await writer.closePeriod({
      periodId: p.id,
      startMs: p.from,
      endMs: p.to,
      energyMWs: 0n,
      sampleCount: mine.length,
    });
  }
  const description = {
    k: 'house-1/net/2026-01',
    o: 0,
    a: payment.a ?? '16',
    periodId: 'house-1/b',
    readingsHash: last!.root,
    channel: {
      id: writer.channelId,
      publicKey: toHex(ed25519PublicKey(meterKey)),
      fromSeq: last!.fromSeq,
      toSeq: last!.toSeq,
      lastBlockId: writer.message(last!.toSeq)!.blockId!,
    },
    cycle: payment.cycle ?? STATED,
    shares: payment.shares ?? [
      { role: 'operator', o: 1, a: '2' },
      { role: 'grid', o: 2, a: '3' },
    ],
  };
  const txs: FakeTransactions = new Map([
    ['0xcycle', { tag: PAYMENT_TAG, data: { v: 1, payments: [description] } }],
  ]);
  return { writer, poster, txs, indexer: fakeIndexer(poster, txs, new Map([['0xcycle', 'watt1payer']])) };
}

const line = async (indexer: PaymentIndexer, cycleId = '2026-01') => {
  const verdicts = await verifyCycle({ indexer, cycleId, payer: 'watt1payer', history });
  return verdicts.map((v) => `${v.code}: ${v.detail}`);
};

describe('verify-period --cycle: a net cycle recomputed from its signed messages', () => {
  it('passes the worked example: bands and units as the tariff gives them', async () => {
    const { indexer, writer } = await paidCycle();
    const last = writer.blockIndex().at(-1)!.seq;
    expect(await line(indexer)).toEqual([
      `PASS: cycle 2026-01 (${CYCLE.start} to ${CYCLE.end}): ${last + 1} messages (seq 0..${last}) verified, signer the channel's own key (its id is the key's hash); import/export mW·s by band as stated (1: +72000000/-0, 2: +72000000/-0, 3: +36000000/-144000000); producer 16, operator 2, grid 3 units as the tariff gives with the stated carry`,
    ]);
  });

  it('names a band whose stated export the readings do not give: FAIL BANDS_MISMATCH', async () => {
    const bands = { ...STATED.bands, '3': { importMWs: String(10n * WH), exportMWs: String(30n * WH) } };
    const { indexer } = await paidCycle({ cycle: { ...STATED, bands } });
    expect(await line(indexer)).toEqual([
      "BANDS_MISMATCH: band 3: the payment states import 36000000 and export 108000000 mW·s, the cycle's readings give import 36000000 and export 144000000",
    ]);
  });

  it('names a payee paid other than the tariff gives: FAIL AMOUNT_MISMATCH', async () => {
    const { indexer } = await paidCycle({ a: '17' });
    expect(await line(indexer)).toEqual([
      'AMOUNT_MISMATCH: producer: the payment pays 17 units, the tariff gives 16 (exact 16/1 plus carry 0/1)',
    ]);
    // Without the operator's carry-in ½ the operator is owed 1.6 → 1 unit, not the 2 paid.
    const noCarry = await paidCycle({ cycle: { ...STATED, carry: { ...STATED.carry, operator: '0/1' } } });
    expect(await line(noCarry.indexer)).toEqual([
      'AMOUNT_MISMATCH: operator: the payment pays 2 units, the tariff gives 1 (exact 8/5 plus carry 0/1)',
    ]);
  });

  it('names a hole between the cycle’s periods: FAIL MISSING_PERIOD', async () => {
    const { indexer } = await paidCycle({}, utc(14, 16, 10));
    expect(await line(indexer)).toEqual([
      'MISSING_PERIOD: period house-1/a ends at 2026-01-14T16:03:00.000Z and the next summary, house-1/b, starts at 2026-01-14T16:10:00.000Z: the periods between are not on the channel',
    ]);
  });

  it('finds no payment for another cycle, and calls a message the indexer lacks yet pending', async () => {
    const { indexer, poster, txs, writer } = await paidCycle();
    expect(await line(indexer, '2026-02')).toEqual([
      'PAYMENT_NOT_FOUND: no included tanglewatt/pay/v1 payment settles cycle 2026-02 by watt1payer in the indexer',
    ]);
    const behind = fakePoster();
    for (const [id, b] of poster.blocks) if (id !== writer.message(1)!.blockId) behind.blocks.set(id, b);
    behind.order.push(...poster.order.filter((id) => behind.blocks.has(id)));
    const payers = new Map([['0xcycle', 'watt1payer']]);
    const at = (indexedMilestone: number): PaymentIndexer => ({
      ...fakeIndexer(behind, txs, payers),
      health: async () => ({ indexedMilestone }),
    });
    // The payment is in milestone 43 (the fake indexer's): pending up to 45, missing after.
    expect((await line(at(45)))[0]).toMatch(
      /^PENDING_INDEX: seq 1: block 0x[0-9a-f]{64} not found .*not indexed yet/,
    );
    expect((await line(at(46)))[0]).toMatch(/^MESSAGE_NOT_FOUND: seq 1: /);
  });
});
