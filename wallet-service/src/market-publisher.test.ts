import { generateMnemonic, type LedgerClient, MnemonicSigner, type NodeApi } from '@tanglewatt/ledger';
import { verifyMessage } from '@tanglewatt/market';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { addressOwnsKey, MARKET_TAG, type MarketEvent } from './market-books.js';
import { MarketPublisher } from './market-publisher.js';
import { type AddressKey, addressKey } from './wallet-keys.js';

const MARKET = 'publisher-market';
const WINDOW = { startMs: Date.UTC(2026, 0, 1, 9), endMs: Date.UTC(2026, 0, 1, 10) };
const DID = { did: `did:iota:watt:0x${'d1'.repeat(32)}`, originOutputId: `0x${'0e'.repeat(34)}` };
let key: AddressKey;
let address: string;

beforeAll(async () => {
  const signer = new MnemonicSigner(generateMnemonic());
  const chain = { coinType: 4218, accountIndex: 0, addressIndex: 0 };
  [address] = (await signer.addresses({ ...chain, start: 0, count: 1, bech32Hrp: 'watt' })) as [string];
  key = addressKey(signer, chain);
});

/** A publisher whose journal is an array and whose node takes every block (ids 0x…01, 0x…02, …). */
function publisherWith(records: MarketEvent[] = [], did?: typeof DID) {
  const journal: MarketEvent[] = [...records];
  const posted: { tag: string; data: string }[] = [];
  const client = {
    postTaggedData: async (tag: string, data: string) => {
      posted.push({ tag, data });
      return `0x${posted.length.toString(16).padStart(64, '0')}`;
    },
  } as unknown as LedgerClient;
  const publisher: MarketPublisher = new MarketPublisher({
    api: {} as NodeApi,
    client,
    key,
    address,
    config: { id: MARKET, ...(did ? { did } : {}) },
    log: pino({ level: 'silent' }),
    record: async (events) => {
      journal.push(...events);
      for (const e of events) publisher.apply(e);
    },
    confirmedAt: () => undefined,
  });
  for (const e of records) publisher.apply(e);
  return { publisher, journal, posted };
}

describe('market publisher', () => {
  it("signs with the wallet address's key and journals the message before posting it", async () => {
    const { publisher, journal, posted } = publisherWith();
    const { message, blockId } = await publisher.publish({
      kind: 'buy',
      body: { energyWh: 100, maxPriceUnitsPerWh: '12', window: WINDOW },
    });
    const verdict = verifyMessage(JSON.parse(posted[0]!.data), { market: MARKET });
    expect(verdict.ok).toBe(true);
    expect(message).toMatchObject({ identity: address, seq: 1, kind: 'buy' });
    expect(addressOwnsKey(address, message.author)).toBe(true);
    expect(posted[0]!.tag).toBe(MARKET_TAG);
    expect(journal.map((e) => e.t)).toEqual(['seq', 'outgoing', 'posted']);
    expect(journal[2]).toEqual({ t: 'posted', signature: message.signature, blockId });
  });

  it('posts a journaled message a crash kept from its first post, and spends the next sequence number', async () => {
    const first = publisherWith();
    await first.publisher.publish({ kind: 'ack', body: { tradeId: 'ab'.repeat(32) } });
    const beforePost = first.journal.slice(0, 2); // the crash came before the node took the block
    const { publisher, posted, journal } = publisherWith(beforePost);
    await publisher.nudge();
    expect(posted.map((p) => JSON.parse(p.data))).toEqual([(beforePost[1] as { message: unknown }).message]);
    expect(journal.at(-1)).toMatchObject({ t: 'posted' });
    const next = await publisher.publish({ kind: 'ack', body: { tradeId: 'cd'.repeat(32) } });
    expect(next.message.seq).toBe(2);
  });

  it('speaking as a DID, names the wallet address as the payee of a sell', async () => {
    const { publisher } = publisherWith([], DID);
    const { message } = await publisher.publish({
      kind: 'sell',
      body: { energyWh: 100, priceUnitsPerWh: '10', window: WINDOW, minLotWh: 10 },
    });
    expect(message).toMatchObject({ identity: DID.did, didOrigin: DID.originOutputId });
    expect((message.body as { payTo?: string }).payTo).toBe(address);
  });
});
