import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BlockJson,
  bech32ToHex,
  generateMnemonic,
  LedgerError,
  type MilestoneChanges,
  MnemonicSigner,
  type NodeApi,
  type OutputSummary,
} from '@tanglewatt/ledger';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { ReceivedPayments, signerAddressHex } from './received.js';
import { PAYMENT_TAG } from './settlement.js';
import { basicOutput, transactionBlock } from './testing/blocks.js';

const log = pino({ level: 'silent' });
let ours: string;
let payer: { address: string; publicKey: string };

beforeAll(async () => {
  const signer = new MnemonicSigner(generateMnemonic());
  const [a, b] = await signer.addresses({ count: 2, bech32Hrp: 'watt' });
  ours = bech32ToHex(a!).toLowerCase();
  const { publicKey } = await signer.signEd25519(new Uint8Array([1]), { addressIndex: 1 });
  payer = { address: b!, publicKey };
});

const tx = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const out = (txId: string, index: number) => `${txId}${index.toString(16).padStart(2, '0')}00`;

function output(
  txId: string,
  index: number,
  amount: bigint,
  extra: Partial<OutputSummary> = {},
): OutputSummary {
  return {
    outputId: out(txId, index),
    type: 3,
    amount,
    ownerHex: ours,
    hasNativeTokens: false,
    isSpent: false,
    milestoneIndexBooked: 10,
    transactionId: txId,
    outputIndex: index,
    ...extra,
  };
}

/** A transaction block as HORNET returns it: signed by `publicKey`, described under the payment tag. */
function block(publicKey: string, description?: unknown): BlockJson {
  return transactionBlock({
    inputs: [],
    outputs: [basicOutput(ours, '9'), basicOutput(ours, '9')],
    description: description || undefined,
    unlocks: [{ type: 0, signature: { type: 0, publicKey, signature: '0x00' } }],
  });
}

function fakeNode(blocks: Map<string, BlockJson>): NodeApi {
  const find = (id: string) => {
    const b = blocks.get(id);
    if (!b) throw new LedgerError('NOT_FOUND', `transaction ${id} not found`);
    return b;
  };
  return {
    includedBlock: async (id: string) => find(id),
    includedBlockMetadata: async (id: string) => {
      find(id);
      return { blockId: `0x${'b'.repeat(62)}${id.slice(-2)}` };
    },
    milestoneByIndex: async (index: number) => ({ index, timestamp: 1_700_000_000 + index }),
  } as unknown as NodeApi;
}

async function open(blocks: Map<string, BlockJson>, dir?: string, own: Set<string> = new Set()) {
  const dataDir = dir ?? (await mkdtemp(join(tmpdir(), 'received-')));
  const history = await ReceivedPayments.open(dataDir, {
    api: fakeNode(blocks),
    addressHex: ours,
    bech32Hrp: 'watt',
    paymentTag: PAYMENT_TAG,
    ownTransaction: (id) => own.has(id),
    log,
  });
  return { history, dataDir };
}

const milestone = (index: number, created: OutputSummary[], consumed: string[] = []): MilestoneChanges => ({
  index,
  timestamp: 1_700_000_000 + index,
  created,
  consumed,
});

describe('received payments', () => {
  it('takes the sender from the transaction signature: the address the key hashes to', () => {
    expect(signerAddressHex(block(payer.publicKey))).toBe(bech32ToHex(payer.address).toLowerCase());
  });

  it("lists a payment with its sender, the payer's key and period, exact amount and milestone", async () => {
    const t = tx(1);
    const big = 18_446_744_073_709_551_615n;
    const { history } = await open(
      new Map([
        [
          t,
          block(payer.publicKey, {
            v: 1,
            payments: [
              { k: 'period-7', o: 1, a: big.toString(), periodId: 'meter-1/7', energyMWs: '3600000' },
            ],
          }),
        ],
      ]),
    );
    const seen: string[] = [];
    history.on('received', (p) => seen.push(p.outputId));
    await history.noteMilestone(milestone(10, [output(t, 1, big)]));
    const page = history.list({ limit: 10 })!;
    expect(page.items).toEqual([
      {
        outputId: out(t, 1),
        transactionId: t,
        blockId: `0x${'b'.repeat(62)}01`,
        milestoneIndex: 10,
        milestoneTimestamp: 1_700_000_010,
        amountUnits: '18446744073709551615',
        from: payer.address,
        key: 'period-7',
        metadata: { periodId: 'meter-1/7', energyMWs: '3600000' },
        micro: false,
      },
    ]);
    expect(seen).toEqual([out(t, 1)]);
  });

  it('leaves out what this wallet sent itself: change, claims, and transactions of another copy of it', async () => {
    const [own, copy, theirs] = [tx(2), tx(3), tx(16)];
    // A transaction this store signed (change, a claim), and one signed with our key elsewhere.
    const ourKey = (await new MnemonicSigner(generateMnemonic()).signEd25519(new Uint8Array([1]), {}))
      .publicKey;
    const blocks = new Map([
      [copy, block(ourKey)],
      [theirs, block(payer.publicKey)],
    ]);
    const history = await ReceivedPayments.open(await mkdtemp(join(tmpdir(), 'received-')), {
      api: fakeNode(blocks),
      addressHex: signerAddressHex(block(ourKey))!,
      bech32Hrp: 'watt',
      paymentTag: PAYMENT_TAG,
      ownTransaction: (id) => id === own,
      log,
    });
    const owner = { ownerHex: signerAddressHex(block(ourKey))! };
    await history.noteMilestone(
      milestone(10, [output(own, 0, 5n, owner), output(copy, 0, 6n, owner), output(theirs, 0, 7n, owner)]),
    );
    expect(history.list({ limit: 10 })!.items.map((p) => p.transactionId)).toEqual([theirs]);
  });

  it('lists a micro-payment less its deposit, and follows it to claimed, expired or returned', async () => {
    const [a, b, c] = [tx(4), tx(5), tx(6)];
    const micro = (t: string, expiresAt: number) =>
      output(t, 0, 5_061n, {
        depositReturn: { addressHex: bech32ToHex(payer.address).toLowerCase(), amount: 5_060n },
        expiration: { addressHex: bech32ToHex(payer.address).toLowerCase(), unixTime: expiresAt },
      });
    const blocks = new Map([a, b, c].map((t) => [t, block(payer.publicKey)]));
    const { history, dataDir } = await open(blocks);
    const announced: string[] = [];
    history.on('received', (p) => announced.push(`${p.transactionId}:${p.settledAt?.milestoneIndex ?? '-'}`));
    await history.noteMilestone(
      milestone(10, [micro(a, 1_700_000_100), micro(b, 1_700_000_050), micro(c, 1_800_000_000)]),
    );
    // a: spent at milestone 20 (t = …020), before its expiry: our claim. b: spent at …060, after: returned.
    await history.noteMilestone(milestone(20, [], [out(a, 0)]));
    await history.noteMilestone(milestone(60, [], [out(b, 0)]));
    const claims = (now: number) =>
      Object.fromEntries(history.list({ limit: 10 }, now)!.items.map((p) => [p.transactionId, p.claim]));
    // Each announced when it arrived, and again when its output was spent.
    expect(announced).toEqual([`${a}:-`, `${b}:-`, `${c}:-`, `${a}:20`, `${b}:60`]);
    expect(claims(1_700_000_000)).toEqual({ [a]: 'claimed', [b]: 'returned', [c]: 'unclaimed' });
    expect(claims(1_800_000_000)).toEqual({ [a]: 'claimed', [b]: 'returned', [c]: 'expired' });
    const first = history.list({ limit: 10 })!.items.find((p) => p.transactionId === a)!;
    expect(first).toMatchObject({
      amountUnits: '1',
      depositUnits: '5060',
      micro: true,
      settledAtMilestone: 20,
    });

    // The same after a restart, from the journal.
    await history.close();
    const again = (await open(new Map(), dataDir)).history;
    expect(
      Object.fromEntries(
        again.list({ limit: 10 }, 1_700_000_000)!.items.map((p) => [p.transactionId, p.claim]),
      ),
    ).toEqual({ [a]: 'claimed', [b]: 'returned', [c]: 'unclaimed' });
  });

  it('records a milestone read twice (a crash before the ledger view saved it) once', async () => {
    const t = tx(7);
    const { history, dataDir } = await open(new Map([[t, block(payer.publicKey)]]));
    await history.noteMilestone(milestone(10, [output(t, 0, 7n)]));
    await history.noteMilestone(milestone(10, [output(t, 0, 7n)]));
    await history.close();
    const again = (await open(new Map(), dataDir)).history;
    expect(again.list({ limit: 10 })!.total).toBe(1);
  });

  it('keeps a payment whose transaction the node pruned, without a sender', async () => {
    const t = tx(8);
    const { history } = await open(new Map());
    await history.noteMilestone(milestone(10, [output(t, 0, 7n)]));
    const [p] = history.list({ limit: 10 })!.items;
    expect(p).toMatchObject({ amountUnits: '7', transactionId: t });
    expect(p!.from).toBeUndefined();
  });

  it('pages newest first by milestone with a cursor, and refuses an unknown cursor', async () => {
    const ids = [9, 10, 11, 12, 13].map(tx);
    const { history } = await open(new Map(ids.map((t) => [t, block(payer.publicKey)])));
    for (const [i, t] of ids.entries())
      await history.noteMilestone(
        milestone(100 - i, [output(t, 0, BigInt(i + 1), { milestoneIndexBooked: 100 - i })]),
      );
    const first = history.list({ limit: 2 })!;
    expect(first.items.map((p) => p.milestoneIndex)).toEqual([100, 99]);
    const second = history.list({ limit: 2, before: first.next! })!;
    expect(second.items.map((p) => p.milestoneIndex)).toEqual([98, 97]);
    const last = history.list({ limit: 2, before: second.next! })!;
    expect(last.items.map((p) => p.milestoneIndex)).toEqual([96]);
    expect(last.next).toBeNull();
    expect(history.list({ limit: 2, before: out(tx(99), 0) })).toBeUndefined();
  });

  it('begins a new history from the wallet’s unspent outputs, once', async () => {
    const t = tx(14);
    const { history, dataDir } = await open(new Map([[t, block(payer.publicKey)]]));
    await history.beginFrom([output(t, 0, 42n, { milestoneIndexBooked: 3 })], 30);
    expect(history.beganAt).toBe(30);
    const [p] = history.list({ limit: 10 })!.items;
    expect(p).toMatchObject({ amountUnits: '42', milestoneIndex: 3, milestoneTimestamp: 1_700_000_003 });
    await history.close();
    const again = (await open(new Map(), dataDir)).history;
    await again.beginFrom([output(tx(15), 0, 1n)], 40);
    expect(again.beganAt).toBe(30);
    expect(again.list({ limit: 10 })!.total).toBe(1);
  });
});
