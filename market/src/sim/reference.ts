import { type Book, rebuildBook } from '../book.js';
import { type DeliveryStatement, deliveryStatement } from '../delivery.js';
import { MarketAuthor, type SignedMessage, secretKeyFromPhrase } from '../messages.js';
import type { MatchingRule, Trade } from '../trades.js';
import { type Window, whToMWs } from '../units.js';
import { formatKWh, formatTokens, renderTable, UNITS_PER_TOKEN } from './format.js';

/**
 * The reference simulation (P2PET on IOTA, Tables 2 and 3), reconstructed so its numbers agree:
 *
 * - Seven producers hold 66.5 kWh in all: P101 5, P102 20, P103 19, P104 2.5, P105 12.5, P106 1.5, P107 6.
 *   The paper names only the 66.5 total, the 20/19/11 kWh sold and the 5/2.5/1.5/1.5 kWh left with
 *   P101/P104/P105/P106; these holdings are the ones consistent with all three.
 * - Each offers all it holds, at one price. The consumer community (C201) buys 50 kWh under the pool rule,
 *   largest offers first: 20 from P102, 19 from P103, 11 from P105 (12.5 offered).
 * - P107 then buys 10 kWh inside the community for 100 tokens: 10 tokens/kWh = 0.01 token/Wh =
 *   10 000 base units/Wh. Its own 6 kWh offer cannot fill its own order (no self-trade), so the others'
 *   10.5 kWh fill it: P101 5, P104 2.5, then P105 and P106 tie at 1.5 kWh and the same price, so the earlier
 *   offer (P105, posted a second before P106) gives 1.5 and P106 gives 1.0.
 * - The paper's prices for Table 2 and P107's opening balance are not given; we assume the same 0.01
 *   token/Wh for the 50 kWh sale (500 tokens, C201 starts with exactly that) and that P107 starts with the
 *   100 tokens it spends. Every other producer starts at 0, as in the paper.
 * - The paper's "remaining 11.5 kW" does not fit its own figures: what is left for sale after the 50 kWh is
 *   16.5 kWh, 10.5 of it with producers other than P107.
 */
export const REFERENCE_MARKET = 'reference-p2pet';
/** The paper gives no date or time; this one keeps timestamps readable. */
export const REFERENCE_START_MS = Date.UTC(2021, 5, 1, 10, 0, 0);
export const REFERENCE_WINDOW: Window = {
  startMs: REFERENCE_START_MS + 3_600_000,
  endMs: REFERENCE_START_MS + 2 * 3_600_000,
};
export const REFERENCE_PRICE_UNITS_PER_WH = '10000';

export const referenceProducers = [
  { identity: 'P101', holdingsWh: 5_000 },
  { identity: 'P102', holdingsWh: 20_000 },
  { identity: 'P103', holdingsWh: 19_000 },
  { identity: 'P104', holdingsWh: 2_500 },
  { identity: 'P105', holdingsWh: 12_500 },
  { identity: 'P106', holdingsWh: 1_500 },
  { identity: 'P107', holdingsWh: 6_000 },
] as const;

export const REFERENCE_CONSUMER = 'C201';
export const REFERENCE_SALE_WH = 50_000;
export const REFERENCE_P107_PURCHASE_WH = 10_000;

export const referenceStartUnits: Readonly<Record<string, bigint>> = {
  P101: 0n,
  P102: 0n,
  P103: 0n,
  P104: 0n,
  P105: 0n,
  P106: 0n,
  P107: 100n * UNITS_PER_TOKEN,
  [REFERENCE_CONSUMER]: 500n * UNITS_PER_TOKEN,
};

const holdings = new Map<string, number>(referenceProducers.map((p) => [p.identity, p.holdingsWh]));

/** Each producer's meter can deliver what it holds. */
export function referenceCapacityWh(producer: string): number {
  return holdings.get(producer) ?? 0;
}

function authors(): Map<string, MarketAuthor> {
  const names = [...referenceProducers.map((p) => p.identity), REFERENCE_CONSUMER];
  return new Map(
    names.map((name) => [
      name,
      new MarketAuthor(secretKeyFromPhrase(`reference/${name}`), name, REFERENCE_MARKET),
    ]),
  );
}

const saleAtMs = REFERENCE_START_MS + 60_000;
const purchaseAtMs = REFERENCE_START_MS + 120_000;
const acksAtMs = REFERENCE_START_MS + 180_000;
/** The book is read before delivery starts. */
export const REFERENCE_BOOK_NOW_MS = REFERENCE_START_MS + 600_000;

function options(rule: MatchingRule) {
  return {
    market: REFERENCE_MARKET,
    rule,
    nowMs: REFERENCE_BOOK_NOW_MS,
    capacityWh: referenceCapacityWh,
  };
}

/** The signed script: offers one second apart in P101…P107 order, the two purchases, then every ack. */
export function referenceMessages(rule: MatchingRule = 'pool'): SignedMessage[] {
  const people = authors();
  const messages: SignedMessage[] = referenceProducers.map((p, i) =>
    people.get(p.identity)!.sell(REFERENCE_START_MS + (i + 1) * 1000, {
      energyWh: p.holdingsWh,
      priceUnitsPerWh: REFERENCE_PRICE_UNITS_PER_WH,
      window: REFERENCE_WINDOW,
    }),
  );
  const order = (who: string, atMs: number, energyWh: number) =>
    people
      .get(who)!
      .buy(atMs, { energyWh, maxPriceUnitsPerWh: REFERENCE_PRICE_UNITS_PER_WH, window: REFERENCE_WINDOW });
  messages.push(order(REFERENCE_CONSUMER, saleAtMs, REFERENCE_SALE_WH));
  messages.push(order('P107', purchaseAtMs, REFERENCE_P107_PURCHASE_WH));
  const { trades } = rebuildBook(messages, options(rule));
  for (const trade of trades)
    for (const party of [trade.seller, trade.buyer])
      messages.push(people.get(party)!.ack(acksAtMs, trade.id));
  return messages;
}

export interface ReferenceRow {
  identity: string;
  holdingsWh: number;
  soldWh: number;
  boughtWh: number;
  /** What it held after the consumer community's 50 kWh purchase. */
  afterSaleWh: number;
  /** What it holds now: holdings − sold + bought. */
  energyWh: number;
  /** Offered and not sold. */
  unsoldWh: number;
  startUnits: bigint;
  endUnits: bigint;
}

export interface ReferenceResult {
  rule: MatchingRule;
  book: Book;
  /** Trades of the consumer community's 50 kWh. */
  sale: Trade[];
  /** Trades of P107's 10 kWh. */
  purchase: Trade[];
  /** Each trade settled after full delivery, at the window end. */
  statements: DeliveryStatement[];
  rows: ReferenceRow[];
}

export function runReference(rule: MatchingRule = 'pool'): ReferenceResult {
  const book = rebuildBook(referenceMessages(rule), options(rule));
  const buyIdOf = (who: string) => book.orders.find((o) => o.side === 'buy' && o.owner === who)!.id;
  const sale = book.trades.filter((t) => t.buyOrderId === buyIdOf(REFERENCE_CONSUMER));
  const purchase = book.trades.filter((t) => t.buyOrderId === buyIdOf('P107'));
  const statements = book.trades.map((t) =>
    deliveryStatement(t, { deliveredMWs: whToMWs(t.energyWh), nowMs: REFERENCE_WINDOW.endMs }),
  );
  const owed = new Map(statements.map((s) => [s.tradeId, s.owedUnits]));
  const rows = [...referenceProducers.map((p) => p.identity), REFERENCE_CONSUMER].map(
    (identity): ReferenceRow => {
      const sold = book.trades.filter((t) => t.seller === identity);
      const bought = book.trades.filter((t) => t.buyer === identity);
      const sum = (ts: Trade[]) => ts.reduce((a, t) => a + t.energyWh, 0);
      const money = (ts: Trade[]) => ts.reduce((a, t) => a + owed.get(t.id)!, 0n);
      const holdingsWh = holdings.get(identity) ?? 0;
      const offer = book.orders.find((o) => o.side === 'sell' && o.owner === identity);
      return {
        identity,
        holdingsWh,
        soldWh: sum(sold),
        boughtWh: sum(bought),
        afterSaleWh:
          holdingsWh -
          sum(sale.filter((t) => t.seller === identity)) +
          sum(sale.filter((t) => t.buyer === identity)),
        energyWh: holdingsWh - sum(sold) + sum(bought),
        unsoldWh: offer?.remainingWh ?? 0,
        startUnits: referenceStartUnits[identity] ?? 0n,
        endUnits: (referenceStartUnits[identity] ?? 0n) + money(sold) - money(bought),
      };
    },
  );
  return { rule, book, sale, purchase, statements, rows };
}

export function referenceTable(result: ReferenceResult): string {
  const header = [
    '',
    'held kWh',
    'after sale kWh',
    'sold kWh',
    'bought kWh',
    'now kWh',
    'unsold kWh',
    'start tokens',
    'end tokens',
  ];
  const rows = result.rows.map((r) => [
    r.identity,
    formatKWh(r.holdingsWh),
    formatKWh(r.afterSaleWh),
    formatKWh(r.soldWh),
    formatKWh(r.boughtWh),
    formatKWh(r.energyWh),
    formatKWh(r.unsoldWh),
    formatTokens(r.startUnits),
    formatTokens(r.endUnits),
  ]);
  const fills = (trades: Trade[]) =>
    trades.map((t) => `${t.seller} ${formatKWh(t.energyWh)}`).join(', ') || 'nothing';
  return [
    `Reference scenario, ${result.rule === 'pool' ? 'pool rule (largest offers first)' : 'continuous double auction'}; price ${REFERENCE_PRICE_UNITS_PER_WH} base units/Wh = 0.01 token/Wh = 10 tokens/kWh`,
    `${REFERENCE_CONSUMER} buys ${formatKWh(REFERENCE_SALE_WH)} kWh: ${fills(result.sale)}`,
    `P107 buys ${formatKWh(REFERENCE_P107_PURCHASE_WH)} kWh: ${fills(result.purchase)}`,
    '',
    renderTable(header, rows),
  ].join('\n');
}
