import { paymentRequest as paymentRequestSchema } from '@tanglewatt/contract';
import {
  type BuildTransactionRequest,
  bech32ToHex,
  type LedgerClient,
  MnemonicSigner,
  type NodeApi,
  NodeRequestError,
  type OutputSummary,
  outputIdOf,
  type SignedTransaction,
} from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { paymentKindOn } from './payment-kind.js';
import { PaymentsStore } from './payments-store.js';
import { Settlement } from './settlement.js';
import { storeDir, testSettlementNetwork } from './testing/payments.js';
import type { WalletLedger } from './wallet-ledger.js';

// Development-only mnemonic of hornet-config/profiles/development.json: the fakes never sign anything.
const signer = new MnemonicSigner(
  'exhaust foot tenant enemy bulb naive piece snack diamond sibling accuse limit laundry struggle dentist sell split silent shallow loud tube net sand tenant',
);
const [payer, producer, operator, grid] = await signer.addresses({ count: 4, bech32Hrp: 'watt' });
const hex32 = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const notFound = (path: string) => new NodeRequestError(404, path, 'not found');
const network = testSettlementNetwork();

/** A settlement over one plain output of 10 M units, with a client that records what it is asked to sign. */
async function harness() {
  const store = await PaymentsStore.open(await storeDir('shares-'));
  const signed: BuildTransactionRequest[] = [];
  const funding: OutputSummary = {
    outputId: outputIdOf(hex32(1001), 0),
    type: 3,
    amount: 10_000_000n,
    ownerHex: bech32ToHex(payer!).toLowerCase(),
    hasNativeTokens: false,
    isSpent: false,
    milestoneIndexBooked: 1,
    transactionId: hex32(1001),
    outputIndex: 0,
  };
  const client = {
    async signTransaction(request: BuildTransactionRequest): Promise<SignedTransaction> {
      signed.push(request);
      return {
        transactionId: hex32(7),
        payloadJson: JSON.stringify({ type: 6, essence: { outputs: [...request.outputs, {}] } }),
        outputAmounts: request.outputs.map((o) => o.amount),
        blockBytes: 1_000,
      };
    },
    postTransaction: async () => hex32(501),
    promote: async () => hex32(900),
  } as unknown as LedgerClient;
  const api = {
    includedBlockMetadata: async (id: string) => {
      throw notFound(`/transactions/${id}/included-block/metadata`);
    },
    blockMetadata: async (id: string) => ({ blockId: id, parents: [], isSolid: true }),
    includedBlock: async (id: string) => {
      throw notFound(`/transactions/${id}/included-block`);
    },
    outputMetadata: async (id: string) => {
      if (id !== funding.outputId) throw notFound(`/outputs/${id}/metadata`);
      return {
        blockId: hex32(0),
        transactionId: hex32(1001),
        outputIndex: 0,
        isSpent: false,
        ledgerIndex: 1,
      };
    },
  } as unknown as NodeApi;
  const ledger = {
    ledgerIndex: 1,
    caughtUp: true,
    addressHex: funding.ownerHex,
    all: () => [funding],
    spendable: () => [funding],
    claimable: () => [],
  } as unknown as WalletLedger;
  const quiet = () => undefined;
  const log = { info: quiet, warn: quiet, error: quiet, debug: quiet } as unknown as Logger;
  const settlement = new Settlement({ store, ledger, client, api, signer, address: payer!, ...network, log });
  return { store, settlement, signed };
}

/** The request a meter agent sends under a tariff: the producer's units, the operator's and the grid's. */
const split = (gridAmount = '30000') =>
  paymentRequestSchema.parse({
    idempotencyKey: 'house-7/2026-01-14T15:58:00.000Z',
    to: producer,
    amount: '160000',
    metadata: { periodId: 'house-7/2026-01-14T15:58:00.000Z', tariff: { id: 'community', version: '1' } },
    shares: [
      { role: 'operator', to: operator, amount: '16000' },
      { role: 'grid', to: grid, amount: gridAmount },
    ],
  });

const kinds = (request: ReturnType<typeof split>) => ({
  ...paymentKindOn(network.rent, payer!, request.to, BigInt(request.amount)),
  shares: request.shares!.map((s) => paymentKindOn(network.rent, payer!, s.to, BigInt(s.amount))),
});

describe('a payment with shares', () => {
  it('pays the producer, the operator and the grid as three outputs of one transaction', async () => {
    const h = await harness();
    const request = split();
    await h.store.request(request, kinds(request));
    await h.settlement.tick();

    expect(h.signed).toHaveLength(1);
    const tx = h.signed[0]!;
    // 160,000, 16,000 and 30,000 are each at least a basic output's deposit here: three basic outputs.
    expect(tx.outputs).toEqual([
      { kind: 'basic', address: producer, amount: 160_000n },
      { kind: 'basic', address: operator, amount: 16_000n },
      { kind: 'basic', address: grid, amount: 30_000n },
    ]);
    const description = JSON.parse(tx.data!) as { payments: Record<string, unknown>[] };
    expect(description.payments).toHaveLength(1);
    expect(description.payments[0]).toMatchObject({
      k: request.idempotencyKey,
      o: 0,
      a: '160000',
      tariff: { id: 'community', version: '1' },
      shares: [
        { role: 'operator', o: 1, a: '16000', to: operator },
        { role: 'grid', o: 2, a: '30000', to: grid },
      ],
    });
    const payment = h.store.get(request.idempotencyKey)!;
    expect(payment.state).toBe('submitted');
    expect(payment.outputId).toBe(outputIdOf(hex32(7), 0));
    expect(payment.shares?.map((s) => [s.role, s.amount, s.outputId])).toEqual([
      ['operator', '16000', outputIdOf(hex32(7), 1)],
      ['grid', '30000', outputIdOf(hex32(7), 2)],
    ]);
    expect(h.store.openTransactions()[0]!.outputIndexes).toEqual([0]);
  });

  it('sends a share below a basic deposit as a micro-payment, like a payment of that amount', async () => {
    const h = await harness();
    const request = split('3');
    await h.store.request(request, kinds(request));
    await h.settlement.tick();
    const gridOutput = h.signed[0]!.outputs[2]!;
    const deposit = BigInt(h.store.get(request.idempotencyKey)!.shares![1]!.depositUnits!);
    expect(gridOutput).toMatchObject({
      kind: 'micro',
      address: grid,
      amount: deposit + 3n,
      returnAmount: deposit,
    });
  });

  it('keys the whole request: the same shares answer the same payment, other shares are refused', async () => {
    const h = await harness();
    const request = split();
    expect((await h.store.request(request, kinds(request))).created).toBe(true);
    expect((await h.store.request(request, kinds(request))).created).toBe(false);
    const other = split('30001');
    await expect(h.store.request(other, kinds(other))).rejects.toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
    });
  });

  it('refuses two shares of one role and a share of 0 units', () => {
    const base = { idempotencyKey: 'k', to: producer, amount: '5' };
    const twice = paymentRequestSchema.safeParse({
      ...base,
      shares: [
        { role: 'grid', to: grid, amount: '1' },
        { role: 'grid', to: operator, amount: '1' },
      ],
    });
    expect(twice.success ? '' : twice.error.issues[0]!.message).toBe('each role at most once');
    const zero = paymentRequestSchema.safeParse({
      ...base,
      shares: [{ role: 'grid', to: grid, amount: '0' }],
    });
    expect(zero.success ? '' : zero.error.issues[0]!.message).toBe('more than 0 base units');
  });
});
