import { fromHex, type PublishedDid, publishMeterDid } from '@tanglewatt/channels/node';
import { LedgerClient } from '@tanglewatt/ledger';
import { type Book, MarketAuthor, secretKeyFromPhrase } from '@tanglewatt/market';
import { MARKET_TAG } from '@tanglewatt/wallet-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fundedAccount } from '../support/accounts.js';
import { waitForProgress } from '../support/progress.js';
import { sharedTangle, stopServices, windowFromNow } from '../support/shared-tangle.js';
import { api, startTestWallet, type TestWallet } from '../support/wallets.js';

const { tangle, nodeUrl, node } = sharedTangle();
const MARKET = 'market-did-test';

type MarketBook = Book & { ledgerIndex: number };

describe('market identities that are DIDs', () => {
  let seller: TestWallet;
  let buyer: TestWallet;
  let did: PublishedDid;
  const client = new LedgerClient(nodeUrl);

  beforeAll(async () => {
    // The household's DID lists its wallet address's key; another account pays the alias deposit.
    const household = await fundedAccount(tangle, 31);
    const { publicKey } = await household.signer.signEd25519(new Uint8Array(), {
      accountIndex: household.accountIndex,
    });
    const funder = await fundedAccount(tangle, 30);
    did = await publishMeterDid({
      nodeUrl,
      funding: { signer: funder.signer, accountIndex: funder.accountIndex, outputId: funder.outputId },
      publicKey: fromHex(publicKey.replace(/^0x/, ''), 32),
    });
    seller = await startTestWallet(tangle, {
      slot: 31,
      market: { id: MARKET, did: { did: did.did, originOutputId: did.originOutputId } },
    });
    buyer = await startTestWallet(tangle, { market: { id: MARKET } });
  }, 120_000);

  afterAll(async () => {
    await stopServices(seller, buyer);
    await client.destroy();
  });

  it('trades as the DID, pays to the wallet address, and refuses a key the DID does not list', async () => {
    const { nowMs: now, window } = windowFromNow(3_600_000);
    const sell = await api<{ messageId: string; blockId: string; message: { identity: string } }>(
      seller,
      'POST',
      '/market/sell',
      { energyWh: 50, priceUnitsPerWh: '100', window, minLotWh: 1 },
    );
    expect(sell.status).toBe(202);
    expect(sell.body.message.identity).toBe(did.did);
    const buy = await api<{ messageId: string; blockId: string }>(buyer, 'POST', '/market/buy', {
      energyWh: 20,
      maxPriceUnitsPerWh: '100',
      window,
    });
    expect(buy.status).toBe(202);
    // Someone else's key claiming the DID, with the DID's real origin.
    const impostor = new MarketAuthor(
      secretKeyFromPhrase('not the household'),
      did.did,
      MARKET,
      1,
      did.originOutputId,
    );
    const forged = impostor.sell(now, { energyWh: 10, priceUnitsPerWh: '1', window, minLotWh: 1 });
    const forgedBlock = await client.postTaggedData(MARKET_TAG, JSON.stringify(forged));

    const referenced = await Promise.all(
      [sell.body.blockId, buy.body.blockId, forgedBlock].map((id) => node.waitForReferenced(id)),
    );
    const target = Math.max(...referenced.map((m) => m.referencedByMilestoneIndex!));
    const books: MarketBook[] = [];
    for (const household of [seller, buyer]) {
      await waitForProgress({
        what: `a market book reading up to milestone ${target}`,
        probe: async () => (await api<MarketBook>(household, 'GET', '/market')).body.ledgerIndex,
        done: (index) => index >= target,
        stallMs: 30_000,
        ceilingMs: 300_000,
      });
      books.push((await api<MarketBook>(household, 'GET', '/market')).body);
    }
    const [a, b] = books as [MarketBook, MarketBook];
    expect({ orders: a.orders, trades: a.trades, rejections: a.rejections }).toEqual({
      orders: b.orders,
      trades: b.trades,
      rejections: b.rejections,
    });
    expect(a.orders.find((o) => o.id === sell.body.messageId)).toMatchObject({
      owner: did.did,
      payTo: seller.service.address,
    });
    expect(a.trades).toHaveLength(1);
    expect(a.trades[0]).toMatchObject({
      seller: did.did,
      payTo: seller.service.address,
      buyer: buyer.service.address,
      energyWh: 20,
    });
    expect(a.rejections.map((r) => r.reason)).toEqual(['IDENTITY_MISMATCH']);
  }, 600_000); // an outer bound only: the waits inside fail on a stall
});
