/**
 * The reference scenario on a real tangle: the paper's story, as the in-memory `runReference` tells it, told
 * again through eight households' wallet-services.
 */
import {
  deliveryStatement,
  type MatchingRule,
  referenceProducers,
  runReference,
  settlementRequest,
  type Trade,
  whToMWs,
} from '@tanglewatt/market';
import type { Logger } from 'pino';
import { devMnemonic, fundedSlot } from '../household.js';
import type { TangleState } from '../tangle.js';
import {
  bookDigest,
  booksWithAll,
  deliveryWindow,
  type MarketBook,
  type Nudges,
  nudgesOf,
  type Posted,
  post,
} from './book.js';
import {
  balanceOf,
  type CommunityHousehold,
  householdCall,
  type Member,
  newMarket,
  paymentIncluded,
  startHouseholds,
  stopHouseholds,
} from './households.js';

export const REFERENCE_CONSUMER_NAME = 'C201';
export const REFERENCE_PRICE = '10000';
export const REFERENCE_SALE_WH = 50_000;
export const REFERENCE_P107_WH = 10_000;
/** Genesis slots (index in account order) the integration test may take without colliding with others. */
export const REFERENCE_TEST_SLOTS = [14, 15, 16, 17, 18, 19, 23, 24] as const;

export interface ReferenceOnTangleOptions {
  tangle: TangleState;
  /** Households' keystores and wallet data go here, one dir each. */
  dataDir: string;
  log: Logger;
  /** Eight funded genesis slots, P101…P107 then C201 (default 0–7). */
  slots?: readonly number[];
}

export interface ReferenceOnTangleRow {
  name: string;
  address: string;
  holdingsWh: number;
  soldWh: number;
  boughtWh: number;
  energyWh: number;
  unsoldWh: number;
  startUnits: bigint;
  endUnits: bigint;
  /** endUnits − startUnits, from the ledger. */
  deltaUnits: bigint;
  /** What the in-memory reference says this household's tokens change by. */
  referenceDeltaUnits: bigint;
}

export interface SettlementPayment {
  tradeId: string;
  from: string;
  to: string;
  amountUnits: bigint;
  idempotencyKey: string;
  blockId?: string;
  milestoneIndex: number;
}

export interface ReferenceOnTangleResult {
  marketId: string;
  rule: MatchingRule;
  households: { name: string; address: string }[];
  /** Trades named by household: C201's 50 kWh and P107's 10 kWh, in book order. */
  sale: (Trade & { sellerName: string; buyerName: string })[];
  purchase: (Trade & { sellerName: string; buyerName: string })[];
  /** Each household's trade ids, in its book's order. */
  tradeIdsByHousehold: Record<string, string[]>;
  acksInEveryBook: number;
  payments: SettlementPayment[];
  rows: ReferenceOnTangleRow[];
  timings: { startMs: number; upMs: number; postedMs: number; agreedMs: number; settledMs: number };
  nudges: Nudges;
}

/**
 * The reference story on the tangle, through the wallet-services' own API: P101…P107 offer all they hold
 * at 10 000 base units/Wh, C201 buys 50 kWh under the pool rule, then P107 buys 10 kWh. Every household
 * must rebuild the same book; then both parties ack each trade and the buyer pays the seller what full
 * delivery owes (delivery itself is assumed, as in the in-memory reference: no meters run here).
 */
export async function runReferenceOnTangle(
  options: ReferenceOnTangleOptions,
): Promise<ReferenceOnTangleResult> {
  const { tangle, log } = options;
  const slots = options.slots ?? [0, 1, 2, 3, 4, 5, 6, 7];
  if (slots.length !== 8) throw new Error('the reference scenario needs 8 genesis slots: P101…P107 and C201');
  const mnemonic = await devMnemonic();
  const names = [...referenceProducers.map((p) => p.identity), REFERENCE_CONSUMER_NAME];
  const members: Member[] = names.map((name, i) => {
    const account = fundedSlot(tangle, slots[i]!);
    return {
      name,
      role: name.startsWith('P') ? 'producer' : 'consumer',
      mnemonic,
      accountIndex: account.accountIndex,
      initialOutputs: [account.outputId],
    };
  });
  const rule: MatchingRule = 'pool';
  // Each producer offers exactly what it holds (at most 20 kWh), so the capacity cap never binds.
  const market = await newMarket(tangle, 'reference', rule, 100_000);
  const marketId = market.id;
  const startMs = performance.now();
  const households = await startHouseholds(tangle, members, market, options.dataDir, log);
  try {
    const byName = new Map(households.map((h) => [h.name, h]));
    const nameOf = new Map(households.map((h) => [h.address, h.name]));
    const named = (t: Trade) => ({
      ...t,
      sellerName: nameOf.get(t.seller)!,
      buyerName: nameOf.get(t.buyer)!,
    });
    const upMs = performance.now();
    const startUnits = new Map(
      await Promise.all(households.map(async (h) => [h.name, await balanceOf(h)] as const)),
    );
    log.info({ marketId, households: households.length }, 'households up; posting the reference orders');

    // Offers one after another in P101…P107 order: the book orders by signed timestamp, so P105's offer
    // sorts before P106's and wins their tie, as in the reference.
    const window = deliveryWindow(Date.now());
    const posted: Posted[] = [];
    for (const p of referenceProducers)
      posted.push(
        await post(byName.get(p.identity)!, 'sell', {
          energyWh: p.holdingsWh,
          priceUnitsPerWh: REFERENCE_PRICE,
          window,
          minLotWh: 1,
        }),
      );
    const buy = (who: string, energyWh: number) =>
      post(byName.get(who)!, 'buy', { energyWh, maxPriceUnitsPerWh: REFERENCE_PRICE, window });
    const sale = await buy(REFERENCE_CONSUMER_NAME, REFERENCE_SALE_WH);
    const purchase = await buy('P107', REFERENCE_P107_WH);
    posted.push(sale, purchase);
    const postedMs = performance.now();

    const books = await booksWithAll(households, posted, 60_000);
    const agreedMs = performance.now();
    const tradeIdsByHousehold = Object.fromEntries(
      households.map((h, i) => [h.name, books[i]!.trades.map((t) => t.id)]),
    );
    const digests = new Set(books.map(bookDigest));
    if (digests.size !== 1)
      throw new Error('the households rebuilt different books from the same milestones');
    const book = books[0]!;
    const accepted = new Set(book.accepted);
    const refused = posted.filter((p) => !accepted.has(p.messageId));
    if (refused.length > 0)
      throw new Error(
        `${refused.length} reference orders rejected: ${book.rejections.map((r) => `${r.kind} ${r.reason} ${r.detail}`).join('; ')}`,
      );

    const byAddress = new Map(households.map((h) => [h.address, h]));
    const ackPosts = postAcks(book.trades, byAddress);
    // Awaited below, after the payments; marked handled so an early failure does not end the process.
    ackPosts.catch(() => undefined);
    const payments = await payForFullDelivery(book.trades, byAddress);
    const paidAt = Math.max(...payments.map((p) => p.milestoneIndex));
    const endUnits = new Map(
      await Promise.all(households.map(async (h) => [h.name, await balanceOf(h, paidAt)] as const)),
    );
    const ackBooks = await booksWithAll(households, await ackPosts, 60_000);
    if (new Set(ackBooks.map(bookDigest)).size !== 1) throw new Error('the households disagree on the acks');
    const settledMs = performance.now();

    const rows = referenceRows(households, book, startUnits, endUnits, rule);
    return {
      marketId,
      rule,
      households: households.map((h) => ({ name: h.name, address: h.address })),
      sale: book.trades.filter((t) => t.buyOrderId === sale.messageId).map(named),
      purchase: book.trades.filter((t) => t.buyOrderId === purchase.messageId).map(named),
      tradeIdsByHousehold,
      acksInEveryBook: ackBooks[0]!.acks.length,
      payments,
      rows,
      timings: { startMs, upMs, postedMs, agreedMs, settledMs },
      nudges: nudgesOf(households),
    };
  } finally {
    await stopHouseholds(households);
  }
}

/**
 * Both parties ack each trade, one ack at a time per household (each message spends a sequence number);
 * resolves to every ack posted.
 */
async function postAcks(
  trades: readonly Trade[],
  byAddress: ReadonlyMap<string, CommunityHousehold>,
): Promise<Posted[]> {
  const acksBy = new Map<string, string[]>();
  for (const t of trades)
    for (const party of [t.seller, t.buyer]) acksBy.set(party, [...(acksBy.get(party) ?? []), t.id]);
  const posted = await Promise.all(
    [...acksBy].map(async ([address, tradeIds]) => {
      const out: Posted[] = [];
      for (const tradeId of tradeIds) out.push(await post(byAddress.get(address)!, 'ack', { tradeId }));
      return out;
    }),
  );
  return posted.flat();
}

/** Each buyer pays its seller what full delivery of the trade owes; resolves once every payment is included. */
async function payForFullDelivery(
  trades: readonly Trade[],
  byAddress: ReadonlyMap<string, CommunityHousehold>,
): Promise<SettlementPayment[]> {
  const requests = trades.map((trade) => {
    const statement = deliveryStatement(trade, {
      deliveredMWs: whToMWs(trade.energyWh),
      nowMs: trade.window.endMs,
    });
    const request = settlementRequest(trade, statement, trade.payTo ?? trade.seller);
    if (!request) throw new Error(`trade ${trade.id} owes nothing`);
    return { trade, request, buyer: byAddress.get(trade.buyer)! };
  });
  await Promise.all(requests.map((r) => householdCall(r.buyer, 'POST', '/payments', r.request)));
  const included = await Promise.all(requests.map((r) => paymentIncluded(r.buyer, r.request.idempotencyKey)));
  return requests.map((r, i) => ({
    tradeId: r.trade.id,
    from: r.buyer.name,
    to: byAddress.get(r.trade.seller)!.name,
    amountUnits: BigInt(r.request.amount),
    idempotencyKey: r.request.idempotencyKey,
    ...(included[i]!.blockId ? { blockId: included[i]!.blockId } : {}),
    milestoneIndex: included[i]!.milestoneIndex!,
  }));
}

/** Each household's energy and tokens before and after, beside what the in-memory reference says. */
function referenceRows(
  households: readonly CommunityHousehold[],
  book: MarketBook,
  startUnits: ReadonlyMap<string, bigint>,
  endUnits: ReadonlyMap<string, bigint>,
  rule: MatchingRule,
): ReferenceOnTangleRow[] {
  const memory = runReference(rule);
  const referenceDelta = new Map(memory.rows.map((r) => [r.identity, r.endUnits - r.startUnits]));
  const sum = (ts: readonly Trade[]) => ts.reduce((a, t) => a + t.energyWh, 0);
  return households.map((h) => {
    const holdingsWh = referenceProducers.find((p) => p.identity === h.name)?.holdingsWh ?? 0;
    const soldWh = sum(book.trades.filter((t) => t.seller === h.address));
    const boughtWh = sum(book.trades.filter((t) => t.buyer === h.address));
    const offer = book.orders.find((o) => o.side === 'sell' && o.owner === h.address);
    const start = startUnits.get(h.name)!;
    const end = endUnits.get(h.name)!;
    return {
      name: h.name,
      address: h.address,
      holdingsWh,
      soldWh,
      boughtWh,
      energyWh: holdingsWh - soldWh + boughtWh,
      unsoldWh: offer?.remainingWh ?? 0,
      startUnits: start,
      endUnits: end,
      deltaUnits: end - start,
      referenceDeltaUnits: referenceDelta.get(h.name) ?? 0n,
    };
  });
}
