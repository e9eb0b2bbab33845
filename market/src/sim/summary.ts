import type { CommunitySummary } from './community.js';
import { cutDecimal, formatKWh, formatTokens, renderTable } from './format.js';

/** The community summary as aligned `label  value` lines. */
export function summaryTable(s: CommunitySummary, elapsedMs?: number): string {
  const pct = (part: number, whole: number) => (whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)} %`);
  const rejected = Object.entries(s.rejected)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  const rows: [string, string][] = [
    ['households', `${s.households} (${s.producers} producers, ${s.consumers} consumers)`],
    ['simulated time', `${s.hours} h, seed ${s.seed}, rule ${s.rule}`],
    ['messages', `${s.messages} sent, ${s.accepted} accepted`],
    ['rejected', rejected || 'none'],
    ['offers / bids', `${s.offers} / ${s.bids}`],
    ['offered / wanted', `${formatKWh(s.offeredWh)} kWh / ${formatKWh(s.demandWh)} kWh`],
    [
      'traded',
      `${formatKWh(s.tradedWh)} kWh in ${s.trades} trades (${pct(s.tradedWh, s.demandWh)} of demand)`,
    ],
    ['acknowledged', `${s.acks} acks (${pct(s.acks, 2 * s.trades)} of parties)`],
    ['average price', `${cutDecimal(s.averagePriceUnitsPerWh, 3)} base units/Wh`],
    ['delivered', `${formatKWh(s.deliveredWh)} kWh (${pct(s.deliveredWh, s.tradedWh)})`],
    ['shortfall', `${s.shortfallTrades} trades, ${formatKWh(s.shortfallWh)} kWh`],
    [
      'value',
      `${formatTokens(s.tradeValueUnits)} tokens traded, ${formatTokens(s.owedUnits)} owed for delivery`,
    ],
  ];
  if (elapsedMs !== undefined)
    rows.push(['computed in', `${Math.round(elapsedMs)} ms (sign, verify, match twice)`]);
  return renderTable(['', ''], rows, true).split('\n').slice(2).join('\n');
}
