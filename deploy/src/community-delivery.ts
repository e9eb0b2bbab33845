/**
 * The community simulator's delivery mode: households trade on the real market, and every consumer's own
 * meter-agent takes its trades, delivers them through its relay and pays the sellers through its
 * wallet-service, on the real tangle. Trade windows are the network's time (milestones come in real time),
 * so instead of a faster clock the loads are strong: a few Wh arrive in seconds.
 */
import { join } from 'node:path';
import { generateMnemonic, NodeApi } from '@tanglewatt/ledger';
import { randomInt, seededRandom } from '@tanglewatt/market';
import { type AgentHandle, startAgent, type TradeView } from '@tanglewatt/meter-agent';
import type { Logger } from 'pino';
import {
  booksWithAll,
  byAccountIndex,
  type CommunityHousehold,
  devMnemonic,
  type HouseholdSpec,
  householdCall,
  type MarketBook,
  type Posted,
  post,
  startHouseholds,
  stopHouseholds,
  uniqueMarketId,
  until,
} from './community-households.js';
import type { TangleState } from './tangle.js';

export interface DeliveryOnTangleOptions {
  tangle: TangleState;
  dataDir: string;
  log: Logger;
  households: number;
  seed?: number;
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

/**
 * Runs the delivery mode: about half the households are consumers on funded development accounts, each
 * with a meter-agent (constant load of 300–900 W, prepaid relay, `market` on); producers offer 3–8 Wh at
 * 200–300 base units/Wh, consumers bid for 2–6 Wh at up to 250–350, all for the same window. Returns once
 * every trade is closed and every payment included, and throws if any trade was paid other than exactly
 * what its delivered energy owes.
 */
export async function runDeliveryOnTangle(options: DeliveryOnTangleOptions): Promise<DeliverySummary> {
  const { tangle, log } = options;
  const n = options.households;
  const seed = options.seed ?? 1;
  const random = seededRandom(seed);
  const accounts = byAccountIndex(tangle);
  const consumers = Math.ceil(n / 2);
  if (n < 2) throw new Error('households: at least 2');
  if (consumers > accounts.length)
    throw new Error(`households: at most ${2 * accounts.length} (consumers pay from the funded accounts)`);
  const mnemonic = await devMnemonic();
  const specs: HouseholdSpec[] = Array.from({ length: n }, (_, i) => {
    const consumer = i < consumers;
    const allocation = consumer ? accounts[i]! : undefined;
    return {
      name: `${consumer ? 'C' : 'P'}${String(i + 1).padStart(3, '0')}`,
      role: consumer ? 'consumer' : 'producer',
      mnemonic: consumer ? mnemonic : generateMnemonic(),
      accountIndex: allocation?.accountIndex ?? 0,
      initialOutputs: allocation ? [allocation.outputId] : [],
    };
  });
  const households = await startHouseholds(
    tangle,
    specs,
    {
      id: uniqueMarketId(`delivery${n}`),
      rule: 'cda',
      defaultCapacityWh: 1_000,
      fromMilestone: (await new NodeApi(tangle.nodes[0]!.restUrl).info()).status.confirmedMilestone.index,
    },
    options.dataDir,
    log,
  );
  const agents: AgentHandle[] = [];
  try {
    const buyers = households.filter((h) => h.role === 'consumer');
    const sellers = households.filter((h) => h.role === 'producer');
    for (const h of buyers) agents.push(await startBuyerAgent(h, sellers[0]!, options.dataDir, random, log));

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
    const books: MarketBook[] = await booksWithAll({ households }, households, posted, 120_000);
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
  dataDir: string,
  random: () => number,
  log: Logger,
): Promise<AgentHandle> {
  return startAgent({
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
      walletService: { url: h.url, token: h.token },
      dataDir: join(dataDir, h.name, 'agent'),
      prepaid: { enabled: true, relay: { kind: 'simulated' } },
      market: { pollSeconds: 1 },
    },
    log: log.child({ meter: h.name }, { level: 'warn' }),
  });
}

export function deliverySummaryTable(s: DeliverySummary): string {
  const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const wh = (mws: bigint) => `${(Number(mws) / 3_600_000).toFixed(3)} Wh`;
  const delivered = s.trades.filter((t) => t.state === 'delivered').length;
  const lines = [
    `Delivery on the tangle: ${s.households} households (${s.producers} producers, ${s.consumers} consumers with meter-agents), seed ${s.seed}`,
    `${s.trades.length} trades, ${s.tradedWh} Wh: ${delivered} delivered in full, ${s.trades.length - delivered} closed short; ${wh(s.deliveredMWs)} delivered`,
    `paid exactly what was owed: ${s.includedUnits} base units included on the ledger for ${s.owedUnits} owed, in ${s.trades.reduce((a, t) => a + t.payments, 0)} payments`,
    `after the last order: books agree in ${sec(s.booksAgreeMs)}, every trade closed in ${sec(s.allClosedMs)}, every payment included in ${sec(s.allPaidMs)}`,
    '',
    ['seller', 'buyer', 'Wh', 'units/Wh', 'state', 'delivered', 'owed', 'paid', 'payments'].join('\t'),
    ...s.trades.map((t) =>
      [
        t.seller,
        t.buyer,
        t.energyWh,
        t.priceUnitsPerWh,
        t.state,
        wh(BigInt(t.creditedMWs)),
        t.owedUnits,
        t.includedUnits,
        t.payments,
      ].join('\t'),
    ),
  ];
  return lines.join('\n');
}
