/**
 * Closing a period: the record it gets (the traded share, the tariff's pricing, the carry) and how far back
 * the sample journal must still be kept once it is recorded.
 */
import type { Clock } from './clock.js';
import type { AgentConfig } from './config.js';
import { tradesCreditedHalfNJ } from './market/desk.js';
import type { PeriodTotals } from './metering/meter.js';
import { cyclePayment, withCycle } from './money/cycle.js';
import { withRegisters } from './money/registers.js';
import { closingTariff, heldFeeCarry } from './money/tariff-period.js';
import { carryAfter, periodRecordFrom, tradedShare } from './period-record.js';
import type { PurchaseProgress } from './prepaid.js';
import type { SampleStore } from './store/sample-store.js';
import { awaitingChannelRoot, type PeriodRecord, type StateStore } from './store/state.js';

export interface PeriodCloseContext {
  config: AgentConfig;
  clock: Clock;
  state: StateStore;
  samples: SampleStore;
  metered: string;
  gapMs: number;
  channelId: string | undefined;
  previous: PeriodRecord | undefined;
  activePurchase: PurchaseProgress | undefined;
  problem: (message: string) => void;
}

/** The record of a period that just closed, priced under the tariff when one is configured. */
export async function closedPeriodRecord(totals: PeriodTotals, k: PeriodCloseContext): Promise<PeriodRecord> {
  const record = withRegisters(await pricedPeriodRecord(totals, k), k.previous);
  const tariff = k.config.tariff;
  if (!tariff || tariff.mode === 'metered' || !record.tariff) return record;
  return cyclePayment(withCycle(record, k.previous, tariff), k.config);
}

async function pricedPeriodRecord(totals: PeriodTotals, k: PeriodCloseContext): Promise<PeriodRecord> {
  const { config, previous } = k;
  // Energy the market trades were credited since the last period is paid per trade, not here.
  const traded = config.market
    ? tradedShare(
        tradesCreditedHalfNJ(k.state.state, k.activePurchase),
        previous,
        totals.energy.deliveredHalfNJ,
      )
    : undefined;
  const tariff = await closingTariff(totals, k);
  const record = periodRecordFrom(
    totals,
    carryAfter(previous),
    config,
    k.clock.nowMs(),
    k.channelId,
    traded,
    tariff,
  );
  if (tariff) return record;
  // Fees owed but below a unit are not dropped when a period is priced without the tariff.
  const feeCarry = heldFeeCarry(previous);
  if (!feeCarry) return record;
  if (!config.tariff && previous?.tariff)
    k.problem(
      `tariff removed from the config with fee carries left: operator ${feeCarry.operator}, grid ${feeCarry.grid} base units; held in the period records (feeCarry) until a tariff is configured again`,
    );
  return { ...record, feeCarry };
}

/**
 * The earliest sample time still needed after `record`: retention, an unfinished purchase (rebuilt from its
 * samples), a period waiting for its channel root, and under a tariff the last reading before the next period.
 */
export function keepSamplesFromMs(
  record: PeriodRecord,
  k: { config: AgentConfig; clock: Clock; state: StateStore; gapMs: number },
): number {
  const { config, clock, state } = k;
  const retentionStartMs = clock.nowMs() - config.retentionDays * 86_400_000;
  const unfinished = [...state.state.purchases.values()].find((p) => !p.done);
  const purchaseStartMs = unfinished?.purchase.startMs ?? Number.POSITIVE_INFINITY;
  // A period still waiting for its channel root may need its samples again after a restart.
  const awaitingStartMs = state.state.periods.find(awaitingChannelRoot)?.startMs ?? Number.POSITIVE_INFINITY;
  // Under a tariff the next period starts from the last reading before it.
  const bridgeMs = config.tariff ? k.gapMs : 0;
  return Math.min(retentionStartMs, record.endMs - bridgeMs, purchaseStartMs, awaitingStartMs);
}
