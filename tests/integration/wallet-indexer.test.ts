import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Balance, Payment, ReceivedPayment } from '@tanglewatt/contract';
import {
  ensureBinaries,
  isRunning,
  type RunningIndexer,
  startIndexer,
  stopIndexer,
} from '@tanglewatt/deploy';
import { IndexerApi, NodeApi, type OutputSummaryJson } from '@tanglewatt/ledger';
import type { Book } from '@tanglewatt/market';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fundedAccount } from '../support/accounts.js';
import { api, startTestWallet, type TestWallet } from '../support/wallets.js';

const tangle = inject('tangle');
type MarketBook = Book & { ledgerIndex: number };
const node = new NodeApi(tangle.nodes[0]!.restUrl);
const log = pino({ level: 'warn' });

const balanceOf = async (w: TestWallet) => (await api<Balance>(w, 'GET', '/balance')).body;
const received = async (w: TestWallet) =>
  (await api<{ items: ReceivedPayment[]; total: number }>(w, 'GET', '/received-payments?limit=100')).body;
const included = (w: TestWallet, key: string) => w.service.store.get(key)?.state === 'included';

// Two wallet-services that read the ledger from a community indexer of their own beside node 1 (the
// node then serves only their own transactions), through a payment, its inclusion, a micro-payment's claim,
// and the indexer killed and started again while they run.
describe('wallet-services reading their ledger from the community indexer', { timeout: 300_000 }, () => {
  let indexerDir: string;
  let binary: string;
  let indexer: RunningIndexer;
  let apiPort: number;
  let payer: TestWallet;
  let payee: TestWallet;

  const startOurIndexer = () =>
    startIndexer({ binary, inxAddress: `127.0.0.1:${tangle.ports.inx}`, dataDir: indexerDir, apiPort });

  beforeAll(async () => {
    indexerDir = await mkdtemp(join(tmpdir(), 'tanglewatt-wallet-indexer-'));
    const binaries = await ensureBinaries({ log });
    binary = binaries['tanglewatt-indexer']!;
    indexer = await startIndexer({
      binary,
      inxAddress: `127.0.0.1:${tangle.ports.inx}`,
      dataDir: indexerDir,
    });
    apiPort = Number(new URL(indexer.url).port);
    // The indexer's first start reads the node's unspent outputs (the genesis funds among them).
    const confirmed = (await node.info()).status.confirmedMilestone.index;
    const health = () => new IndexerApi(indexer.url).health();
    for (let i = 0; (await health()).indexedMilestone <= confirmed; i++) {
      if (i > 240) throw new Error('the indexer did not reach the node within 60 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    payer = await startTestWallet(tangle, { slot: 45, indexerUrl: indexer.url });
    payee = await startTestWallet(tangle, {
      slot: 46,
      indexerUrl: indexer.url,
      claimSchedule: '*/2 * * * * *',
    });
  });

  afterAll(async () => {
    await payer?.service.stop();
    await payee?.service.stop();
    if (indexer) await stopIndexer(indexer);
    await rm(indexerDir, { recursive: true, force: true });
  });

  it('sees its genesis balance from the indexer', async () => {
    const funds = await fundedAccount(tangle, 45);
    await expect
      .poll(async () => (await balanceOf(payer)).availableUnits, { timeout: 30_000 })
      .toBe(funds.amount.toString());
    expect(payer.service.ledger.all().map((o) => o.outputId)).toEqual([funds.outputId]);
  });

  it('pays, sees the inclusion, and the payee receives and claims a micro-payment', async () => {
    const plain = await api<Payment>(payer, 'POST', '/payments', {
      idempotencyKey: 'wallet-indexer/plain',
      to: payee.service.address,
      amount: '1000000',
    });
    expect(plain.status).toBe(202);
    const micro = await api<Payment>(payer, 'POST', '/payments', {
      idempotencyKey: 'wallet-indexer/micro',
      to: payee.service.address,
      amount: '7',
    });
    expect(micro.body.micro).toBe(true);
    await expect
      .poll(() => included(payer, 'wallet-indexer/plain') && included(payer, 'wallet-indexer/micro'), {
        timeout: 60_000,
      })
      .toBe(true);
    await expect.poll(async () => (await received(payee)).total, { timeout: 60_000 }).toBe(2);
    const small = async () => (await received(payee)).items.find((p) => p.key === 'wallet-indexer/micro');
    expect(await small()).toMatchObject({ amountUnits: '7', micro: true, from: payer.service.address });
    await expect.poll(async () => (await small())?.claim, { timeout: 60_000, interval: 500 }).toBe('claimed');
    // The explorer's lookup of another address goes through the indexer.
    const lookup = await api<{ items: OutputSummaryJson[]; seenSinceMilestone: number | null }>(
      payer,
      'GET',
      `/node/addresses/${payee.service.address}`,
    );
    expect(lookup.body.seenSinceMilestone).toBeNull();
    expect(lookup.body.items.some((o) => o.amount === '1000000')).toBe(true);
  });

  it('rebuilds the same market book from the indexer’s market blocks in both wallets', async () => {
    const window = { startMs: Date.now(), endMs: Date.now() + 3_600_000 };
    const sell = await api<{ messageId: string; blockId: string }>(payee, 'POST', '/market/sell', {
      energyWh: 1_000,
      priceUnitsPerWh: '10',
      window,
      minLotWh: 1,
    });
    expect(sell.status).toBe(202);
    const buy = await api<{ messageId: string; blockId: string }>(payer, 'POST', '/market/buy', {
      energyWh: 400,
      maxPriceUnitsPerWh: '12',
      window,
    });
    expect(buy.status).toBe(202);
    const referenced = await Promise.all(
      [sell.body.blockId, buy.body.blockId].map((id) => node.waitForReferenced(id)),
    );
    const target = Math.max(...referenced.map((m) => m.referencedByMilestoneIndex!));
    const bookOf = async (w: TestWallet) => (await api<MarketBook>(w, 'GET', '/market')).body;
    // The book matches an order once its "now" (the latest milestone's time) has passed the order's time.
    for (const w of [payer, payee])
      await expect
        .poll(
          async () => {
            const book = await bookOf(w);
            return book.ledgerIndex >= target && book.trades.length > 0;
          },
          { timeout: 60_000 },
        )
        .toBe(true);
    const [a, b] = await Promise.all([bookOf(payer), bookOf(payee)]);
    expect({ orders: a.orders, trades: a.trades }).toEqual({ orders: b.orders, trades: b.trades });
    expect(a.trades).toHaveLength(1);
    expect(a.trades[0]).toMatchObject({ energyWh: 400 });
  });

  it('survives the indexer killed and started again: reads resume, nothing is paid twice', async () => {
    process.kill(indexer.process.pid, 'SIGKILL');
    await expect.poll(() => isRunning(indexer.process), { timeout: 5_000 }).toBe(false);
    // Paid while the indexer is gone: settlement posts to the node, which the indexer does not stand in for.
    for (const n of [1, 2, 3])
      await api<Payment>(payer, 'POST', '/payments', {
        idempotencyKey: `wallet-indexer/away-${n}`,
        to: payee.service.address,
        amount: String(100_000 * n),
      });
    await new Promise((r) => setTimeout(r, 5_000));
    indexer = await startOurIndexer();
    const keys = [1, 2, 3].map((n) => `wallet-indexer/away-${n}`);
    await expect
      .poll(() => keys.every((k) => included(payer, k)), { timeout: 120_000, interval: 500 })
      .toBe(true);
    // Each key paid by exactly one included transaction, and received once.
    for (const key of keys) {
      const p = payer.service.store.get(key)!;
      const meta = await node.includedBlockMetadata(p.transactionId!);
      expect(meta.ledgerInclusionState).toBe('included');
    }
    await expect
      .poll(async () => (await received(payee)).items.filter((p) => keys.includes(p.key ?? '')).length, {
        timeout: 60_000,
      })
      .toBe(3);
    const receivedKeys = (await received(payee)).items.map((p) => p.key);
    expect(new Set(receivedKeys).size).toBe(receivedKeys.length);
    // The views caught up with the indexer: every output they hold is unspent on the node.
    const confirmed = (await node.info()).status.confirmedMilestone.index;
    await expect
      .poll(() => payer.service.ledger.ledgerIndex, { timeout: 30_000 })
      .toBeGreaterThanOrEqual(confirmed);
    const spentButHeld = async () => {
      let n = 0;
      for (const w of [payer, payee])
        for (const o of w.service.ledger.all()) if ((await node.outputMetadata(o.outputId)).isSpent) n++;
      return n;
    };
    await expect.poll(spentButHeld, { timeout: 30_000, interval: 1_000 }).toBe(0);
    const paidAway = keys.reduce((sum, k) => sum + BigInt(payer.service.store.get(k)!.amount), 0n);
    expect(paidAway).toBe(600_000n);
  });
});
