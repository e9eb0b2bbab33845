import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Payment } from '@tanglewatt/contract';
import type { Book } from '@tanglewatt/market';
import { type AgentConfigInput, type AgentHandle, readState, startAgent } from '@tanglewatt/meter-agent';
import { agentConfig, constantLoad } from '@tanglewatt/meter-agent/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fundedAccount } from '../support/accounts.js';
import { outputsCreatedFor } from '../support/ledger-scan.js';
import { sharedTangle, stopServices } from '../support/shared-tangle.js';
import { api, startTestWallet, type TestWallet } from '../support/wallets.js';

const { tangle, node } = sharedTangle();

type MarketBook = Book & { ledgerIndex: number };

/** 1 Wh at 100 000 base units per Wh: every second of delivery (0.1 Wh) is worth more than a deposit. */
const TRADE_WH = 1;
const TRADE_PRICE = '100000';
const TRADE_UNITS = 100_000n;

describe('a market trade delivered, metered and paid by the buyer’s meter-agent', () => {
  let seller: TestWallet;
  let buyer: TestWallet;
  let regularProducer: string;
  let agent: AgentHandle | undefined;
  let dir: string;

  beforeAll(async () => {
    // A market of their own: the other market tests run on the same tangle at the same time.
    const market = { id: 'market-trade-test' };
    seller = await startTestWallet(tangle, { slot: 25, market });
    buyer = await startTestWallet(tangle, { slot: 28, market });
    regularProducer = (await fundedAccount(tangle, 29)).address;
    dir = await mkdtemp(join(tmpdir(), 'tanglewatt-market-trade-'));
  });

  afterAll(async () => {
    await agent?.stop();
    await stopServices(seller, buyer);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function buyerAgentConfig(): AgentConfigInput {
    return agentConfig(join(dir, 'agent'), {
      meterId: 'market-buyer-1',
      parties: { consumer: buyer.service.address, producer: regularProducer },
      // 12 V × 30 A = 360 W: the traded 1 Wh arrives in ten seconds.
      sensors: [constantLoad(12_000, 30_000)],
      sampleIntervalMs: 1000,
      period: { seconds: 20 },
      price: { unitsPerWh: '3000' },
      walletService: { url: buyer.service.url, token: buyer.token },
      prepaid: { enabled: true, relay: { kind: 'simulated' } },
      market: { pollSeconds: 1 },
    });
  }

  it('the agent takes the trade, closes the relay until 1 Wh is in, and the seller is paid exactly its price once', async () => {
    const start = await node.info();
    const now = Date.now();
    const window = { startMs: now - 60_000, endMs: now + 10 * 60_000 };
    const sell = await api<{ messageId: string; blockId: string }>(seller, 'POST', '/market/sell', {
      energyWh: TRADE_WH,
      priceUnitsPerWh: TRADE_PRICE,
      window,
      minLotWh: 1,
    });
    expect(sell.status).toBe(202);
    const buy = await api<{ messageId: string; blockId: string }>(buyer, 'POST', '/market/buy', {
      energyWh: TRADE_WH,
      maxPriceUnitsPerWh: TRADE_PRICE,
      window,
    });
    expect(buy.status).toBe(202);
    await Promise.all([sell.body.blockId, buy.body.blockId].map((id) => node.waitForReferenced(id)));

    agent = await startAgent({ config: buyerAgentConfig(), log: pino({ level: 'warn' }) });

    // The buyer's wallet-service finds the trade on the tangle; the agent takes it and delivers it.
    await expect
      .poll(() => agent!.snapshot().trades?.[0]?.state, { timeout: 60_000, interval: 500 })
      .toBe('delivered');
    const [view] = agent.snapshot().trades!;
    expect(view).toMatchObject({
      seller: seller.service.address,
      energyWh: TRADE_WH,
      creditedMWs: '3600000',
      shortfallMWs: '0',
      owedUnits: TRADE_UNITS.toString(),
    });
    const tradeId = view!.id;

    // Every payment the trade asked for is included on the tangle, and together they are the trade's price.
    await agent.paymentsDrained();
    const keysOf = async () =>
      [...(await readState(join(dir, 'agent'))).trades.get(tradeId)!.dues].map((d) => d.key);
    const included = async () => {
      const payments = await Promise.all(
        (await keysOf()).map(
          async (key) => (await api<Payment>(buyer, 'GET', `/payments/${encodeURIComponent(key)}`)).body,
        ),
      );
      return payments.every((p) => p.state === 'included') ? payments : undefined;
    };
    await expect.poll(included, { timeout: 60_000, interval: 1000 }).toBeDefined();
    const payments = (await included())!;
    expect(payments.every((p) => p.to === seller.service.address)).toBe(true);
    expect(payments.reduce((sum, p) => sum + BigInt(p.amount), 0n)).toBe(TRADE_UNITS);

    // Every household reads the trade's payments off the ledger: the seller sees it paid without the buyer's meter.
    for (const household of [seller, buyer])
      await expect
        .poll(
          async () =>
            (
              await api<
                MarketBook & { settlements: { tradeId: string; paidUnits: string; payments: number }[] }
              >(household, 'GET', '/market')
            ).body.settlements.find((x) => x.tradeId === tradeId),
          { timeout: 30_000, interval: 1000 },
        )
        .toEqual({
          tradeId,
          paidUnits: TRADE_UNITS.toString(),
          payments: payments.length,
          lastMilestoneIndex: Math.max(...payments.map((p) => p.milestoneIndex!)),
        });

    // A restart finds the trade closed and asks for nothing more.
    await agent.stop();
    agent = await startAgent({ config: buyerAgentConfig(), log: pino({ level: 'warn' }) });
    await new Promise((r) => setTimeout(r, 3_000));
    await agent.paymentsDrained();
    expect((await keysOf()).length).toBe(payments.length);

    // On the ledger: the trade's payment transactions gave the seller exactly the trade's price. A due below a
    // deposit goes out as a micro-payment (its deposit goes back to the buyer when the seller claims), so each
    // output counts net of its deposit return; the seller's own claim transactions are not counted.
    const end = await node.info();
    const toSeller = await outputsCreatedFor(
      node,
      seller.service.address,
      start.status.confirmedMilestone.index,
      end.status.confirmedMilestone.index,
    );
    const buyerTransactions = new Set(payments.map((p) => p.transactionId));
    const fromBuyer = toSeller.filter((o) => buyerTransactions.has(o.transactionId));
    expect(fromBuyer.reduce((sum, o) => sum + o.amount - (o.depositReturn?.amount ?? 0n), 0n)).toBe(
      TRADE_UNITS,
    );

    // The periods leave the traded 1 Wh out of the regular producer's payments (once the period that
    // holds the end of the delivery has closed).
    await expect
      .poll(() => agent!.periods(1)[0]?.traded?.totalHalfNJ, { timeout: 30_000, interval: 500 })
      .toBe((3_600_000n * 2_000_000n).toString());
    const periods = agent.periods(1000);
    const traded = periods.reduce((sum, p) => sum + BigInt(p.traded?.halfNJ ?? '0'), 0n);
    expect(traded).toBe(3_600_000n * 2_000_000n);
    for (const p of periods)
      expect(BigInt(p.traded?.halfNJ ?? '0')).toBeLessThanOrEqual(BigInt(p.deliveredHalfNJ));

    // The buyer acknowledged the trade on the market, as both households' books show.
    const acked = async (w: TestWallet) =>
      (await api<MarketBook>(w, 'GET', '/market')).body.acks.some(
        (a) => a.tradeId === tradeId && a.party === 'buyer',
      );
    await expect.poll(() => acked(seller), { timeout: 30_000, interval: 1000 }).toBe(true);
    await expect.poll(() => acked(buyer), { timeout: 30_000, interval: 1000 }).toBe(true);
  }, 180_000);

  it('bounds what the seller may offer next by its paid deliveries on the tangle, in every household', async () => {
    // The trade's payments above are the seller's history: 1 Wh paid for over the trade's window.
    const [trade] = (await api<MarketBook>(buyer, 'GET', '/market')).body.trades.filter(
      (t) => t.seller === seller.service.address && t.buyer === buyer.service.address,
    );
    expect(trade).toBeDefined();
    const now = Date.now();
    const window = { startMs: now, endMs: now + 3_600_000 };
    const tradeWindowMs = trade!.window.endMs - trade!.window.startMs;
    // Peak rate 3 600 000 mW·s over the trade's window, sustained for the hour, in whole Wh.
    const capacityWh = (3_600_000n * 3_600_000n) / (BigInt(tradeWindowMs) * 3_600_000n);
    expect(capacityWh).toBeGreaterThan(1n);
    const over = await api<{ messageId: string; blockId: string }>(seller, 'POST', '/market/sell', {
      energyWh: 100,
      priceUnitsPerWh: TRADE_PRICE,
      window,
      minLotWh: 1,
    });
    const within = await api<{ messageId: string; blockId: string }>(seller, 'POST', '/market/sell', {
      energyWh: Number(capacityWh) - 1,
      priceUnitsPerWh: TRADE_PRICE,
      window,
      minLotWh: 1,
    });
    expect([over.status, within.status]).toEqual([202, 202]);
    const target = Math.max(
      ...(
        await Promise.all([over.body.blockId, within.body.blockId].map((id) => node.waitForReferenced(id)))
      ).map((m) => m.referencedByMilestoneIndex!),
    );
    for (const household of [seller, buyer]) {
      await expect
        .poll(async () => (await api<MarketBook>(household, 'GET', '/market')).body.ledgerIndex >= target, {
          timeout: 30_000,
        })
        .toBe(true);
      const book = (await api<MarketBook>(household, 'GET', '/market')).body;
      const rejection = book.rejections.find((r) => r.messageId === over.body.messageId);
      expect(rejection).toMatchObject({ reason: 'OVER_COMMITTED' });
      expect(rejection!.detail).toContain(`the meter can deliver ${capacityWh} Wh`);
      expect(book.orders.some((o) => o.id === within.body.messageId)).toBe(true);
    }
  }, 120_000);
});
