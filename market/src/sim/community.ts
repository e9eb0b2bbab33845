import { type Book, rebuildBook } from '../book.js';
import { type DeliveryStatement, deliveryStatement } from '../delivery.js';
import { MarketError, type RejectionReason } from '../errors.js';
import {
  MarketAuthor,
  messageIdOf,
  type SignatureVerifier,
  type SignedMessage,
  secretKeyFromPhrase,
} from '../messages.js';
import type { MatchingRule, Trade } from '../trades.js';
import { formatPrice, MWS_PER_WH, PRICE_SCALE, parsePrice, type Window, whToMWs } from '../units.js';
import { type Household, loadWh, productionWh, randomInt, seededRandom } from './profiles.js';

export interface CommunityOptions {
  households: number;
  hours: number;
  seed: number;
  rule?: MatchingRule;
  /** Share of producers, per mille (default 400). */
  producersPerMille?: number;
  /** First delivery slot starts here (default 2024-06-01T00:00Z). */
  startMs?: number;
  market?: string;
  /** For the CLI and benchmarks; the default is the consensus verifier. */
  verifier?: SignatureVerifier;
}

export interface CommunitySummary {
  households: number;
  producers: number;
  consumers: number;
  hours: number;
  seed: number;
  rule: MatchingRule;
  /** Sent, re-sent duplicates included. */
  messages: number;
  accepted: number;
  rejected: Partial<Record<RejectionReason, number>>;
  offers: number;
  bids: number;
  trades: number;
  acks: number;
  offeredWh: number;
  demandWh: number;
  tradedWh: number;
  deliveredWh: number;
  shortfallTrades: number;
  shortfallWh: number;
  tradeValueUnits: bigint;
  owedUnits: bigint;
  /** Traded value / traded energy, floored to 10^-18. */
  averagePriceUnitsPerWh: string;
}

export interface CommunityRun {
  households: Household[];
  /** In the order a household might receive them (generation order, re-sends included). */
  messages: SignedMessage[];
  book: Book;
  statements: DeliveryStatement[];
  summary: CommunitySummary;
  capacityWh: (producer: string, window: Window) => number;
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
export const DEFAULT_COMMUNITY_START_MS = Date.UTC(2024, 5, 1);

/** Probabilities, per mille, of the things households do besides offering and bidding. */
const OVER_OFFER = 30; // a producer offers more than its meter forecast (→ OVER_COMMITTED)
const REPRICE = 150; // a producer lowers its price 20 % a quarter-hour before the window
const CANCEL = 50; // a consumer withdraws its bid 5 minutes before the window
const RESEND = 20; // gossip delivers a message twice (→ DUPLICATE)
/** Sequence numbers per household and slot: orders from the start, acks from the middle (gaps are allowed). */
const SEQ_PER_SLOT = 100_000;

/**
 * A community over accelerated (simulated) time, pure and deterministic in its options: every hour slot,
 * producers offer their forecast surplus and consumers bid for part of their forecast load, half an hour
 * before the slot; some reprice, cancel, over-offer or are re-sent; the book is rebuilt, both parties ack
 * each trade, and delivery follows actual (cloudy) production, so some trades end short.
 */
export function simulateCommunity(options: CommunityOptions): CommunityRun {
  const { households: n, hours, seed } = options;
  if (!Number.isSafeInteger(n) || n < 2) throw new MarketError('INVALID_ARGUMENT', 'households: at least 2');
  if (!Number.isSafeInteger(hours) || hours < 1)
    throw new MarketError('INVALID_ARGUMENT', 'hours: at least 1');
  const rule = options.rule ?? 'cda';
  const market = options.market ?? `sim-${seed}`;
  const startMs = options.startMs ?? DEFAULT_COMMUNITY_START_MS;
  const random = seededRandom(seed);
  const households = makeHouseholds(n, options.producersPerMille ?? 400, random);
  const authors = new Map(
    households.map((h) => [
      h.identity,
      new MarketAuthor(secretKeyFromPhrase(`sim/${seed}/${h.identity}`), h.identity, market),
    ]),
  );
  const byIdentity = new Map(households.map((h) => [h.identity, h]));
  const slotOf = (window: Window) => Math.floor((window.startMs - startMs) / HOUR_MS);
  const capacityWh = (producer: string, window: Window) => {
    const h = byIdentity.get(producer);
    if (!h) return 0;
    let total = 0;
    for (let t = window.startMs - (window.startMs % HOUR_MS); t < window.endMs; t += HOUR_MS)
      total += productionWh(h, t);
    return total;
  };

  const sent: SignedMessage[] = [];
  const send = (m: SignedMessage) => {
    sent.push(m);
    if (randomInt(random, 1, 1000) <= RESEND) sent.push(m);
  };
  /** Actual production over forecast, per mille, per producer and slot: clouds make shortfalls. */
  const sunPerMille = new Map<string, number>();
  let offeredWh = 0;
  let demandWh = 0;

  for (let slot = 0; slot < hours; slot++) {
    const window = { startMs: startMs + slot * HOUR_MS, endMs: startMs + (slot + 1) * HOUR_MS };
    const postFrom = window.startMs - 30 * MINUTE_MS;
    for (const h of households) {
      const author = authors.get(h.identity)!;
      author.nextSeq = slot * SEQ_PER_SLOT;
      if (h.role === 'producer') {
        sunPerMille.set(`${h.identity}/${slot}`, randomInt(random, 800, 1050));
        const producedWh = productionWh(h, window.startMs);
        const surplusWh = producedWh - loadWh(h, window.startMs);
        if (surplusWh < 100) continue;
        const energyWh =
          randomInt(random, 1, 1000) <= OVER_OFFER ? Math.floor((producedWh * 13) / 10) + 1 : surplusWh;
        const quarterUnits = BigInt(randomInt(random, 720, 1280)); // 180–320 units/Wh in quarter steps
        const price = (quarterUnits * PRICE_SCALE) / 4n;
        const offer = author.sell(postFrom + randomInt(random, 0, 600) * 1000, {
          energyWh,
          priceUnitsPerWh: formatPrice(price),
          window,
          minLotWh: Math.min(energyWh, [1, 50, 100, 250][randomInt(random, 0, 3)]!),
        });
        offeredWh += energyWh;
        send(offer);
        if (randomInt(random, 1, 1000) <= REPRICE)
          send(
            author.amend(window.startMs - 15 * MINUTE_MS, messageIdOf(offer), {
              priceUnitsPerWh: formatPrice((price * 4n) / 5n),
            }),
          );
      } else {
        const wantWh = Math.floor((loadWh(h, window.startMs) * randomInt(random, 50, 100)) / 100);
        if (wantWh < 50) continue;
        const bid = author.buy(postFrom + randomInt(random, 0, 900) * 1000, {
          energyWh: wantWh,
          maxPriceUnitsPerWh: String(randomInt(random, 200, 340)),
          window,
        });
        demandWh += wantWh;
        send(bid);
        if (randomInt(random, 1, 1000) <= CANCEL)
          send(author.cancel(window.startMs - 5 * MINUTE_MS, messageIdOf(bid)));
      }
    }
  }

  const endMs = startMs + hours * HOUR_MS;
  const signatureCache = new Set<string>();
  const bookOptions = {
    market,
    rule,
    nowMs: endMs,
    capacityWh,
    signatureCache,
    ...(options.verifier && { verifier: options.verifier }),
  };
  // Acks need trade ids; acks do not change matching, so one pass over the orders finds every trade.
  const { trades } = rebuildBook(sent, bookOptions);
  const acksBy = new Map<string, number>();
  for (const trade of trades) {
    const slot = slotOf(trade.window);
    const ackAtMs = startMs + slot * HOUR_MS - 2 * MINUTE_MS;
    for (const party of [trade.seller, trade.buyer]) {
      const k = `${party}/${slot}`;
      const j = acksBy.get(k) ?? 0;
      acksBy.set(k, j + 1);
      const author = authors.get(party)!;
      author.nextSeq = slot * SEQ_PER_SLOT + SEQ_PER_SLOT / 2 + j;
      send(author.ack(ackAtMs + j * 100, trade.id));
    }
  }
  const book = rebuildBook(sent, bookOptions);
  const statements = deliver(book.trades, households, sunPerMille, slotOf, endMs);
  return {
    households,
    messages: sent,
    book,
    statements,
    capacityWh,
    summary: summarize({ ...options, rule }, households, sent, book, statements, offeredWh, demandWh),
  };
}

function makeHouseholds(n: number, producersPerMille: number, random: () => number): Household[] {
  const households: Household[] = [];
  for (let i = 0; i < n; i++) {
    // At least one of each role, whatever the draw.
    const producer = i === 0 ? true : i === 1 ? false : randomInt(random, 1, 1000) <= producersPerMille;
    households.push({
      identity: `${producer ? 'P' : 'C'}${String(i + 1).padStart(3, '0')}`,
      role: producer ? 'producer' : 'consumer',
      peakW: producer ? randomInt(random, 1500, 6000) : 0,
      loadPeakW: randomInt(random, 300, 1500),
    });
  }
  return households;
}

/** Each producer delivers, in trade order, what its actual production leaves after its own load. */
function deliver(
  trades: readonly Trade[],
  households: readonly Household[],
  sunPerMille: ReadonlyMap<string, number>,
  slotOf: (w: Window) => number,
  nowMs: number,
): DeliveryStatement[] {
  const byIdentity = new Map(households.map((h) => [h.identity, h]));
  const leftMWs = new Map<string, bigint>();
  return trades.map((trade) => {
    const slot = slotOf(trade.window);
    const k = `${trade.seller}/${slot}`;
    if (!leftMWs.has(k)) {
      const h = byIdentity.get(trade.seller)!;
      const hourStartMs = trade.window.startMs - (trade.window.startMs % HOUR_MS);
      const actualWh = Math.floor((productionWh(h, hourStartMs) * (sunPerMille.get(k) ?? 1000)) / 1000);
      leftMWs.set(k, whToMWs(Math.max(0, actualWh - loadWh(h, hourStartMs))));
    }
    const left = leftMWs.get(k)!;
    const want = whToMWs(trade.energyWh);
    const deliveredMWs = left < want ? left : want;
    leftMWs.set(k, left - deliveredMWs);
    return deliveryStatement(trade, { deliveredMWs, nowMs });
  });
}

function summarize(
  options: CommunityOptions & { rule: MatchingRule },
  households: readonly Household[],
  sent: readonly SignedMessage[],
  book: Book,
  statements: readonly DeliveryStatement[],
  offeredWh: number,
  demandWh: number,
): CommunitySummary {
  const rejected: Partial<Record<RejectionReason, number>> = {};
  for (const r of book.rejections) rejected[r.reason] = (rejected[r.reason] ?? 0) + 1;
  const tradedWh = book.trades.reduce((a, t) => a + t.energyWh, 0);
  const valueScaled = book.trades.reduce(
    (a, t) => a + BigInt(t.energyWh) * parsePrice(t.priceUnitsPerWh),
    0n,
  );
  const shortfalls = statements.filter((s) => s.state === 'shortfall');
  const producers = households.filter((h) => h.role === 'producer').length;
  return {
    households: households.length,
    producers,
    consumers: households.length - producers,
    hours: options.hours,
    seed: options.seed,
    rule: options.rule,
    messages: sent.length,
    accepted: book.accepted.length,
    rejected,
    offers: book.orders.filter((o) => o.side === 'sell').length,
    bids: book.orders.filter((o) => o.side === 'buy').length,
    trades: book.trades.length,
    acks: book.acks.length,
    offeredWh,
    demandWh,
    tradedWh,
    deliveredWh: Number(statements.reduce((a, s) => a + s.creditedMWs, 0n) / MWS_PER_WH),
    shortfallTrades: shortfalls.length,
    shortfallWh: Number(shortfalls.reduce((a, s) => a + s.shortfallMWs, 0n) / MWS_PER_WH),
    tradeValueUnits: statements.reduce((a, s) => a + s.tradeValueUnits, 0n),
    owedUnits: statements.reduce((a, s) => a + s.owedUnits, 0n),
    averagePriceUnitsPerWh: tradedWh === 0 ? '0' : formatPrice(valueScaled / BigInt(tradedWh)),
  };
}
