import { LedgerClient } from '@tanglewatt/ledger';
import { type Book, messageIdOf, type SignedMessage } from '@tanglewatt/market';
import { MARKET_TAG } from '@tanglewatt/wallet-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForProgress } from '../support/progress.js';
import { sharedTangle, stopServices, windowFromNow } from '../support/shared-tangle.js';
import { api, startTestWallet, type TestWallet } from '../support/wallets.js';

const { tangle, nodeUrl, node } = sharedTangle();

type MarketBook = Book & { ledgerIndex: number };

describe('community market on the real tangle', () => {
  let producer: TestWallet;
  let consumer: TestWallet;
  const client = new LedgerClient(nodeUrl);

  beforeAll(async () => {
    producer = await startTestWallet(tangle, { slot: 7 });
    consumer = await startTestWallet(tangle, { slot: 8 });
  });

  afterAll(async () => {
    await stopServices(producer, consumer);
    await client.destroy();
  });

  it('two independent wallet-services rebuild the same book and trades; a doctored offer is rejected', async () => {
    // Two hours ahead: no other test's order on the shared tangle (theirs start now) can match these.
    const { nowMs } = windowFromNow(0);
    const window = { startMs: nowMs + 7_200_000, endMs: nowMs + 10_800_000 };
    const sell = await api<{ messageId: string; blockId: string; message: SignedMessage }>(
      producer,
      'POST',
      '/market/sell',
      {
        energyWh: 10_000,
        priceUnitsPerWh: '10000',
        window,
        minLotWh: 1,
      },
    );
    expect(sell.status).toBe(202);
    const buy = await api<{ messageId: string; blockId: string }>(consumer, 'POST', '/market/buy', {
      energyWh: 4_000,
      maxPriceUnitsPerWh: '12000',
      window,
    });
    expect(buy.status).toBe(202);
    // The same offer with more energy but the original signature.
    const doctored = {
      ...sell.body.message,
      body: { ...(sell.body.message.body as object), energyWh: 90_000 },
    };
    const doctoredBlock = await client.postTaggedData(MARKET_TAG, JSON.stringify(doctored));
    // The very same offer in a second block (as a wallet-service re-posts one a burst left behind): one offer.
    const copyBlock = await client.postTaggedData(MARKET_TAG, JSON.stringify(sell.body.message));

    const referenced = await Promise.all(
      [sell.body.blockId, buy.body.blockId, doctoredBlock, copyBlock].map((id) => node.waitForReferenced(id)),
    );
    const target = Math.max(...referenced.map((m) => m.referencedByMilestoneIndex!));
    const bookOf = async (w: TestWallet) => (await api<MarketBook>(w, 'GET', '/market')).body;
    const bookReaches = (who: string, w: TestWallet) =>
      waitForProgress({
        what: `${who}'s market book reading up to milestone ${target}`,
        probe: async () => (await bookOf(w)).ledgerIndex,
        done: (index) => index >= target,
        stallMs: 30_000,
        ceilingMs: 300_000,
      });
    await bookReaches('the producer', producer);
    await bookReaches('the consumer', consumer);
    const [a, b] = await Promise.all([bookOf(producer), bookOf(consumer)]);

    const comparable = (book: MarketBook) => ({
      orders: book.orders,
      trades: book.trades,
      rejections: book.rejections,
    });
    expect(comparable(a)).toEqual(comparable(b));

    // A household that joins later reads the market's history from the milestones and gets the same book.
    const latecomer = await startTestWallet(tangle, { slot: 9 });
    try {
      await bookReaches('the latecomer', latecomer);
      expect(comparable(await bookOf(latecomer))).toEqual(comparable(a));
    } finally {
      await latecomer.service.stop();
    }

    // The shared tangle also carries other tests' orders: this test's are the ones its messages name.
    const trades = a.trades.filter((t) => JSON.stringify(t).includes(buy.body.messageId));
    expect(trades).toHaveLength(1);
    expect(trades[0]).toMatchObject({ energyWh: 4_000 });
    expect(JSON.stringify(trades[0])).toContain(sell.body.messageId);
    const rejections = a.rejections.filter((r) => r.messageId === messageIdOf(doctored as SignedMessage));
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toMatchObject({
      reason: 'BAD_SIGNATURE',
      messageId: messageIdOf(doctored as SignedMessage),
    });
  }, 600_000); // an outer bound only: the waits inside fail on a stall

  it('refuses a malformed offer with a 400 naming the field, and needs the token', async () => {
    const bad = await api<{ error: { message: string; field: string } }>(producer, 'POST', '/market/sell', {
      energyWh: -1,
      priceUnitsPerWh: '10',
      window: { startMs: 1, endMs: 2 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('body.energyWh');
    expect((await api(producer, 'POST', '/market/sell', {}, null)).status).toBe(401);
  });
});
