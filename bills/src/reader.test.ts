import { sha256 } from '@noble/hashes/sha2.js';
import {
  didHistorySigners,
  ed25519PublicKey,
  PAYMENT_TAG,
  type SignerResolution,
  toHex,
  utf8ToBytes,
} from '@tanglewatt/channels';
import {
  deterministicRandom,
  type FakePoster,
  type FakeTransactions,
  fakePaymentNode,
  memoryWriter,
  simulatedSamples,
  summaryOf,
} from '@tanglewatt/channels/testing';
import { describe, expect, it } from 'vitest';
import type { LedgerPayment } from './build.js';
import type { BillIndexer } from './indexer-blocks.js';
import { readReadings } from './reader.js';

const T0 = Date.parse('2026-11-24T05:00:00Z');
const HOUR = 3_600_000;
const keys = deterministicRandom('bills reader.test keys');
const oldKey = keys(32);
const newKey = keys(32);
const DID = `did:iota:tst:0x${'12'.repeat(32)}`;
const DID_ORIGIN = `0x${'34'.repeat(34)}`;
/** The milestone that confirmed the DID document listing the new key in place of the old one. */
const ROTATED_AT = 45;
const PAID_AT = 51;

/**
 * Two hourly periods on a public channel: the first signed with the meter's first key (referenced at
 * milestone 40), then the key rotated and the second signed with the new one (referenced at 50). Each is
 * paid in its own transaction naming its messages, the DID and the key that signed them.
 */
async function rotatedMeter() {
  const { writer, poster } = await memoryWriter(oldKey, 'public');
  const samples = simulatedSamples(240, T0, 30_000);
  const milestones = new Map<string, number>();
  const txs: FakeTransactions = new Map();
  const payments: LedgerPayment[] = [];
  for (const [p, key] of [oldKey, newKey].entries()) {
    if (p === 1) await writer.rotateSigningKey(newKey);
    const from = T0 + p * HOUR;
    const mine = samples.filter((s) => s.timestampMs >= from && s.timestampMs < from + HOUR);
    for (let i = 0; i < mine.length; i += 40) {
      writer.addSamples(mine.slice(i, i + 40));
      if (i + 40 < mine.length) await writer.flush();
    }
    const summary = summaryOf(`meter-1/${p}`, mine, from, from + HOUR);
    const closed = await writer.closePeriod(summary);
    for (const id of poster.order) if (!milestones.has(id)) milestones.set(id, p === 0 ? 40 : 50);
    const transactionId = `0xtx${p}`;
    const description = {
      k: `meter-1/${p}`,
      o: 0,
      a: '1000',
      periodId: `meter-1/${p}`,
      energyMWs: summary.energyMWs.toString(),
      periodStart: new Date(from).toISOString(),
      periodEnd: new Date(from + HOUR).toISOString(),
      readingsHash: closed.root,
      channel: {
        id: writer.channelId,
        publicKey: toHex(ed25519PublicKey(key)),
        fromSeq: closed.fromSeq,
        toSeq: closed.toSeq,
        lastBlockId: writer.message(closed.toSeq)!.blockId!,
        did: DID,
        didOrigin: DID_ORIGIN,
      },
    };
    txs.set(transactionId, { tag: PAYMENT_TAG, data: { v: 1, payments: [description] } });
    payments.push({
      direction: 'sent',
      transactionId,
      blockId: `0x${toHex(sha256(utf8ToBytes(transactionId)))}`,
      milestoneIndex: PAID_AT,
      milestoneTimestamp: (from + HOUR) / 1000,
      counterparty: 'tw1producer',
      amountUnits: 1000n,
      description,
    });
  }
  return { writer, poster, milestones, txs, payments };
}

/** The indexer's answers over the blocks it holds, having indexed up to `indexedMilestone`. */
function indexerOver(
  poster: FakePoster,
  txs: FakeTransactions,
  payments: LedgerPayment[],
  milestones: Map<string, number>,
  indexedMilestone: number,
): BillIndexer {
  const node = fakePaymentNode(poster, txs);
  const notFound = () => Object.assign(new Error('not found'), { status: 404 });
  const txOf = (blockId: string) => payments.find((p) => p.blockId === blockId)?.transactionId;
  return {
    allAddressOutputs: async () => [],
    allTagBlocks: async () => [],
    block: async (blockId: string) => {
      const tx = txOf(blockId);
      return tx ? node.includedBlock(tx) : node.block(blockId).catch(() => Promise.reject(notFound()));
    },
    blockMetadata: async (blockId: string) => {
      const milestoneIndex = txOf(blockId) ? PAID_AT : milestones.get(blockId);
      if (milestoneIndex === undefined || !poster.blocks.has(blockId)) throw notFound();
      return { blockId, milestoneIndex };
    },
    health: async () => ({ indexedMilestone }),
  } as unknown as BillIndexer;
}

/** The meter's DID as the node resolves it: the old key until milestone 45, the new key from then on. */
const resolveDid = async (did: string): Promise<SignerResolution> => ({
  signers: didHistorySigners([
    { fromMilestone: 1, untilMilestone: ROTATED_AT, publicKeys: [ed25519PublicKey(oldKey)] },
    { fromMilestone: ROTATED_AT, publicKeys: [ed25519PublicKey(newKey)] },
  ]),
  source: `${did} (2 document versions)`,
});

describe('readReadings: purchases checked against their readings', () => {
  it('accepts a rotated meter key its DID lists for the time; without the DID it reads NO_SIGNER', async () => {
    const { poster, txs, payments, milestones } = await rotatedMeter();
    const indexer = () => indexerOver(poster, txs, payments, milestones, 60);
    const warnings: string[] = [];
    const readings = await readReadings(indexer(), payments, { resolveDid }, (m) => warnings.push(m));
    expect(payments.map((p) => p.readings)).toEqual(['PASS', 'PASS']);
    expect(readings.map((r) => r.periodId)).toEqual(['meter-1/0', 'meter-1/1']);
    expect(warnings).toEqual([]);

    const plain = payments.map((p) => ({ ...p, readings: undefined }));
    const without: string[] = [];
    await readReadings(indexer(), plain, {}, (m) => without.push(m));
    expect(plain.map((p) => p.readings)).toEqual(['PASS', 'NO_SIGNER']);
    expect(without).toEqual([
      expect.stringMatching(
        /^payment "meter-1\/1": readings NO_SIGNER: the payment's signing key .* names no DID/,
      ),
    ]);
  });

  it('marks a purchase pending while the indexer has not passed its milestone + 2, missing after', async () => {
    const { writer, poster, txs, payments, milestones } = await rotatedMeter();
    // The indexer does not hold the second period's last message (referenced after the payment, say).
    const last = writer.message(writer.blockIndex().at(-1)!.seq)!.blockId!;
    const behind = { ...poster, blocks: new Map(poster.blocks) };
    behind.blocks.delete(last);
    const read = async (indexedMilestone: number) => {
      const lines = payments.map((p) => ({ ...p, readings: undefined as string | undefined }));
      const warnings: string[] = [];
      const indexer = indexerOver(behind, txs, lines, milestones, indexedMilestone);
      await readReadings(indexer, lines, { resolveDid }, (m) => warnings.push(m));
      return { codes: lines.map((l) => l.readings), warnings };
    };
    const early = await read(PAID_AT + 2);
    expect(early.codes).toEqual(['PASS', 'PENDING_INDEX']);
    expect(early.warnings).toEqual([
      expect.stringMatching(
        /^payment "meter-1\/1": readings pending: seq \d+: block 0x[0-9a-f]{64} not found .*; not indexed yet: the payment is in milestone 51 and the indexer has reached milestone 53/,
      ),
    ]);
    expect((await read(PAID_AT + 3)).codes).toEqual(['PASS', 'MESSAGE_NOT_FOUND']);
  });
});
