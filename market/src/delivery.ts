import type { Trade } from './trades.js';
import { MWS_PER_WH, parsePrice, unitsForMWs, unitsForWh, type Window, whToMWs } from './units.js';

/** `delivering` until the energy is all there (relay off) or the window ends short (`shortfall`). */
export type DeliveryState = 'delivering' | 'delivered' | 'shortfall';

/**
 * What a trade owes, from the energy metered into the buyer during its window. Policy: the buyer pays
 * floor(min(delivered, traded) × price) — for what arrived, never for a fraction of a base unit, never for
 * energy beyond the trade. Owed is cumulative, so paying `dueUnits` after each meter period pays exactly
 * floor(total) over the trade with no rounding loss per period.
 */
export interface DeliveryStatement {
  tradeId: string;
  state: DeliveryState;
  /** Whether the buyer's relay should be closed now: inside the window and not yet delivered. */
  relayOn: boolean;
  tradedMWs: bigint;
  deliveredMWs: bigint;
  /** Delivered energy that is paid for: min(delivered, traded). */
  creditedMWs: bigint;
  /** Delivered beyond the trade: not paid. */
  excessMWs: bigint;
  /** Traded but not delivered by the window end; 0 while delivering. */
  shortfallMWs: bigint;
  /** floor(energyWh × price): what full delivery would cost. */
  tradeValueUnits: bigint;
  owedUnits: bigint;
  paidUnits: bigint;
  /** owed − paid when positive. */
  dueUnits: bigint;
  /** paid − owed when positive (paid ahead of delivery that then fell short). */
  overpaidUnits: bigint;
  /** When the trade closed: delivery complete (now) or window end. */
  closedAtMs?: number;
}

export interface DeliveryInput {
  /** Energy metered into the buyer inside the trade's window (see `meteredInWindowMWs`). */
  deliveredMWs: bigint;
  nowMs: number;
  /** What the buyer has paid for this trade so far. */
  paidUnits?: bigint;
}

/** What delivery and settlement need of a trade. */
export type TradeTerms = Pick<Trade, 'id' | 'market' | 'energyWh' | 'priceUnitsPerWh' | 'window'>;

export function deliveryStatement(trade: TradeTerms, input: DeliveryInput): DeliveryStatement {
  const price = parsePrice(trade.priceUnitsPerWh);
  const tradedMWs = whToMWs(trade.energyWh);
  const deliveredMWs = input.deliveredMWs < 0n ? 0n : input.deliveredMWs;
  const creditedMWs = deliveredMWs < tradedMWs ? deliveredMWs : tradedMWs;
  const complete = creditedMWs === tradedMWs;
  const ended = input.nowMs >= trade.window.endMs;
  const state: DeliveryState = complete ? 'delivered' : ended ? 'shortfall' : 'delivering';
  const owedUnits = unitsForMWs(creditedMWs, price);
  const paidUnits = input.paidUnits ?? 0n;
  const statement: DeliveryStatement = {
    tradeId: trade.id,
    state,
    relayOn: state === 'delivering' && input.nowMs >= trade.window.startMs,
    tradedMWs,
    deliveredMWs,
    creditedMWs,
    excessMWs: deliveredMWs - creditedMWs,
    shortfallMWs: state === 'shortfall' ? tradedMWs - creditedMWs : 0n,
    tradeValueUnits: unitsForWh(trade.energyWh, price),
    owedUnits,
    paidUnits,
    dueUnits: owedUnits > paidUnits ? owedUnits - paidUnits : 0n,
    overpaidUnits: paidUnits > owedUnits ? paidUnits - owedUnits : 0n,
  };
  if (state === 'delivered') statement.closedAtMs = Math.min(input.nowMs, trade.window.endMs);
  if (state === 'shortfall') statement.closedAtMs = trade.window.endMs;
  return statement;
}

/** One meter period's energy, as the meter-agent records it. */
export interface MeteredInterval {
  startMs: number;
  endMs: number;
  energyMWs: bigint;
}

/**
 * Energy metered inside a window. Periods inside count whole; a period straddling an edge counts for the
 * share of its time inside, floored (assumes even power across the period — align periods to windows to
 * avoid it); periods outside do not count.
 */
export function meteredInWindowMWs(intervals: readonly MeteredInterval[], window: Window): bigint {
  let total = 0n;
  for (const period of intervals) {
    const lengthMs = period.endMs - period.startMs;
    if (lengthMs <= 0) continue;
    const insideMs = Math.min(period.endMs, window.endMs) - Math.max(period.startMs, window.startMs);
    if (insideMs <= 0) continue;
    total +=
      insideMs >= lengthMs ? period.energyMWs : (period.energyMWs * BigInt(insideMs)) / BigInt(lengthMs);
  }
  return total;
}

/**
 * The wallet-service payment request (contract `paymentRequest`) that settles what is due, or
 * undefined when nothing is. The idempotency key names the cumulative amount owed, so a retry after a crash
 * is the same payment and each increment is paid once.
 */
export function settlementRequest(trade: TradeTerms, statement: DeliveryStatement, payTo: string) {
  if (statement.dueUnits === 0n) return undefined;
  return {
    idempotencyKey: `market/${trade.id}/${statement.owedUnits}`,
    to: payTo,
    amount: statement.dueUnits.toString(),
    metadata: {
      periodId: `trade:${trade.id.slice(0, 32)}`,
      energyMWs: statement.creditedMWs.toString(),
      priceUnitsPerWh: trade.priceUnitsPerWh,
      periodStart: new Date(trade.window.startMs).toISOString(),
      periodEnd: new Date(trade.window.endMs).toISOString(),
      note: `market ${trade.market} trade ${trade.id.slice(0, 16)} ${statement.state}`,
    },
  };
}

/** Whole Wh in an energy in mW·s (floored), for display. */
export function mwsToWh(energyMWs: bigint): bigint {
  return energyMWs / MWS_PER_WH;
}
