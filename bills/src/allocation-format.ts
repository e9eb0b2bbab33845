/**
 * An allocation statement as JSON (the statement itself) or CSV (RFC 4180, as the bill's): a `member` row
 * per member (energy in Wh, exact; whole base units owed per payee), its `band` rows (covered Wh and the
 * exact amounts per payee in that tariff band), then `unallocated` and `total`, where
 * generationWh = coveredWh + unallocatedWh exactly.
 */
import type { AllocationStatement } from './allocation.js';
import { csvField } from './csv.js';

export const allocationFormats = ['json', 'csv'] as const;
export type AllocationFormat = (typeof allocationFormats)[number];

export const ALLOCATION_CSV_COLUMNS = [
  'row',
  'meterId',
  'keyPercent',
  'band',
  'consumptionWh',
  'allocatedWh',
  'coveredWh',
  'residualWh',
  'unallocatedWh',
  'generationWh',
  'producer',
  'operator',
  'grid',
  'totalUnits',
  'paymentKey',
] as const;

type Row = Partial<Record<(typeof ALLOCATION_CSV_COLUMNS)[number], string | number>>;

export function allocationCsv(s: AllocationStatement): string {
  const rows: Row[] = [];
  for (const m of s.members) {
    rows.push({
      row: 'member',
      meterId: m.meterId,
      keyPercent: m.keyPercent,
      consumptionWh: m.consumptionWh,
      allocatedWh: m.allocatedWh,
      coveredWh: m.coveredWh,
      residualWh: m.residualWh,
      ...m.units,
      totalUnits: m.totalUnits,
      paymentKey: m.paymentKey,
    });
    for (const b of m.bands)
      rows.push({
        row: 'band',
        meterId: m.meterId,
        band: `${b.bandName} (${b.band}, v${b.version})`,
        coveredWh: b.coveredWh,
        producer: b.producer,
        operator: b.operator,
        grid: b.grid,
      });
  }
  rows.push({ row: 'unallocated', unallocatedWh: s.totals.unallocatedWh });
  rows.push({
    row: 'total',
    generationWh: s.totals.generationWh,
    coveredWh: s.totals.coveredWh,
    unallocatedWh: s.totals.unallocatedWh,
    ...s.totals.units,
    totalUnits: s.totals.totalUnits,
  });
  const line = (values: (string | number | undefined)[]) => `${values.map(csvField).join(',')}\r\n`;
  return [
    line([...ALLOCATION_CSV_COLUMNS]),
    ...rows.map((r) => line(ALLOCATION_CSV_COLUMNS.map((c) => r[c]))),
  ].join('');
}

export function renderAllocation(s: AllocationStatement, format: AllocationFormat): string {
  return format === 'csv' ? allocationCsv(s) : `${JSON.stringify(s, null, 2)}\n`;
}
