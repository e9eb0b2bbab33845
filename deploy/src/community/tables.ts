/** What the community simulator prints: a table for each mode's result. */
import { formatKWh, formatTokens, renderTable } from '@tanglewatt/market';
import type { DeliverySummary } from './delivery.js';
import {
  REFERENCE_CONSUMER_NAME,
  REFERENCE_P107_WH,
  REFERENCE_PRICE,
  REFERENCE_SALE_WH,
  type ReferenceOnTangleResult,
  type ReferenceOnTangleRow,
} from './reference.js';
import type { ScaleSummary } from './scale.js';

export function referenceOnTangleTable(result: ReferenceOnTangleResult): string {
  const fills = (trades: readonly { sellerName: string; energyWh: number }[]) =>
    trades.map((t) => `${t.sellerName} ${formatKWh(t.energyWh)}`).join(', ') || 'nothing';
  const trades = Object.values(result.tradeIdsByHousehold)[0] ?? [];
  // Each column: its heading and what it shows of a household's row.
  const kWh =
    (key: 'holdingsWh' | 'soldWh' | 'boughtWh' | 'energyWh' | 'unsoldWh') => (r: ReferenceOnTangleRow) =>
      formatKWh(r[key]);
  const tokens =
    (key: 'startUnits' | 'endUnits' | 'deltaUnits' | 'referenceDeltaUnits') => (r: ReferenceOnTangleRow) =>
      formatTokens(r[key]);
  const columns: [string, (r: ReferenceOnTangleRow) => string][] = [
    ['', (r) => r.name],
    ['held kWh', kWh('holdingsWh')],
    ['sold kWh', kWh('soldWh')],
    ['bought kWh', kWh('boughtWh')],
    ['now kWh', kWh('energyWh')],
    ['unsold kWh', kWh('unsoldWh')],
    ['ledger start', tokens('startUnits')],
    ['ledger end', tokens('endUnits')],
    ['Δ tokens', tokens('deltaUnits')],
    ['reference Δ', tokens('referenceDeltaUnits')],
  ];
  const header = columns.map(([heading]) => heading);
  const rows = result.rows.map((r) => columns.map(([, cell]) => cell(r)));
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
