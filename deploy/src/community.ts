/**
 * The community simulator on a real tangle: one wallet-service per household, in this process, each with
 * its own data dir, keystore and address (the address is the household's market identity). Households
 * post signed market messages through POST /market/*, rebuild the book from milestone cones, and settle
 * trades with real payments. Two modes: the reference scenario (the paper's story, as the in-memory
 * `runReference` tells it) and a random community at scale.
 *
 *   npx tsx deploy/src/community.ts --scenario reference
 *   npx tsx deploy/src/community.ts --households 20
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateMnemonic, NodeApi } from '@tanglewatt/ledger';
import {
  deliveryStatement,
  formatKWh,
  formatTokens,
  type MatchingRule,
  randomInt,
  referenceProducers,
  renderTable,
  runReference,
  seededRandom,
  settlementRequest,
  type Trade,
  whToMWs,
} from '@tanglewatt/market';
import { Command, InvalidArgumentError, Option } from 'commander';
import pino, { type Logger } from 'pino';
import {
  type DeliveryOnTangleOptions,
  type DeliverySummary,
  deliverySummaryTable,
  runDeliveryOnTangle,
} from './community-delivery.js';
import {
  balanceOf,
  bookDigest,
  booksWithAll,
  byAccountIndex,
  devMnemonic,
  type HouseholdSpec,
  householdCall,
  type Link,
  type MarketBook,
  type Nudges,
  nudgesOf,
  type Posted,
  paymentIncluded,
  post,
  referenced,
  sleep,
  startHouseholds,
  stopHouseholds,
  uniqueMarketId,
  until,
} from './community-households.js';
import { ensureBinaries } from './install.js';
import { createLogger } from './log.js';
import { loadProfile } from './profile.js';
import { type TangleState, tangleDown, tangleUp } from './tangle.js';

/** A one-hour delivery window starting at the next full minute after the trading. */
function deliveryWindow(nowMs: number) {
  const startMs = Math.ceil(nowMs / 60_000) * 60_000 + 60_000;
  return { startMs, endMs: startMs + 3_600_000 };
}

// ---------------------------------------------------------------------------------------------------------
// The reference scenario

export const REFERENCE_CONSUMER_NAME = 'C201';
export const REFERENCE_PRICE = '10000';
const REFERENCE_SALE_WH = 50_000;
const REFERENCE_P107_WH = 10_000;
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
  const node = new NodeApi(tangle.nodes[0]!.restUrl);
  const mnemonic = await devMnemonic();
  const accounts = byAccountIndex(tangle);
  const names = [...referenceProducers.map((p) => p.identity), REFERENCE_CONSUMER_NAME];
  const specs: HouseholdSpec[] = names.map((name, i) => {
    const allocation = accounts[slots[i]!];
    if (allocation?.accountIndex === undefined) throw new Error(`no funded account in slot ${slots[i]}`);
    return {
      name,
      role: name.startsWith('P') ? 'producer' : 'consumer',
      mnemonic,
      accountIndex: allocation.accountIndex,
      initialOutputs: [allocation.outputId],
    };
  });
  const marketId = uniqueMarketId('reference');
  const rule: MatchingRule = 'pool';
  const fromMilestone = (await node.info()).status.confirmedMilestone.index;
  const startMs = performance.now();
  const households = await startHouseholds(
    tangle,
    specs,
    // Each producer offers exactly what it holds (at most 20 kWh), so this cap never binds.
    { id: marketId, rule, defaultCapacityWh: 100_000, fromMilestone },
    options.dataDir,
    log,
  );
  const link: Link = { households };
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

    const books = await booksWithAll(link, households, posted, 60_000);
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

    // Both parties ack each trade (one at a time per household: each message spends a sequence number);
    // the buyer pays the seller for full delivery.
    const acksBy = new Map<string, string[]>();
    for (const t of book.trades)
      for (const party of [t.seller, t.buyer]) acksBy.set(party, [...(acksBy.get(party) ?? []), t.id]);
    const ackPosts = Promise.all(
      [...acksBy].map(async ([address, tradeIds]) => {
        const h = byName.get(nameOf.get(address)!)!;
        const out: Posted[] = [];
        for (const tradeId of tradeIds) out.push(await post(h, 'ack', { tradeId }));
        return out;
      }),
    );
    // Awaited below, after the payments; marked handled so an early failure does not end the process.
    ackPosts.catch(() => undefined);
    const requests = book.trades.map((trade) => {
      const statement = deliveryStatement(trade, {
        deliveredMWs: whToMWs(trade.energyWh),
        nowMs: trade.window.endMs,
      });
      const request = settlementRequest(trade, statement, trade.payTo ?? trade.seller);
      if (!request) throw new Error(`trade ${trade.id} owes nothing`);
      return { trade, request, buyer: byName.get(nameOf.get(trade.buyer)!)! };
    });
    await Promise.all(requests.map((r) => householdCall(r.buyer, 'POST', '/payments', r.request)));
    const included = await Promise.all(
      requests.map((r) => paymentIncluded(r.buyer, r.request.idempotencyKey)),
    );
    const payments: SettlementPayment[] = requests.map((r, i) => ({
      tradeId: r.trade.id,
      from: r.buyer.name,
      to: nameOf.get(r.trade.seller)!,
      amountUnits: BigInt(r.request.amount),
      idempotencyKey: r.request.idempotencyKey,
      ...(included[i]!.blockId ? { blockId: included[i]!.blockId } : {}),
      milestoneIndex: included[i]!.milestoneIndex!,
    }));
    const paidAt = Math.max(...payments.map((p) => p.milestoneIndex));
    const endUnits = new Map(
      await Promise.all(households.map(async (h) => [h.name, await balanceOf(h, paidAt)] as const)),
    );
    const ackBooks = await booksWithAll(link, households, (await ackPosts).flat(), 60_000);
    if (new Set(ackBooks.map(bookDigest)).size !== 1) throw new Error('the households disagree on the acks');
    const settledMs = performance.now();

    const memory = runReference(rule);
    const referenceDelta = new Map(memory.rows.map((r) => [r.identity, r.endUnits - r.startUnits]));
    const sum = (ts: readonly Trade[]) => ts.reduce((a, t) => a + t.energyWh, 0);
    const rows = households.map((h): ReferenceOnTangleRow => {
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

export function referenceOnTangleTable(result: ReferenceOnTangleResult): string {
  const fills = (trades: readonly { sellerName: string; energyWh: number }[]) =>
    trades.map((t) => `${t.sellerName} ${formatKWh(t.energyWh)}`).join(', ') || 'nothing';
  const trades = Object.values(result.tradeIdsByHousehold)[0] ?? [];
  const header = [
    '',
    'held kWh',
    'sold kWh',
    'bought kWh',
    'now kWh',
    'unsold kWh',
    'ledger start',
    'ledger end',
    'Δ tokens',
    'reference Δ',
  ];
  const rows = result.rows.map((r) => [
    r.name,
    formatKWh(r.holdingsWh),
    formatKWh(r.soldWh),
    formatKWh(r.boughtWh),
    formatKWh(r.energyWh),
    formatKWh(r.unsoldWh),
    formatTokens(r.startUnits),
    formatTokens(r.endUnits),
    formatTokens(r.deltaUnits),
    formatTokens(r.referenceDeltaUnits),
  ]);
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const t = result.timings;
  const paid = result.payments.reduce((a, p) => a + p.amountUnits, 0n);
  return [
    `Reference scenario on the tangle: market ${result.marketId}, pool rule (largest offers first); price ${REFERENCE_PRICE} base units/Wh = 10 tokens/kWh`,
    `${REFERENCE_CONSUMER_NAME} buys ${formatKWh(REFERENCE_SALE_WH)} kWh: ${fills(result.sale)}`,
    `P107 buys ${formatKWh(REFERENCE_P107_WH)} kWh: ${fills(result.purchase)}`,
    `${result.households.length} wallet-services rebuilt the same book: ${trades.length} trades, ${result.acksInEveryBook} acks, identical trade ids`,
    `${result.payments.length} settlement payments, ${formatTokens(paid)} tokens, included by milestone ${Math.max(...result.payments.map((p) => p.milestoneIndex))}`,
    `timing: households up in ${s(t.upMs - t.startMs)}, 9 orders posted in ${s(t.postedMs - t.upMs)}, books agree ${s(t.agreedMs - t.postedMs)} after the last order, paid and acked ${s(t.settledMs - t.agreedMs)} later`,
    ...(result.nudges.promoted + result.nudges.reposted > 0
      ? [
          `blocks no milestone picked up: ${result.nudges.promoted} promoted, ${result.nudges.reposted} re-posted`,
        ]
      : []),
    '',
    renderTable(header, rows),
    '',
    'Ledger balances are the funded genesis accounts (10 000 tokens each); Δ is what the trades moved, which',
    'the in-memory reference (`reference Δ`, its end minus start tokens) must equal.',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Scale mode

export interface ScaleOnTangleOptions {
  tangle: TangleState;
  dataDir: string;
  log: Logger;
  households: number;
  seed?: number;
  /** Offers or bids each household posts (default 2). */
  ordersPerHousehold?: number;
  rule?: MatchingRule;
}

export interface ScaleSummary {
  households: number;
  producers: number;
  consumers: number;
  rule: MatchingRule;
  seed: number;
  messages: number;
  accepted: number;
  rejected: number;
  trades: number;
  tradedWh: number;
  /** Households started, in ms. */
  startupMs: number;
  /** First POST to the last 202. */
  postingMs: number;
  /** 202 answers per second over all households. */
  postedPerSecond: number;
  /** Last 202 until the milestones referenced every block. */
  lastToReferencedMs: number;
  /** Last 202 until a message's block was referenced (0 if it already was): median and 90th percentile. */
  referencedP50Ms: number;
  referencedP90Ms: number;
  /** Last 202 until every household's book held every message and all books were identical. */
  lastToAgreementMs: number;
  /** Messages in every book per second, first POST to agreement. */
  acceptedPerSecond: number;
  /** Last 202 until each household held every message: median and slowest. */
  householdCompleteP50Ms: number;
  householdCompleteMaxMs: number;
  nudges: Nudges;
}

/**
 * A random community on the real market: producers offer 0.5–5 kWh at 180–320 base units/Wh, consumers bid
 * 0.3–3 kWh at up to 200–340, all for the same hour, each household posting its orders one after another
 * and all households at once. Households need no funds to trade (market messages are value-free blocks),
 * so each has a new mnemonic; nothing is settled.
 */
export async function runScaleOnTangle(options: ScaleOnTangleOptions): Promise<ScaleSummary> {
  const { tangle, log } = options;
  const n = options.households;
  if (!Number.isSafeInteger(n) || n < 2) throw new Error('households: at least 2');
  const seed = options.seed ?? 1;
  const perHousehold = options.ordersPerHousehold ?? 2;
  const rule = options.rule ?? 'cda';
  const random = seededRandom(seed);
  const node = new NodeApi(tangle.nodes[0]!.restUrl);
  const specs: HouseholdSpec[] = Array.from({ length: n }, (_, i) => {
    const producer = i === 0 ? true : i === 1 ? false : randomInt(random, 0, 1) === 0;
    return {
      name: `${producer ? 'P' : 'C'}${String(i + 1).padStart(3, '0')}`,
      role: producer ? 'producer' : 'consumer',
      mnemonic: generateMnemonic(),
      accountIndex: 0,
      initialOutputs: [],
    };
  });
  const fromMilestone = (await node.info()).status.confirmedMilestone.index;
  const t0 = performance.now();
  const households = await startHouseholds(
    tangle,
    specs,
    { id: uniqueMarketId(`scale${n}`), rule, defaultCapacityWh: 1_000_000, fromMilestone },
    options.dataDir,
    log,
  );
  const link: Link = { households };
  try {
    const startupMs = performance.now() - t0;
    log.info({ households: n, startupMs: Math.round(startupMs) }, 'households up; posting');
    const window = deliveryWindow(Date.now());
    // Drawn before posting, so the orders depend on the seed alone.
    const plans = households.map((h) =>
      Array.from({ length: perHousehold }, () =>
        h.role === 'producer'
          ? {
              kind: 'sell' as const,
              body: {
                energyWh: randomInt(random, 5, 50) * 100,
                priceUnitsPerWh: String(randomInt(random, 180, 320)),
                window,
                minLotWh: 1,
              },
            }
          : {
              kind: 'buy' as const,
              body: {
                energyWh: randomInt(random, 3, 30) * 100,
                maxPriceUnitsPerWh: String(randomInt(random, 200, 340)),
                window,
              },
            },
      ),
    );
    const postStart = performance.now();
    const posted = (
      await Promise.all(
        households.map(async (h, i) => {
          const out: Posted[] = [];
          for (const plan of plans[i]!)
            out.push(await householdCall<Posted>(h, 'POST', `/market/${plan.kind}`, plan.body));
          return out;
        }),
      )
    ).flat();
    const lastPosted = performance.now();
    const ids = posted.map((p) => p.messageId);

    const referencedAfter = (
      await Promise.all(
        posted.map((p) => referenced(link, p, 120_000).then(() => performance.now() - lastPosted)),
      )
    ).sort((a, b) => a - b);
    const referencedAt = performance.now();
    const completeAt: number[] = new Array(n);
    const books = new Array<MarketBook>(n);
    await Promise.all(
      households.map(async (h, i) => {
        books[i] = await until(`${h.name}'s book with every message`, 180_000, async () => {
          const book = await householdCall<MarketBook>(h, 'GET', '/market');
          const seen = new Set([...book.accepted, ...book.rejections.map((r) => r.messageId)]);
          return ids.every((id) => seen.has(id)) ? book : undefined;
        });
        completeAt[i] = performance.now();
      }),
    );
    // A household may have read a later milestone meanwhile; re-read until all books are the same.
    let agreedAt = performance.now();
    let final = books;
    for (let attempt = 0; new Set(final.map(bookDigest)).size !== 1; attempt++) {
      if (attempt > 100) throw new Error('the households do not agree on the book');
      await sleep(100);
      final = await Promise.all(households.map((h) => householdCall<MarketBook>(h, 'GET', '/market')));
      agreedAt = performance.now();
    }
    const book = final[0]!;
    const accepted = ids.filter((id) => book.accepted.includes(id)).length;
    const sinceLast = completeAt.map((t) => t - lastPosted).sort((a, b) => a - b);
    const producers = households.filter((h) => h.role === 'producer').length;
    return {
      households: n,
      producers,
      consumers: n - producers,
      rule,
      seed,
      messages: posted.length,
      accepted,
      rejected: posted.length - accepted,
      trades: book.trades.length,
      tradedWh: book.trades.reduce((a, t) => a + t.energyWh, 0),
      startupMs,
      postingMs: lastPosted - postStart,
      postedPerSecond: (1000 * posted.length) / (lastPosted - postStart),
      lastToReferencedMs: referencedAt - lastPosted,
      referencedP50Ms: referencedAfter[Math.floor(referencedAfter.length / 2)]!,
      referencedP90Ms: referencedAfter[Math.floor(referencedAfter.length * 0.9)]!,
      lastToAgreementMs: agreedAt - lastPosted,
      acceptedPerSecond: (1000 * accepted) / (agreedAt - postStart),
      householdCompleteP50Ms: sinceLast[Math.floor(sinceLast.length / 2)]!,
      householdCompleteMaxMs: sinceLast[sinceLast.length - 1]!,
      nudges: nudgesOf(households),
    };
  } finally {
    await stopHouseholds(households);
  }
}

export function scaleSummaryTable(s: ScaleSummary, milestoneInterval?: string): string {
  const ms = (v: number) => `${Math.round(v)} ms`;
  const rows: [string, string][] = [
    ['households', `${s.households} wallet-services (${s.producers} producers, ${s.consumers} consumers)`],
    [
      'market',
      `rule ${s.rule}, seed ${s.seed}${milestoneInterval ? `, milestones every ${milestoneInterval}` : ''}`,
    ],
    ['started in', ms(s.startupMs)],
    ['messages', `${s.messages} posted, ${s.accepted} accepted, ${s.rejected} rejected`],
    ['posting', `${ms(s.postingMs)}: ${s.postedPerSecond.toFixed(1)} messages/s answered 202`],
    ['trades', `${s.trades}, ${formatKWh(s.tradedWh)} kWh`],
    [
      'last message → blocks referenced',
      `p50 ${ms(s.referencedP50Ms)}, p90 ${ms(s.referencedP90Ms)}, last ${ms(s.lastToReferencedMs)} (this run promoted ${s.nudges.promoted} and re-posted ${s.nudges.reposted} blocks no milestone had picked up)`,
    ],
    [
      'last message → household has all',
      `p50 ${ms(s.householdCompleteP50Ms)}, slowest ${ms(s.householdCompleteMaxMs)}`,
    ],
    ['last message → all books agree', ms(s.lastToAgreementMs)],
    ['accepted throughput', `${s.acceptedPerSecond.toFixed(1)} messages/s (first post → agreement)`],
  ];
  return renderTable(['', ''], rows, true).split('\n').slice(2).join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Either mode, on a given tangle or on one of its own

export type CommunityOnTangleOptions = {
  log: Logger;
  /** A running tangle; without one, a fresh tangle is started under `dataDir` and torn down at the end. */
  tangle?: TangleState;
  /** Default: a new temp dir, removed at the end. */
  dataDir?: string;
  /** For a tangle of its own (default 1s). */
  milestoneInterval?: string;
} & (
  | { scenario: 'reference'; slots?: readonly number[] }
  | (Omit<DeliveryOnTangleOptions, 'tangle' | 'dataDir' | 'log'> & { scenario: 'delivery' })
  | (Omit<ScaleOnTangleOptions, 'tangle' | 'dataDir' | 'log'> & { scenario?: undefined })
);

export type CommunityOnTangleResult =
  | { mode: 'reference'; result: ReferenceOnTangleResult }
  | { mode: 'delivery'; summary: DeliverySummary }
  | { mode: 'scale'; summary: ScaleSummary };

export async function runCommunityOnTangle(
  options: CommunityOnTangleOptions,
): Promise<CommunityOnTangleResult> {
  const { log } = options;
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'tanglewatt-community-')));
  const networkDir = join(dataDir, 'network');
  let tangle = options.tangle;
  try {
    if (!tangle) {
      tangle = await tangleUp({
        dataDir: networkDir,
        profile: await loadProfile('development'),
        binaries: await ensureBinaries({ log }),
        log,
        milestoneInterval: options.milestoneInterval ?? '1s',
        ports: 'auto',
        fresh: true,
      });
    }
    // Households are made afresh each run (new keystores, a new market id).
    const households = join(dataDir, 'households');
    await rm(households, { recursive: true, force: true });
    if (options.scenario === 'reference')
      return {
        mode: 'reference',
        result: await runReferenceOnTangle({
          tangle,
          dataDir: households,
          log,
          ...(options.slots ? { slots: options.slots } : {}),
        }),
      };
    if (options.scenario === 'delivery')
      return {
        mode: 'delivery',
        summary: await runDeliveryOnTangle({ ...options, tangle, dataDir: households }),
      };
    return {
      mode: 'scale',
      summary: await runScaleOnTangle({ ...options, tangle, dataDir: households }),
    };
  } finally {
    if (!options.tangle && tangle) await tangleDown(networkDir).catch(() => undefined);
    if (ownDir) await rm(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Command line

async function main(argv: string[]): Promise<void> {
  const whole = (what: string, min: number) => (value: string) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`${what}: a whole number ≥ ${min}`);
    return n;
  };
  const program = new Command('community')
    .description('the community simulator on a private tangle of its own: one wallet-service per household')
    .addOption(
      new Option(
        '--scenario <name>',
        'reference: the paper’s story; delivery: trades delivered and paid by meter-agents (with --households)',
      ).choices(['reference', 'delivery']),
    )
    .option('--households <n>', 'random households (scale mode)', whole('households', 2))
    .option('--orders <k>', 'offers or bids per household (scale mode)', whole('orders', 1), 2)
    .option('--seed <s>', 'seed (scale mode)', whole('seed', 0), 1)
    .addOption(
      new Option('--rule <rule>', 'matching rule (scale mode)').choices(['cda', 'pool']).default('cda'),
    )
    .option(
      '--window-minutes <m>',
      'delivery window of every order (delivery mode)',
      whole('window-minutes', 1),
      3,
    )
    .option('--milestone-interval <d>', 'milestone interval of the tangle', '1s')
    .option('--data-dir <dir>', 'keep the tangle and households here (default: a temp dir, removed)')
    .option('--json', 'print the result as JSON')
    .showHelpAfterError();
  program.parse(argv);
  const opts = program.opts<{
    scenario?: 'reference' | 'delivery';
    households?: number;
    windowMinutes: number;
    orders: number;
    seed: number;
    rule: MatchingRule;
    milestoneInterval: string;
    dataDir?: string;
    json?: boolean;
  }>();
  if (opts.scenario !== 'reference' && opts.households === undefined)
    program.error('give --scenario reference, or --households <n> (with --scenario delivery or alone)');
  // JSON on stdout stays parseable: the log goes to stderr then.
  const log = opts.json
    ? pino({ name: 'community', level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2))
    : createLogger('community');
  const dataDir = opts.dataDir
    ? resolve(opts.dataDir)
    : await mkdtemp(join(tmpdir(), 'tanglewatt-community-'));
  // Ctrl-C skips the run's own teardown: stop the tangle here, so no node outlives the command.
  process.once('SIGINT', () => {
    void tangleDown(join(dataDir, 'network'))
      .catch(() => undefined)
      .then(() => (opts.dataDir ? undefined : rm(dataDir, { recursive: true, force: true })))
      .finally(() => process.exit(130));
  });
  const common = { log, milestoneInterval: opts.milestoneInterval, dataDir };
  let run: CommunityOnTangleResult;
  try {
    run = await runCommunityOnTangle(
      opts.scenario === 'reference'
        ? { ...common, scenario: 'reference' }
        : opts.scenario === 'delivery'
          ? {
              ...common,
              scenario: 'delivery',
              households: opts.households!,
              seed: opts.seed,
              windowMinutes: opts.windowMinutes,
            }
          : {
              ...common,
              households: opts.households!,
              ordersPerHousehold: opts.orders,
              seed: opts.seed,
              rule: opts.rule,
            },
    );
  } finally {
    if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
  }
  const out = (text: string) => process.stdout.write(`${text}\n`);
  // From the holder: a BigInt.prototype.toJSON (the IOTA SDK installs a hex one) runs before a replacer sees v.
  const decimal = function (this: Record<string, unknown>, k: string, v: unknown) {
    const raw = this[k];
    return typeof raw === 'bigint' ? raw.toString() : v;
  };
  if (opts.json) out(JSON.stringify(run, decimal, 2));
  else if (run.mode === 'reference') out(referenceOnTangleTable(run.result));
  else if (run.mode === 'delivery') out(deliverySummaryTable(run.summary));
  else out(scaleSummaryTable(run.summary, opts.milestoneInterval));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    await main(process.argv);
  } catch (error) {
    process.stderr.write(`community: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
