import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BuildTransactionRequest,
  bech32ToHex,
  type LedgerClient,
  MnemonicSigner,
  type NodeApi,
  NodeRequestError,
  type OutputMetadata,
  type OutputSummary,
  outputIdOf,
  type SignedTransaction,
} from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { PaymentsStore } from './payments-store.js';
import { Settlement } from './settlement.js';
import { basicOutput, transactionBlock } from './testing/blocks.js';
import { testSettlementNetwork } from './testing/payments.js';
import type { WalletLedger } from './wallet-ledger.js';

// Development-only mnemonic of hornet-config/profiles/development.json: the fakes never sign anything.
const mnemonic =
  'exhaust foot tenant enemy bulb naive piece snack diamond sibling accuse limit laundry struggle dentist sell split silent shallow loud tube net sand tenant';
const signer = new MnemonicSigner(mnemonic);
const [payer, payeeA, payeeB, payeeC] = await signer.addresses({ count: 4, bech32Hrp: 'watt' });
const payerHex = bech32ToHex(payer!).toLowerCase();
const hex32 = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
let blocksPosted = 0;
let transactionsSigned = 0;
const notFound = (path: string) => new NodeRequestError(404, path, 'not found');

/** The node's answers for transaction `tx`, included in block `blockId` by milestone `index` (at 1 800 000 000 + index s). */
function includedBy(tx: string, blockId: string, index: number) {
  return {
    includedBlockMetadata: async (id: string) => {
      if (id !== tx) throw notFound(`/transactions/${id}/included-block/metadata`);
      return {
        blockId,
        parents: [],
        isSolid: true,
        referencedByMilestoneIndex: index,
        ledgerInclusionState: 'included' as const,
      };
    },
    milestoneByIndex: async (i: number) =>
      ({ index: i, timestamp: 1_800_000_000 + index }) as Awaited<ReturnType<NodeApi['milestoneByIndex']>>,
  };
}

function plainOutput(n: number, amount: bigint): OutputSummary {
  return {
    outputId: outputIdOf(hex32(1000 + n), 0),
    type: 3,
    amount,
    ownerHex: payerHex,
    hasNativeTokens: false,
    isSpent: false,
    milestoneIndexBooked: 1,
    transactionId: hex32(1000 + n),
    outputIndex: 0,
  };
}

/** The wallet's view of its outputs, as WalletLedger answers it. */
function fakeLedger(outputs: OutputSummary[]): WalletLedger {
  return {
    ledgerIndex: 1,
    caughtUp: true,
    addressHex: payerHex,
    all: () => outputs,
    spendable: () => outputs,
    claimable: () => [],
  } as unknown as WalletLedger;
}

interface Harness {
  settlement: Settlement;
  store: PaymentsStore;
  signed: BuildTransactionRequest[];
  posted: string[];
  logs: string[];
}

async function harness(options: {
  outputs: OutputSummary[];
  /** Block size the fake client reports for a transaction, like the real one measures it. */
  blockBytes?: (request: BuildTransactionRequest) => number;
  api?: Partial<NodeApi>;
  store?: PaymentsStore;
  reattachAfterSeconds?: number;
  linger?: { lingerMs: number; lingerQuietMs: number };
}): Promise<Harness> {
  const store = options.store ?? (await PaymentsStore.open(await mkdtemp(join(tmpdir(), 'settle-'))));
  const signed: BuildTransactionRequest[] = [];
  const posted: string[] = [];
  const logs: string[] = [];
  const client = {
    async signTransaction(request: BuildTransactionRequest): Promise<SignedTransaction> {
      signed.push(request);
      return {
        transactionId: hex32(++transactionsSigned),
        // Our outputs, then the remainder, as the SDK lays them out.
        payloadJson: JSON.stringify({ type: 6, essence: { outputs: [...request.outputs, {}] } }),
        outputAmounts: request.outputs.map((o) => o.amount),
        blockBytes: options.blockBytes?.(request) ?? 1_000,
      };
    },
    async postTransaction(payloadJson: string) {
      posted.push(payloadJson);
      return hex32(500 + ++blocksPosted);
    },
    async promote() {
      return hex32(900);
    },
  } as unknown as LedgerClient;
  const unspent = (outputId: string): OutputMetadata => ({
    blockId: hex32(0),
    transactionId: outputId.slice(0, 66),
    outputIndex: 0,
    isSpent: false,
    milestoneIndexBooked: 1,
    milestoneTimestampBooked: 1_800_000_000,
    ledgerIndex: 1,
  });
  const inputs = new Set(options.outputs.map((o) => o.outputId));
  const api = {
    includedBlockMetadata: async (id: string) => {
      throw notFound(`/transactions/${id}/included-block/metadata`);
    },
    blockMetadata: async (id: string) => ({ blockId: id, parents: [], isSolid: true }),
    // The funding outputs come from transactions the node no longer has (as the genesis).
    includedBlock: async (id: string) => {
      throw notFound(`/transactions/${id}/included-block`);
    },
    outputMetadata: async (id: string) => {
      if (inputs.has(id)) return unspent(id);
      throw notFound(`/outputs/${id}/metadata`);
    },
    ...options.api,
  } as unknown as NodeApi;
  const log = {
    info: (_o: unknown, msg: string) => logs.push(msg),
    warn: (_o: unknown, msg: string) => logs.push(msg),
    error: (_o: unknown, msg: string) => logs.push(msg),
    debug: () => undefined,
  } as unknown as Logger;
  const settlement = new Settlement({
    store,
    ledger: fakeLedger(options.outputs),
    client,
    api,
    signer,
    address: payer!,
    ...testSettlementNetwork({
      ...options.linger,
      ...(options.reattachAfterSeconds === undefined
        ? {}
        : { reattachAfterSeconds: options.reattachAfterSeconds }),
    }),
    log,
  });
  return { settlement, store, signed, posted, logs };
}

const pay = (store: PaymentsStore, key: string, to: string, amount: string) =>
  store.request({ idempotencyKey: key, to, amount }, { micro: false });

const unspentMeta: OutputMetadata = {
  blockId: hex32(0),
  transactionId: hex32(0),
  outputIndex: 0,
  isSpent: false,
  milestoneIndexBooked: 1,
  milestoneTimestampBooked: 1_800_000_000,
  ledgerIndex: 1,
};

describe('Settlement', () => {
  it('a lone payment goes after the quiet time when another free output remains, else waits the linger', async () => {
    const linger = { lingerMs: 60_000, lingerQuietMs: 0 };
    const two = await harness({
      outputs: [plainOutput(1, 10_000_000n), plainOutput(2, 10_000_000n)],
      linger,
    });
    await pay(two.store, 'alone', payeeA!, '10000');
    await two.settlement.tick();
    expect(two.store.get('alone')?.state).toBe('submitted');

    // With one output, a payment arriving next would wait for this transaction's change: keep lingering.
    const one = await harness({ outputs: [plainOutput(3, 10_000_000n)], linger });
    await pay(one.store, 'alone', payeeA!, '10000');
    await one.settlement.tick();
    expect(one.store.get('alone')?.state).toBe('queued');
    expect(one.signed).toHaveLength(0);
  });

  it('halves a batch whose block would be too large until it fits, and pays everything', async () => {
    const h = await harness({
      outputs: [1, 2, 3, 4].map((n) => plainOutput(n, 10_000_000n)),
      blockBytes: (r) => (r.outputs.length > 3 ? 40_000 : 20_000),
    });
    for (let i = 0; i < 10; i++) await pay(h.store, `k${i}`, payeeA!, String(10_000 + i));
    await h.settlement.tick();
    // 10 → 5 → 3 fits; the 7 left → 4 → 2 fits; the 5 left → 3 fits; the last 2 fit.
    expect(h.signed.map((r) => r.outputs.length)).toEqual([10, 5, 3, 7, 4, 2, 5, 3, 2]);
    expect(h.store.openTransactions().map((t) => t.keys.length)).toEqual([3, 2, 3, 2]);
    expect(h.store.list().items.every((p) => p.state === 'submitted')).toBe(true);
  });

  it('a single payment whose block cannot fit fails with the reason; the others are paid', async () => {
    const h = await harness({
      outputs: [plainOutput(1, 10_000_000n), plainOutput(2, 10_000_000n)],
      blockBytes: (r) => (r.outputs.some((o) => o.address === payeeC) ? 40_000 : 2_000),
    });
    await pay(h.store, 'huge-block', payeeC!, '10000');
    await pay(h.store, 'a', payeeA!, '10000');
    await pay(h.store, 'b', payeeB!, '10000');
    await h.settlement.tick();
    expect(h.store.get('huge-block')).toMatchObject({ state: 'failed' });
    expect(h.store.get('huge-block')?.error).toMatch(
      /block would be 40000 bytes, more than the protocol's 32768/,
    );
    expect(h.store.get('a')?.state).toBe('submitted');
    expect(h.store.get('b')?.state).toBe('submitted');
  });

  it('skips a payment it cannot fund and pays the later ones, keeping the reason visible', async () => {
    const h = await harness({ outputs: [plainOutput(1, 100_000n)] });
    await pay(h.store, 'big', payeeA!, '5000000');
    await pay(h.store, 'small', payeeB!, '10000');
    await h.settlement.tick();
    expect(h.store.get('small')?.state).toBe('submitted');
    expect(h.store.get('big')).toMatchObject({
      state: 'queued',
      error: 'waiting for funds: needs 5000000 base units, 100000 spendable now',
    });
  });

  it('fails a payment to an address of another network instead of retrying it forever', async () => {
    const h = await harness({ outputs: [plainOutput(1, 10_000_000n)] });
    const [foreign] = await signer.addresses({ count: 1, bech32Hrp: 'rms' });
    await pay(h.store, 'foreign', foreign!, '10000');
    await pay(h.store, 'home', payeeA!, '10000');
    await h.settlement.tick();
    expect(h.store.get('foreign')?.state).toBe('failed');
    expect(h.store.get('foreign')?.error).toMatch(/^to: not a bech32 Ed25519 address of this network/);
    expect(h.store.get('home')?.state).toBe('submitted');
    expect(h.signed.flatMap((r) => r.outputs.map((o) => o.address))).not.toContain(foreign);
  });

  it('logs the first post as posted, not as re-posted', async () => {
    const h = await harness({ outputs: [plainOutput(1, 10_000_000n)] });
    await pay(h.store, 'a', payeeA!, '10000');
    await h.settlement.tick();
    expect(h.posted).toHaveLength(1);
    expect(h.logs).toContain('transaction posted');
    expect(h.logs).not.toContain('transaction re-posted');
  });

  it('reads inclusion from the transaction outputs when the node no longer knows the transaction', async () => {
    const first = await harness({ outputs: [plainOutput(1, 10_000_000n)] });
    await pay(first.store, 'old', payeeA!, '10000');
    await first.settlement.tick();
    const tx = first.store.openTransactions()[0]!;
    const h = await harness({
      store: first.store,
      outputs: [],
      api: {
        // Pruned: neither the transaction nor its spent inputs are known; its payee output still is.
        outputMetadata: async (id: string) => {
          if (id !== outputIdOf(tx.txId, 0)) throw notFound(`/outputs/${id}/metadata`);
          return {
            blockId: hex32(77),
            transactionId: tx.txId,
            outputIndex: 0,
            isSpent: false,
            milestoneIndexBooked: 40,
            milestoneTimestampBooked: 1_800_000_040,
            ledgerIndex: 90,
          };
        },
      },
    });
    await h.settlement.tick();
    expect(h.store.get('old')).toMatchObject({ state: 'included', milestoneIndex: 40, blockId: hex32(77) });
  });

  it('after losing an input, records what the winning transaction paid and re-issues only the rest', async () => {
    const input = plainOutput(1, 10_000_000n);
    const spare = plainOutput(2, 10_000_000n);
    const first = await harness({ outputs: [input] });
    await pay(first.store, 'a', payeeA!, '10000');
    await pay(first.store, 'b', payeeB!, '20000');
    await first.settlement.tick();
    const lost = first.store.openTransactions()[0]!;
    expect(lost.keys).toEqual(['a', 'b']);

    const winner = hex32(4242);
    const block = transactionBlock({
      outputs: [basicOutput(payerHex, '999'), basicOutput(bech32ToHex(payeeA!), '10000')],
      description: { v: 1, payments: [{ k: 'a', o: 1, a: '10000' }] },
    });
    const h = await harness({
      store: first.store,
      outputs: [spare],
      api: {
        outputMetadata: async (id: string) => {
          if (id === spare.outputId) return { ...unspentMeta, transactionId: spare.transactionId };
          if (id !== input.outputId) throw notFound(`/outputs/${id}/metadata`);
          return {
            blockId: hex32(0),
            transactionId: input.transactionId,
            outputIndex: 0,
            isSpent: true,
            transactionIdSpent: winner,
            milestoneIndexSpent: 50,
            milestoneIndexBooked: 1,
            milestoneTimestampBooked: 1_800_000_000,
            ledgerIndex: 50,
          };
        },
        // The node marks our block conflicting: the input was spent (conflict reason 1).
        blockMetadata: async (id: string) =>
          id === lost.blockIds[0]
            ? {
                blockId: id,
                parents: [],
                isSolid: true,
                referencedByMilestoneIndex: 50,
                ledgerInclusionState: 'conflicting' as const,
                conflictReason: 1,
              }
            : { blockId: id, parents: [], isSolid: true },
        includedBlock: async () => block,
        ...includedBy(winner, hex32(4343), 50),
      },
    });
    await h.settlement.tick();
    expect(h.store.transaction(lost.txId)?.state).toBe('conflicting');
    expect(h.store.get('a')).toMatchObject({
      state: 'included',
      transactionId: winner,
      outputId: outputIdOf(winner, 1),
      milestoneIndex: 50,
    });
    // Only b is paid again, from the spare output.
    expect(h.signed.map((r) => r.outputs.map((o) => o.address))).toEqual([[payeeB]]);
    expect(h.signed[0]!.inputs).toEqual([spare.outputId]);
    expect(h.store.get('b')).toMatchObject({ state: 'submitted', attempts: 2 });
  });

  it('reads a transaction not its own that funded it (another copy of this wallet) before paying anything', async () => {
    const other = hex32(7777);
    const remainder: OutputSummary = {
      ...plainOutput(9, 10_000_000n),
      transactionId: other,
      outputId: outputIdOf(other, 1),
    };
    const block = transactionBlock({
      outputs: [basicOutput(bech32ToHex(payeeA!), '10000'), basicOutput(payerHex, '10000000')],
      description: { v: 1, payments: [{ k: 'a', o: 0, a: '10000' }] },
    });
    const h = await harness({
      outputs: [remainder],
      api: {
        outputMetadata: async (id: string) => ({ ...unspentMeta, transactionId: id.slice(0, 66) }),
        includedBlock: async (id: string) => {
          if (id !== other) throw notFound(`/transactions/${id}/included-block`);
          return block;
        },
        ...includedBy(other, hex32(7878), 33),
      },
    });
    await pay(h.store, 'a', payeeA!, '10000');
    await pay(h.store, 'b', payeeB!, '20000');
    await h.settlement.tick();
    expect(h.store.get('a')).toMatchObject({
      state: 'included',
      transactionId: other,
      outputId: outputIdOf(other, 0),
    });
    expect(h.signed.map((r) => r.outputs.map((o) => o.address))).toEqual([[payeeB]]);
  });

  it('finds a transaction included when its inputs and its first output are pruned but its remainder is not', async () => {
    const first = await harness({ outputs: [plainOutput(1, 10_000_000n)] });
    await pay(first.store, 'a', payeeA!, '10000');
    await pay(first.store, 'b', payeeB!, '10000');
    await first.settlement.tick();
    const tx = first.store.openTransactions()[0]!;
    const remainder = outputIdOf(tx.txId, 2);
    const h = await harness({
      store: first.store,
      outputs: [],
      // Posted long ago, as a transaction the node has pruned since.
      reattachAfterSeconds: 0,
      api: {
        outputMetadata: async (id: string) => {
          if (id !== remainder) throw notFound(`/outputs/${id}/metadata`);
          return { ...unspentMeta, blockId: hex32(66), milestoneIndexBooked: 61, transactionId: tx.txId };
        },
      },
    });
    await h.settlement.tick();
    expect(h.store.get('a')).toMatchObject({ state: 'included', milestoneIndex: 61, attempts: 1 });
    expect(h.store.get('b')).toMatchObject({ state: 'included', milestoneIndex: 61 });
    expect(h.signed).toEqual([]);
  });

  it('a transaction the ledger refuses (not a lost input) is signed once more from fresh inputs, then fails', async () => {
    const h = await harness({
      outputs: [plainOutput(1, 10_000_000n), plainOutput(2, 10_000_000n)],
      api: {
        blockMetadata: async (id: string) => ({
          blockId: id,
          parents: [],
          isSolid: true,
          referencedByMilestoneIndex: 70,
          ledgerInclusionState: 'conflicting' as const,
          conflictReason: 5,
        }),
      },
    });
    await pay(h.store, 'a', payeeA!, '10000');
    for (let i = 0; i < 3; i++) await h.settlement.tick();
    expect(h.posted).toHaveLength(2);
    expect(h.store.get('a')).toMatchObject({
      state: 'failed',
      attempts: 2,
      error: 'the ledger refused its transaction twice: an unlock signature is invalid (conflict reason 5)',
    });
    await h.settlement.tick();
    expect(h.posted).toHaveLength(2);
  });
});
