import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MilestoneChanges, NodeApi } from '@tanglewatt/ledger';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { WalletLedger } from './wallet-ledger.js';

const OURS = `0x${'ab'.repeat(32)}`;
const tx = (n: number) => `0x${String(n).padStart(64, '0')}`;

/** A node at confirmed milestone 3 whose milestones 2 and 3 each pay our address once (unless told otherwise). */
function fakeNode(
  created: Record<number, string[]> = { 1: [], 2: [`${tx(2)}0000`], 3: [`${tx(3)}0000`] },
  consumed: Record<number, string[]> = {},
): NodeApi {
  return {
    info: async () => ({ status: { confirmedMilestone: { index: 3 }, pruningIndex: 0 } }),
    milestoneByIndex: async (index: number) => ({ index, timestamp: 1_800_000_000 + index }),
    utxoChangesByIndex: async (index: number) => ({
      index,
      createdOutputs: created[index] ?? [],
      consumedOutputs: consumed[index] ?? [],
    }),
    output: async (id: string) => ({
      output: {
        type: 3,
        amount: '5000',
        unlockConditions: [{ type: 0, address: { type: 0, pubKeyHash: OURS } }],
      },
      metadata: {
        isSpent: false,
        milestoneIndexBooked: Number(id.slice(2, 66)),
        transactionId: id.slice(0, 66),
        outputIndex: 0,
      },
    }),
  } as unknown as NodeApi;
}

describe('the wallet ledger view and what reads its milestones', () => {
  it('has a milestone read again when an observer fails, so nothing it would record is lost', async () => {
    const ledger = await WalletLedger.open({
      dataDir: await mkdtemp(join(tmpdir(), 'ledger-observers-')),
      api: fakeNode(),
      addressHex: OURS,
      initialOutputs: [],
      scanFromMilestone: 1,
      log: pino({ level: 'silent' }),
    });
    const seen: number[] = [];
    let failOnce = true;
    ledger.onMilestoneRead(async (changes: MilestoneChanges) => {
      if (changes.index === 2 && failOnce) {
        failOnce = false;
        throw new Error('the disk refused the record');
      }
      seen.push(changes.index);
    });
    await expect(ledger.catchUp()).rejects.toThrow('the disk refused the record');
    // Milestone 2 is not counted as read: its output is not in the view either.
    expect(ledger.ledgerIndex).toBe(1);
    expect(ledger.all()).toEqual([]);
    await ledger.catchUp();
    expect(seen).toEqual([1, 2, 3]);
    expect(ledger.ledgerIndex).toBe(3);
    expect(ledger.all().map((o) => o.outputId)).toEqual([`${tx(2)}0000`, `${tx(3)}0000`]);
    await ledger.stop();
  });

  it('never lists an output created and spent within one milestone, and tells who spends ours of it', async () => {
    // Milestone 3 spends the output of milestone 2 and, in a second transaction on that one's change, the
    // change itself: only the last change is left.
    const [first, change, last] = [`${tx(2)}0000`, `${tx(3)}0000`, `${tx(4)}0000`];
    const ledger = await WalletLedger.open({
      dataDir: await mkdtemp(join(tmpdir(), 'ledger-observers-')),
      api: fakeNode({ 2: [first], 3: [change, last] }, { 3: [first, change] }),
      addressHex: OURS,
      initialOutputs: [],
      scanFromMilestone: 1,
      log: pino({ level: 'silent' }),
    });
    const spent: string[][] = [];
    ledger.onOwnOutputsSpent(async (ids) => void spent.push(ids));
    await ledger.catchUp();
    expect(ledger.all().map((o) => o.outputId)).toEqual([last]);
    expect(spent).toEqual([[first, change]]);
    await ledger.stop();
  });
});
