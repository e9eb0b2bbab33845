import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blake2b } from '@noble/hashes/blake2.js';
import { Journal } from '@tanglewatt/journal';
import { hexToBech32 } from '@tanglewatt/ledger';
import { MarketAuthor, publicKeyOf, type SignedMessage, secretKeyFromPhrase } from '@tanglewatt/market';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Market } from './market.js';
import { compactMarketEvents } from './market-compaction.js';

const MARKET = 'compaction-market';
const T0 = Date.UTC(2026, 0, 1, 8);
const HOUR = 3_600_000;
const WINDOW = { startMs: T0 + HOUR, endMs: T0 + 2 * HOUR };

/** A household speaking as its own wallet address (the hash of its key). */
function household(name: string): { author: MarketAuthor; address: string; hex: string } {
  const secret = secretKeyFromPhrase(`compaction/${name}`);
  const hash = blake2b(Buffer.from(publicKeyOf(secret), 'hex'), { dkLen: 32 });
  const hex = `0x${Buffer.from(hash).toString('hex')}`;
  const address = hexToBech32(hex, 'watt');
  return { author: new MarketAuthor(secret, address, MARKET), address, hex };
}

type Event = { t: string; [field: string]: unknown };

const seen = (milestoneIndex: number, message: unknown, block: number): Event => ({
  t: 'seen',
  milestoneIndex,
  observedAtMs: T0 + milestoneIndex * 5_000,
  blockId: `0x${block.toString(16).padStart(64, '0')}`,
  message,
});
const checkpoint = (milestoneIndex: number): Event => ({
  t: 'checkpoint',
  milestoneIndex,
  timestampMs: T0 + milestoneIndex * 5_000,
});

/** A market history: offers, bids, a message of ours confirmed and one still waiting, many milestones. */
function history(): { events: Event[]; waiting: SignedMessage; confirmed: SignedMessage } {
  const seller = household('seller');
  const buyer = household('buyer');
  const sell = seller.author.sell(T0, { energyWh: 500, priceUnitsPerWh: '10', window: WINDOW });
  const bid = buyer.author.buy(T0 + 1_000, { energyWh: 200, maxPriceUnitsPerWh: '12', window: WINDOW });
  const confirmed = buyer.author.buy(T0 + 2_000, { energyWh: 100, maxPriceUnitsPerWh: '11', window: WINDOW });
  const waiting = buyer.author.buy(T0 + 3_000, { energyWh: 50, maxPriceUnitsPerWh: '9', window: WINDOW });
  const events: Event[] = [{ t: 'format', v: 3 }];
  for (let m = 1; m <= 60; m++) {
    if (m === 3) events.push(seen(m, sell, 1), seen(m, { malformed: 'zz' }, 2));
    if (m === 5) events.push(seen(m, bid, 3));
    if (m === 8)
      events.push(
        {
          t: 'paid',
          milestoneIndex: m,
          payeeHex: seller.hex,
          units: '5000',
          energyMWs: '3600000',
          periodMs: 60_000,
        },
        { t: 'seq', next: 3 },
        { t: 'outgoing', message: confirmed },
        { t: 'posted', signature: confirmed.signature, blockId: '0xaa' },
        { t: 'posted', signature: confirmed.signature, blockId: '0xab' },
      );
    if (m === 12) events.push(seen(m, confirmed, 4), seen(m, confirmed, 5)); // posted twice, both confirmed
    if (m === 20)
      events.push(
        { t: 'seq', next: 4 },
        { t: 'outgoing', message: waiting },
        { t: 'posted', signature: waiting.signature, blockId: '0xac' },
        { t: 'future-kind', note: 'kept as it is' },
      );
    events.push(checkpoint(m));
  }
  return { events, waiting, confirmed };
}

const deps = (dataDir: string) => ({
  dataDir,
  api: { url: 'http://127.0.0.1:1' },
  client: {},
  key: {},
  address: household('buyer').address,
  config: {
    id: MARKET,
    rule: 'cda' as const,
    capacity: 'paid-history' as const,
    defaultCapacityWh: 1_000,
    fromMilestone: 1,
  },
  log: pino({ level: 'silent' }),
});

async function viewOf(events: Event[]): Promise<Market> {
  const dataDir = await mkdtemp(join(tmpdir(), 'market-compaction-'));
  const { journal } = await Journal.open<Event>(join(dataDir, 'market.journal'));
  await journal.appendMany(events);
  await journal.close();
  return Market.open(deps(dataDir) as unknown as Parameters<typeof Market.open>[0]);
}

/** What replay builds: the fields every answer of the view comes from. */
function stateOf(market: Market) {
  const { books, publisher } = market as unknown as Record<'books' | 'publisher', Record<string, unknown>>;
  return {
    ...Object.fromEntries(
      ['messages', 'deliveries', 'tradePayments', 'milestoneOf', 'checkpoint', 'lastMilestoneMs'].map((k) => [
        k,
        books[k],
      ]),
    ),
    outgoing: publisher.outgoing,
    nextSeq: publisher.nextSeq,
  };
}

describe('market journal compaction', () => {
  it('replays to the same view: book, confirmations, checkpoint, sequence, messages still waiting', async () => {
    const { events, waiting, confirmed } = history();
    const { events: compacted, changed } = compactMarketEvents(events);
    expect(changed).toBe(59 + 1 + 3); // old checkpoints, the lower seq, the confirmed message's records
    expect(compacted.filter((e) => e.t === 'checkpoint')).toEqual([checkpoint(60)]);
    expect(compacted).toContainEqual({ t: 'future-kind', note: 'kept as it is' });

    const original = await viewOf([]);
    // Replay of the original journal, event by event, by the view's own fold.
    for (const e of events) (original as unknown as { apply(e: Event): void }).apply(e);
    const reopened = await viewOf(compacted);
    expect(stateOf(reopened)).toEqual(stateOf(original));
    const book = await reopened.book();
    expect(book).toEqual(await original.book());
    expect(book.orders.length).toBeGreaterThan(0);
    expect(book.ledgerIndex).toBe(60);
    expect(reopened.confirmedAt(confirmed.signature)).toBe(12);
    expect(reopened.confirmedAt(waiting.signature)).toBeUndefined();
    await original.close();
    await reopened.close();
  });

  it('compacts the journal on open: a reopened view reads the short journal', async () => {
    const { events } = history();
    const view = await viewOf(events);
    const file = (view as unknown as { journal: Journal<Event> }).journal.file;
    await view.close();
    const { records } = await Journal.read<Event>(file);
    expect(records).toEqual(compactMarketEvents(events).events);
    expect(compactMarketEvents(records).changed).toBe(0);
  });
});
