import { describe, expect, it } from 'vitest';
import { fillWh } from './matching.js';
import { type MarketAuthor, messageIdOf } from './messages.js';
import { at, author, book, fills, HOUR, remaining, T0, W1, W2 } from './testing.js';
import { tradeIdOf } from './trades.js';

/** An order by `who`: a fresh author of that name, or one that goes on to cancel or amend it. */
const by = (who: string | MarketAuthor) => (typeof who === 'string' ? author(who) : who);
const sell = (
  who: string | MarketAuthor,
  t: number,
  energyWh: number,
  price: string,
  minLotWh = 1,
  window = W1,
) => by(who).sell(at(t), { energyWh, priceUnitsPerWh: price, window, minLotWh });
const buy = (who: string | MarketAuthor, t: number, energyWh: number, maxPrice: string) =>
  by(who).buy(at(t), { energyWh, maxPriceUnitsPerWh: maxPrice, window: W1 });

describe('fillWh (minimum lots)', () => {
  it('takes everything left when the buyer wants at least that, whatever the lot', () => {
    expect(fillWh(300, 400, 300)).toBe(300);
    expect(fillWh(300, 400, 1000)).toBe(300);
  });
  it('otherwise fills at least a lot and leaves at least a lot', () => {
    expect(fillWh(1000, 400, 300)).toBe(0); // below the lot
    expect(fillWh(1000, 400, 700)).toBe(600); // 700 would leave 300 < 400
    expect(fillWh(1000, 400, 500)).toBe(500);
    expect(fillWh(700, 400, 500)).toBe(0); // 400 ≤ q ≤ 300 is empty, and 500 < 700
    expect(fillWh(1000, 1, 999)).toBe(999);
    expect(fillWh(0, 1, 10)).toBe(0);
  });
});

describe('continuous double auction (price-time priority)', () => {
  it('fills a hand-worked book: cheapest first, partial fills, trade at the resting price', () => {
    const alice = author('alice');
    const messages = [
      sell(alice, 1, 1000, '10'),
      sell('bob', 2, 500, '9'),
      sell('carol', 3, 800, '10'),
      buy('dave', 4, 1800, '10'),
      buy('erin', 5, 600, '9.5'),
      sell('frank', 6, 700, '9'),
    ];
    const b = book(messages);
    // dave takes bob's 9 first, then alice (earlier) before carol at 10; erin's 9.5 rests until frank
    // offers at 9, and frank gets erin's (resting) 9.5.
    expect(fills(b)).toEqual([
      'bob→dave 500@9',
      'alice→dave 1000@10',
      'carol→dave 300@10',
      'frank→erin 600@9.5',
    ]);
    expect(remaining(b)).toEqual({
      'alice:sell': 0,
      'bob:sell': 0,
      'carol:sell': 500,
      'dave:buy': 0,
      'erin:buy': 0,
      'frank:sell': 100,
    });
    expect(b.orders.find((o) => o.owner === 'alice')).toMatchObject({ status: 'filled', filledWh: 1000 });
    expect(b.orders.find((o) => o.owner === 'carol')).toMatchObject({ status: 'open', filledWh: 300 });
    expect(b.rejections).toEqual([]);
  });

  it('an incoming buy pays the ask, not its own higher limit', () => {
    const b = book([sell('alice', 1, 1000, '7.25'), buy('bob', 2, 400, '12')]);
    expect(fills(b)).toEqual(['alice→bob 400@7.25']);
  });

  it('breaks price ties by time, then by author key, then by sequence number', () => {
    const early = book([sell('alice', 2, 500, '10'), sell('bob', 1, 500, '10'), buy('zed', 3, 500, '10')]);
    expect(fills(early)).toEqual(['bob→zed 500@10']);

    // Same timestamp: the smaller author key (lowercase hex) wins.
    const [first, second] = [author('alice'), author('bob')].sort((x, y) =>
      x.publicKey < y.publicKey ? -1 : 1,
    );
    const sameTime = book([
      sell(second!, 1, 500, '10'),
      sell(first!, 1, 500, '10'),
      buy('zed', 3, 500, '10'),
    ]);
    expect(fills(sameTime)).toEqual([`${first!.identity}→zed 500@10`]);

    // Same author, same timestamp: the lower seq is the earlier order.
    const carol = author('carol');
    const o1 = sell(carol, 1, 100, '10');
    const o2 = sell(carol, 1, 200, '10');
    const bySeq = book([o2, o1, buy('zed', 3, 100, '10')]);
    expect(bySeq.trades[0]!.sellOrderId).toBe(messageIdOf(o1));
  });

  it('respects minimum lots: skips an offer the buyer is too small for, never leaves less than a lot', () => {
    const b = book([
      sell('alice', 1, 1000, '10', 400),
      sell('bob', 2, 1000, '11'),
      buy('carol', 3, 300, '11'), // too small for alice
      buy('dave', 4, 700, '10'), // 600 leaves a lot
      buy('erin', 5, 500, '10'), // takes the last 400
    ]);
    expect(fills(b)).toEqual(['bob→carol 300@11', 'alice→dave 600@10', 'alice→erin 400@10']);
    expect(remaining(b)).toMatchObject({ 'dave:buy': 100, 'erin:buy': 100, 'alice:sell': 0 });
  });

  it('matches only overlapping windows, and a trade delivers in the overlap from the match on', () => {
    const wide = { startMs: T0 + HOUR, endMs: T0 + 3 * HOUR };
    const late = { startMs: T0 + 2 * HOUR, endMs: T0 + 4 * HOUR };
    const b = book([
      sell('alice', 1, 500, '10', 1, W1),
      author('alice2').sell(at(2), { energyWh: 500, priceUnitsPerWh: '10', window: wide }),
      author('bob').buy(at(3), { energyWh: 1000, maxPriceUnitsPerWh: '10', window: late }),
    ]);
    expect(fills(b)).toEqual(['alice2→bob 500@10']);
    expect(b.trades[0]!.window).toEqual({ startMs: T0 + 2 * HOUR, endMs: T0 + 3 * HOUR });

    const inside = book(
      [
        sell('alice', 1, 500, '10', 1, W1),
        author('bob').buy(T0 + HOUR + 600_000, { energyWh: 500, maxPriceUnitsPerWh: '10', window: W1 }),
      ],
      'cda',
      { nowMs: T0 + HOUR + 900_000 },
    );
    expect(inside.trades[0]!.window).toEqual({ startMs: T0 + HOUR + 600_000, endMs: W1.endMs });
  });

  it('never trades an identity with itself; its order is skipped, not cancelled', () => {
    const alice = author('alice');
    const b = book([sell(alice, 1, 500, '5'), sell('bob', 2, 500, '10'), buy(alice, 3, 300, '10')]);
    expect(fills(b)).toEqual(['bob→alice 300@10']);
    expect(remaining(b)['alice:sell']).toBe(500);
  });

  it('a cancel removes what is left of an order', () => {
    const alice = author('alice');
    const offer = sell(alice, 1, 1000, '10');
    const b = book([
      offer,
      buy('bob', 2, 400, '10'),
      alice.cancel(at(3), messageIdOf(offer)),
      buy('carol', 4, 400, '10'),
    ]);
    expect(fills(b)).toEqual(['alice→bob 400@10']);
    expect(b.orders[0]).toMatchObject({
      status: 'cancelled',
      filledWh: 400,
      remainingWh: 0,
      closedAtMs: at(3),
    });
    expect(remaining(b)['carol:buy']).toBe(400);
  });

  it('an amend to more energy or a new price loses time priority; less energy keeps it', () => {
    const alice = author('alice');
    const offer = sell(alice, 1, 500, '10');
    const bobOffer = sell('bob', 2, 500, '10');
    const carolBuys = buy('carol', 4, 500, '10');

    const more = book([
      offer,
      bobOffer,
      alice.amend(at(3), messageIdOf(offer), { energyWh: 600 }),
      carolBuys,
    ]);
    expect(fills(more)).toEqual(['bob→carol 500@10']);

    const alice2 = author('alice');
    const offer2 = sell(alice2, 1, 500, '10');
    const less = book([
      offer2,
      bobOffer,
      alice2.amend(at(3), messageIdOf(offer2), { energyWh: 400 }),
      carolBuys,
    ]);
    expect(fills(less)).toEqual(['alice→carol 400@10', 'bob→carol 100@10']);
  });

  it('an amend that crosses a resting order trades at once, caused by the amend', () => {
    const alice = author('alice');
    const offer = sell(alice, 2, 500, '10');
    const amend = alice.amend(at(3), messageIdOf(offer), { priceUnitsPerWh: '9' });
    const b = book([buy('bob', 1, 500, '9'), offer, amend]);
    expect(fills(b)).toEqual(['alice→bob 500@9']);
    expect(b.trades[0]!.causeId).toBe(messageIdOf(amend));
    expect(b.orders.find((o) => o.owner === 'alice')!.priority.id).toBe(messageIdOf(amend));
  });

  it('an amend down to what is already filled closes the order', () => {
    const alice = author('alice');
    const offer = sell(alice, 1, 1000, '10');
    const b = book([
      offer,
      buy('bob', 2, 600, '10'),
      alice.amend(at(3), messageIdOf(offer), { energyWh: 500 }),
    ]);
    expect(b.orders[0]).toMatchObject({ status: 'filled', energyWh: 500, filledWh: 600, remainingWh: 0 });
  });

  it('expiry removes what is left when the window ends, before later messages and at the book time', () => {
    const spanning = { startMs: T0 + HOUR, endMs: T0 + 3 * HOUR };
    const messages = [
      sell('alice', 1, 500, '10', 1, W1),
      author('bob').buy(W1.endMs + 60_000, { energyWh: 500, maxPriceUnitsPerWh: '10', window: spanning }),
    ];
    const b = book(messages, 'cda', { nowMs: W1.endMs + 120_000 });
    expect(b.trades).toEqual([]);
    expect(b.orders[0]).toMatchObject({
      status: 'expired',
      remainingWh: 0,
      closedAtMs: W1.endMs,
      closedBy: 'expiry',
    });
    expect(b.orders[1]).toMatchObject({ status: 'open', remainingWh: 500 });

    const later = book(messages.slice(0, 1), 'cda', { nowMs: W1.endMs });
    expect(later.orders[0]!.status).toBe('expired');
    expect(later.rejections).toEqual([]);
  });

  it('gives each trade an id that anyone can recompute from its content', () => {
    const b = book([sell('alice', 1, 500, '10'), buy('bob', 2, 500, '10')]);
    const { id, ...content } = b.trades[0]!;
    expect(tradeIdOf(content)).toBe(id);
    expect(content).toMatchObject({ fill: 0, matchedAtMs: at(2), rule: 'cda', market: 'test-market' });
  });
});

describe('pool rule (largest offers first)', () => {
  it('fills a buyer from the largest offers; equal sizes go to the cheaper, then the earlier', () => {
    const b = book(
      [
        sell('A', 1, 3000, '10'),
        sell('B', 2, 5000, '12'),
        sell('C', 3, 5000, '11'),
        sell('D', 4, 1000, '9'),
        buy('E', 5, 9000, '12'),
        sell('G', 6, 2000, '10'),
        sell('H', 7, 2000, '10'),
        buy('F', 8, 2500, '12'),
      ],
      'pool',
    );
    // E: B and C tie at 5000, C is cheaper; B gives the other 4000. F: A (3000) is largest; G and H tie
    // (2000, same price), but A covers F.
    expect(fills(b)).toEqual(['C→E 5000@11', 'B→E 4000@12', 'A→F 2500@10']);

    const tie = book([sell('G', 1, 2000, '10'), sell('H', 2, 2000, '10'), buy('F', 3, 2500, '10')], 'pool');
    expect(fills(tie)).toEqual(['G→F 2000@10', 'H→F 500@10']);
  });

  it('leaves out offers above the limit, offers of the buyer itself and offers whose lot does not fit', () => {
    const E = author('E');
    const b = book(
      [
        sell('A', 1, 9000, '20'),
        sell(E, 2, 8000, '1'),
        sell('B', 3, 7000, '10', 5000),
        sell('C', 4, 1000, '10'),
        sell('D', 5, 800, '10'),
        buy(E, 6, 1500, '10'),
      ],
      'pool',
    );
    expect(fills(b)).toEqual(['C→E 1000@10', 'D→E 500@10']);
  });

  it('serves resting buyers in arrival order at the offer price when an offer arrives', () => {
    const messages = [buy('X', 1, 1000, '20'), buy('Y', 2, 1000, '30'), sell('Z', 3, 1500, '15')];
    expect(fills(book(messages, 'pool'))).toEqual(['Z→X 1000@15', 'Z→Y 500@15']);
    // The same book under CDA: the higher bid first, each at its own (resting) price.
    expect(fills(book(messages, 'cda'))).toEqual(['Z→Y 1000@30', 'Z→X 500@20']);
  });

  it('amends act the same way under the pool rule', () => {
    const A = author('A');
    const big = sell(A, 1, 5000, '10');
    const b = book(
      [
        big,
        sell('B', 2, 3000, '10'),
        sell('C', 3, 2000, '10', 1, W2),
        A.amend(at(4), messageIdOf(big), { energyWh: 1000 }),
        buy('E', 5, 3500, '10'),
      ],
      'pool',
    );
    // A shrank to 1000, so B (3000) is the largest; C is in another window.
    expect(fills(b)).toEqual(['B→E 3000@10', 'A→E 500@10']);
  });

  it('an expired offer is no longer in the pool, however large', () => {
    const short = { startMs: T0 + HOUR, endMs: T0 + HOUR + 30 * 60_000 };
    const b = book(
      [
        sell('D', 1, 9000, '10', 1, short),
        sell('B', 2, 3000, '10'),
        author('E').buy(T0 + HOUR + 40 * 60_000, { energyWh: 1000, maxPriceUnitsPerWh: '10', window: W1 }),
      ],
      'pool',
      { nowMs: T0 + HOUR + 50 * 60_000 },
    );
    expect(fills(b)).toEqual(['B→E 1000@10']);
    expect(b.orders[0]).toMatchObject({ status: 'expired', closedAtMs: short.endMs });
  });
});
