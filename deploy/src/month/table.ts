/** The month's figures as a short text table. */
import type { MonthResult } from './run.js';

const kWh = (mws: string | bigint) => (Number(BigInt(mws) / 3_600_000n) / 1000).toFixed(3);

export function monthTable(r: MonthResult): string {
  const rows = r.households.map(
    (h) =>
      `${h.name.padEnd(4)} ${String(h.paidPeriods).padStart(4)}/${String(h.periods).padEnd(4)} ${kWh(h.bill.totals.boughtMWs).padStart(9)} ${h.bill.totals.paidUnits.padStart(12)} ${h.bill.totals.gridFeeUnits.padStart(10)} ${h.bill.totals.operatorFeeUnits.padStart(10)} ${h.bill.totals.earnedUnits.padStart(12)}  ${h.verdict.join('; ')}`,
  );
  return [
    `month ${r.from} → ${r.to}: ${r.days} days, ${r.periodHours} h periods, clock ×${r.speed}; ran ${(r.simulatedRunMs / 1000).toFixed(0)} s, settled ${(r.settleMs / 1000).toFixed(0)} s later`,
    'home paid/periods     kWh         paid       grid   operator       earned  verifier',
    ...rows,
    `payments ${r.payments} in ${r.transactions} transactions; bills' paid ${r.billsPaidUnits} = ledger ${r.ledgerPaidUnits}: ${r.billsPaidUnits === r.ledgerPaidUnits ? 'yes' : 'NO'}`,
    ...r.problems.map((p) => `PROBLEM: ${p}`),
    r.ok ? 'OK' : 'NOT OK',
  ].join('\n');
}
