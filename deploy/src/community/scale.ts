/**
 * The community simulator's scale mode: a random community of N households trading on the real market at
 * once, timed from the first order to every household's book agreeing.
 */
import { type MatchingRule, randomInt } from '@tanglewatt/market';
import {
  bookDigest,
  deliveryWindow,
  holdsAll,
  type MarketBook,
  type Nudges,
  nudgesOf,
  type Posted,
  referenced,
} from './book.js';
import {
  householdCall,
  newMarket,
  type RandomCommunityOptions,
  randomCommunity,
  sleep,
  startHouseholds,
  stopHouseholds,
  unfundedMember,
  until,
} from './households.js';

export interface ScaleOnTangleOptions extends RandomCommunityOptions {
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
  const { n, seed, random } = randomCommunity(options);
  const perHousehold = options.ordersPerHousehold ?? 2;
  const rule = options.rule ?? 'cda';
  const members = Array.from({ length: n }, (_, i) => {
    const producer = i === 0 ? true : i === 1 ? false : randomInt(random, 0, 1) === 0;
    return unfundedMember(i, producer ? 'producer' : 'consumer');
  });
  const market = await newMarket(tangle, `scale${n}`, rule, 1_000_000);
  const t0 = performance.now();
  const households = await startHouseholds(tangle, members, market, options.dataDir, log);
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
        posted.map((p) => referenced(households, p, 120_000).then(() => performance.now() - lastPosted)),
      )
    ).sort((a, b) => a - b);
    const referencedAt = performance.now();
    const completeAt: number[] = new Array(n);
    const books = new Array<MarketBook>(n);
    await Promise.all(
      households.map(async (h, i) => {
        books[i] = await until(`${h.name}'s book with every message`, 180_000, async () => {
          const book = await householdCall<MarketBook>(h, 'GET', '/market');
          return holdsAll(book, ids) ? book : undefined;
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
