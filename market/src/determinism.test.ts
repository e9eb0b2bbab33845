import { describe, expect, it } from 'vitest';
import { type Book, type OrderView, rebuildBook } from './book.js';
import { rejectionReasons } from './errors.js';
import { fillWh } from './matching.js';
import { MarketAuthor, messageIdOf, secretKeyFromPhrase } from './messages.js';
import { DEFAULT_COMMUNITY_START_MS, simulateCommunity } from './sim/community.js';
import { seededRandom } from './sim/profiles.js';
import { shuffled } from './testing.js';
import { matchingRules } from './trades.js';
import { parsePrice, windowsOverlap } from './units.js';

const HOUR = 3_600_000;

const sets = new Map<string, ReturnType<typeof makeMessageSet>>();
const signatureCache = new Set<string>();
function messageSet(rule: 'cda' | 'pool') {
  if (!sets.has(rule)) sets.set(rule, makeMessageSet(rule));
  return sets.get(rule)!;
}

/** A simulated day plus one of each kind of bad message, so rejections are part of what must agree. */
function makeMessageSet(rule: 'cda' | 'pool') {
  const run = simulateCommunity({ households: 10, hours: 14, seed: 7, rule });
  const messages: unknown[] = [...run.messages];
  const m = run.messages.find((x) => x.kind === 'sell')!;
  const mallory = new MarketAuthor(secretKeyFromPhrase('mallory'), 'mallory', m.market, 5);
  const window = {
    startMs: DEFAULT_COMMUNITY_START_MS + 9 * HOUR,
    endMs: DEFAULT_COMMUNITY_START_MS + 10 * HOUR,
  };
  const at = DEFAULT_COMMUNITY_START_MS + 8 * HOUR;
  messages.push(
    { ...m, body: { ...m.body, energyWh: m.body.energyWh + 1 } }, // BAD_SIGNATURE
    { ...m, signature: undefined }, // UNSIGNED
    { ...m, seq: 'one' }, // MALFORMED
    new MarketAuthor(secretKeyFromPhrase('x'), 'x', 'other').sell(at, {
      energyWh: 1,
      priceUnitsPerWh: '1',
      window,
    }),
    mallory.buy(at, { energyWh: 100, maxPriceUnitsPerWh: '1', window }),
    mallory.ack(at + 1, 'ab'.repeat(32)), // UNKNOWN_TRADE
    mallory.cancel(at + 2, 'ab'.repeat(32)), // UNKNOWN_OFFER
    mallory.sell(at + 3, { energyWh: 100, priceUnitsPerWh: '1', window: { startMs: 0, endMs: 1 } }), // EXPIRED
  );
  mallory.nextSeq = 5;
  messages.push(mallory.buy(at + 4, { energyWh: 7, maxPriceUnitsPerWh: '1', window })); // REPLAY
  mallory.nextSeq = 20;
  const order = mallory.buy(at + 5, { energyWh: 9, maxPriceUnitsPerWh: '1', window });
  messages.push(
    order,
    mallory.cancel(at + 6, messageIdOf(order)),
    mallory.cancel(at + 7, messageIdOf(order)), // ORDER_CLOSED
    mallory.sell(at + 8, { energyWh: 100, priceUnitsPerWh: '1', window }), // OVER_COMMITTED: no meter
  );
  return {
    messages,
    options: {
      market: m.market,
      rule,
      nowMs: DEFAULT_COMMUNITY_START_MS + 14 * HOUR,
      capacityWh: run.capacityWh,
    },
  };
}

describe('determinism', () => {
  for (const rule of matchingRules)
    it(`gives the same ${rule} book for 100 arrival orders of the same messages`, () => {
      const { messages, options } = messageSet(rule);
      const reference = rebuildBook(messages, options);
      expect(reference.trades.length).toBeGreaterThan(10);
      expect(new Set(reference.rejections.map((r) => r.reason))).toEqual(
        new Set(rejectionReasons.filter((r) => !['IDENTITY_MISMATCH', 'CLOCK_SKEW'].includes(r))),
      );
      const random = seededRandom(20_240_601);
      for (let i = 0; i < 100; i++) {
        const book = rebuildBook(shuffled(messages, random), { ...options, signatureCache });
        expect(book).toEqual(reference);
      }
      expect(JSON.parse(JSON.stringify(reference))).toEqual(reference); // plain data, no bigint
    });

  for (const rule of matchingRules)
    it(`leaves no open pair that could still fill (${rule}), at every hour of the day`, () => {
      const { messages, options } = messageSet(rule);
      for (let hour = 1; hour <= 14; hour++) {
        const nowMs = DEFAULT_COMMUNITY_START_MS + hour * HOUR - 20 * 60_000;
        const book = rebuildBook(messages, { ...options, nowMs, signatureCache });
        expect(fillablePairs(book)).toEqual([]);
      }
    });
});

function fillablePairs(book: Book): string[] {
  const open = (side: OrderView['side']) => book.orders.filter((o) => o.side === side && o.status === 'open');
  const pairs: string[] = [];
  for (const s of open('sell'))
    for (const b of open('buy'))
      if (
        s.owner !== b.owner &&
        parsePrice(s.priceUnitsPerWh) <= parsePrice(b.priceUnitsPerWh) &&
        windowsOverlap(s.window, b.window) &&
        fillWh(s.remainingWh, s.minLotWh, b.remainingWh) > 0
      )
        pairs.push(`${s.id.slice(0, 8)}×${b.id.slice(0, 8)}`);
  return pairs;
}
