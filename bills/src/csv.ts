/**
 * The bill as CSV (RFC 4180: a header row, CRLF line ends, a field holding a comma, quote, CR or LF in
 * double quotes with its quotes doubled). One table: a row per paid period (`bought`/`sold`, with the
 * transaction and block to check it by, and for a purchase whether its readings matched its readingsHash),
 * a row per band, then the totals by name. Exact values only.
 */
import type { BillJson } from '@tanglewatt/contract';

export const BILL_CSV_COLUMNS = [
  'row',
  'name',
  'periodStart',
  'periodEnd',
  'counterparty',
  'transactionId',
  'blockId',
  'milestoneIndex',
  'energyMWs',
  'energyWh',
  'units',
  'operatorUnits',
  'gridUnits',
  'readings',
] as const;

type Row = Partial<Record<(typeof BILL_CSV_COLUMNS)[number], string | number>>;

export function csvField(value: string | number | undefined): string {
  const text = value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function whText(mws: string): string {
  const n = BigInt(mws);
  const whole = n / 3_600_000n;
  const rest = n % 3_600_000n;
  // Wh to the mWh (exact mWs beside it).
  const mwh = (rest < 0n ? -rest : rest) / 3_600n;
  return `${n < 0n && whole === 0n ? '-' : ''}${whole}.${mwh.toString().padStart(3, '0')}`;
}

export function billCsv(bill: BillJson): string {
  const rows: Row[] = [];
  for (const l of bill.lines)
    rows.push({
      row: l.direction,
      name: l.periodId ?? l.key,
      periodStart: l.periodStart,
      periodEnd: l.periodEnd,
      counterparty: l.counterparty,
      transactionId: l.transactionId,
      blockId: l.blockId,
      milestoneIndex: l.milestoneIndex,
      energyMWs: l.energyMWs,
      energyWh: whText(l.energyMWs),
      units: l.amountUnits,
      operatorUnits: l.operatorUnits,
      gridUnits: l.gridUnits,
      readings: l.readings,
    });
  for (const b of bill.bands) {
    rows.push({
      row: 'band-bought',
      name: `1.8.${b.digit}`,
      energyMWs: b.boughtMWs,
      energyWh: b.boughtWh,
      units: b.retailBaselineUnits,
    });
    rows.push({
      row: 'band-sold',
      name: `2.8.${b.digit}`,
      energyMWs: b.soldMWs,
      energyWh: b.soldWh,
      units: b.feedInBaselineUnits,
    });
  }
  const t = bill.totals;
  const total = (name: string, fields: Row) => rows.push({ row: 'total', name, ...fields });
  total('bought', { energyMWs: t.boughtMWs, energyWh: t.boughtWh });
  total('sold', { energyMWs: t.soldMWs, energyWh: t.soldWh });
  total('paid', { units: t.paidUnits, operatorUnits: t.operatorFeeUnits, gridUnits: t.gridFeeUnits });
  total('energyPaid', { units: t.energyPaidUnits });
  total('earned', { units: t.earnedUnits });
  total('net', { units: t.netUnits });
  total('retailBaseline', { units: t.retailBaselineUnits });
  total('feedInBaseline', { units: t.feedInBaselineUnits });
  total('savings', { units: t.savingsUnits });
  total('consumption', { energyMWs: bill.readings.consumptionMWs, energyWh: bill.readings.consumptionWh });
  total('production', { energyMWs: bill.readings.productionMWs, energyWh: bill.readings.productionWh });
  total('selfSufficiency', { units: bill.selfSufficiency ?? '' });
  total('selfConsumption', { units: bill.selfConsumption ?? '' });
  total('co2AvoidedGrams', { units: bill.co2AvoidedGrams });
  const lines = [
    BILL_CSV_COLUMNS.join(','),
    ...rows.map((r) => BILL_CSV_COLUMNS.map((c) => csvField(r[c])).join(',')),
  ];
  return `${lines.join('\r\n')}\r\n`;
}
