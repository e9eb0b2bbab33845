/**
 * The community simulator's delivery mode: households trade on the real market, and every consumer's own
 * meter-agent takes its trades, delivers them through its relay and pays the sellers through its
 * wallet-service, on the real tangle. Trade windows are the network's time (milestones come in real time),
 * so instead of a faster clock the loads are strong: a few Wh arrive in seconds.
 *
 * About half the households are consumers on funded development accounts, each with a meter-agent (constant
 * load of 300–900 W, prepaid relay, `market` on); producers offer 3–8 Wh at 200–300 base units/Wh,
 * consumers bid for 2–6 Wh at up to 250–350, all for the same window.
 */
import { randomInt } from '@tanglewatt/market';
import type { AgentHandle, TradeView } from '@tanglewatt/meter-agent';
import type { Logger } from 'pino';
import { byAccountIndex, devMnemonic, fundedSlot, startHouseholdAgent } from '../household.js';
import { booksWithAll, type MarketBook, type Posted, post } from './book.js';
import {
  type CommunityHousehold,
  fundedMember,
  householdCall,
  newMarket,
  type RandomCommunityOptions,
  randomCommunity,
  startHouseholds,
  stopHouseholds,
  unfundedMember,
  until,
} from './households.js';

export interface DeliveryOnTangleOptions extends RandomCommunityOptions {
  /** Length of the delivery window every order shares (default 3 minutes). */
  windowMinutes?: number;
}

export interface DeliveredTrade extends TradeView {
  buyer: string;
  /** What the buyer's wallet-service had included on the ledger for this trade. */
  includedUnits: bigint;
  payments: number;
}

export interface DeliverySummary {
  households: number;
  producers: number;
  consumers: number;
  seed: number;
  trades: DeliveredTrade[];
  tradedWh: number;
  deliveredMWs: bigint;
  owedUnits: bigint;
  includedUnits: bigint;
  /** Last order posted → every household's book held every order. */
  booksAgreeMs: number;
  /** Last order posted → every trade closed by its buyer's agent. */
  allClosedMs: number;
  /** Last order posted → every trade payment included on the ledger. */
  allPaidMs: number;
}

interface PaymentItem {
  idempotencyKey: string;
  amount: string;
  state: string;
}

/** Returns once every trade is closed and every payment included; throws if one was paid other than owed. */
export async function runDeliveryOnTangle(options: DeliveryOnTangleOptions): Promise<DeliverySummary> {
  const { n, seed, random } = randomCommunity(options);
  const { tangle, log } = options;
  const funded = byAccountIndex(tangle).length;
  const consumers = Math.ceil(n / 2);
  if (consumers > funded)
    throw new Error(`households: at most ${2 * funded} (consumers pay from the funded accounts)`);
  const mnemonic = await devMnemonic();
  const members = Array.from({ length: n }, (_, i) =>
    i < consumers
      ? fundedMember(i, 'consumer', mnemonic, fundedSlot(tangle, i))
      : unfundedMember(i, 'producer'),
  );
  const market = await newMarket(tangle, `delivery${n}`, 'cda', 1_000);
  const households = await startHouseholds(tangle, members, market, options.dataDir, log);
  const agents: AgentHandle[] = [];
  try {
    const buyers = households.filter((h) => h.role === 'consumer');
    const sellers = households.filter((h) => h.role === 'producer');
    for (const h of buyers) agents.push(await startBuyerAgent(h, sellers[0]!, random, log));

    const now = Date.now();
    const window = { startMs: now, endMs: now + (options.windowMinutes ?? 3) * 60_000 };
    const posted: Posted[] = (
      await Promise.all(
        households.map((h) =>
          h.role === 'producer'
            ? post(h, 'sell', {
                energyWh: randomInt(random, 3, 8),
                priceUnitsPerWh: String(randomInt(random, 200, 300)),
                window,
                minLotWh: 1,
              })
            : post(h, 'buy', {
                energyWh: randomInt(random, 2, 6),
                maxPriceUnitsPerWh: String(randomInt(random, 250, 350)),
                window,
              }),
        ),
      )
    ).flat();
    const lastPosted = Date.now();
    const books: MarketBook[] = await booksWithAll(households, posted, 120_000);
    const booksAgreeMs = Date.now() - lastPosted;
    const trades = books[0]!.trades;

    // Each buyer's agent takes, delivers and closes its trades by the window's end at the latest.
    const views = new Map<string, TradeView & { buyer: string }>();
    await until('every trade closed by its buyer’s agent', window.endMs - Date.now() + 60_000, async () => {
      for (const [i, h] of buyers.entries())
        for (const v of agents[i]!.snapshot().trades ?? []) views.set(v.id, { ...v, buyer: h.name });
      return trades.every((t) => {
        const v = views.get(t.id);
        return v && v.state !== 'waiting' && v.state !== 'delivering' && v.unanswered === 0;
      })
        ? true
        : undefined;
    });
    const allClosedMs = Date.now() - lastPosted;

    // Every payment the agents asked for, included on the ledger.
    const included = new Map<string, { units: bigint; payments: number }>();
    await until('every trade payment included', 120_000, async () => {
      included.clear();
      for (const h of buyers) {
        const list = await householdCall<{ items: PaymentItem[] }>(h, 'GET', '/payments?limit=500');
        for (const p of list.items) {
          const tradeId = /^market\/([0-9a-f]{64})\//.exec(p.idempotencyKey)?.[1];
          if (!tradeId) continue;
          if (p.state !== 'included') return undefined;
          const sum = included.get(tradeId) ?? { units: 0n, payments: 0 };
          included.set(tradeId, { units: sum.units + BigInt(p.amount), payments: sum.payments + 1 });
        }
      }
      return true;
    });
    const allPaidMs = Date.now() - lastPosted;

    const rows: DeliveredTrade[] = trades.map((t) => {
      const v = views.get(t.id)!;
      const paid = included.get(t.id) ?? { units: 0n, payments: 0 };
      return {
        ...v,
        seller: sellers.find((s) => s.address === t.seller)?.name ?? t.seller,
        includedUnits: paid.units,
        payments: paid.payments,
      };
    });
    for (const r of rows)
      if (r.includedUnits !== BigInt(r.owedUnits))
        throw new Error(
          `trade ${r.id.slice(0, 16)} (${r.seller} → ${r.buyer}): ${r.includedUnits} units paid, ${r.owedUnits} owed`,
        );
    return {
      households: n,
      producers: sellers.length,
      consumers: buyers.length,
      seed,
      trades: rows,
      tradedWh: rows.reduce((a, r) => a + r.energyWh, 0),
      deliveredMWs: rows.reduce((a, r) => a + BigInt(r.creditedMWs), 0n),
      owedUnits: rows.reduce((a, r) => a + BigInt(r.owedUnits), 0n),
      includedUnits: rows.reduce((a, r) => a + r.includedUnits, 0n),
      booksAgreeMs,
      allClosedMs,
      allPaidMs,
    };
  } finally {
    await Promise.all(agents.map((a) => a.stop().catch(() => undefined)));
    await stopHouseholds(households);
  }
}

/** A consumer's meter-agent: a strong constant load, a prepaid relay, and its household's trades to run. */
function startBuyerAgent(
  h: CommunityHousehold,
  regularProducer: CommunityHousehold,
  random: () => number,
  log: Logger,
): Promise<AgentHandle> {
  return startHouseholdAgent(h, {
    config: {
      meterId: `${h.name}-meter`,
      role: 'consumer',
      parties: { consumer: h.address, producer: regularProducer.address },
      sensors: [
        {
          name: 'load',
          kind: 'simulated',
          profile: { type: 'constant', busVoltageMV: 12_000, currentMA: randomInt(random, 25_000, 75_000) },
        },
      ],
      sampleIntervalMs: 1000,
      period: { seconds: 15 },
      // Only traded energy is priced here: the regular supply is free in this simulation.
      price: { unitsPerWh: '0' },
      prepaid: { enabled: true, relay: { kind: 'simulated' } },
      market: { pollSeconds: 1 },
    },
    pay: 'api',
    log: log.child({ meter: h.name }, { level: 'warn' }),
  });
}
