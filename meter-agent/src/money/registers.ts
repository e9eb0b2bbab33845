/**
 * The meter's cumulative OBIS registers (`1-0:1.8.x` import, `1-0:2.8.x` export per band digit x, 0 the
 * total), kept in the period records: each closed period's record carries the registers after it, folded
 * from the previous record's with the tariff package's `foldRegisters`. So they come back from the state
 * journal after a restart exactly as they were, survive the journal's compaction (the newest record holds
 * the totals) and never go back.
 */
import type { MeterRegistersView, PeriodRecord, PeriodRegisters } from '@tanglewatt/contract';
import { EMPTY_REGISTERS, exportCode, foldRegisters, importCode, type Registers } from '@tanglewatt/tariff';
import { add, type Rational, rational } from './rational.js';

const HALF_NJ_PER_MWS = 2_000_000n;
const HALF_NJ_PER_WH = 7_200_000_000_000n;

/** The registers a record carries, as the tariff package folds them (from empty before the first). */
function registersAfter(previous: PeriodRecord | undefined): Registers {
  if (!previous?.registers) return EMPTY_REGISTERS;
  const values: Record<string, Rational> = {};
  for (const [code, halfNJ] of Object.entries(previous.registers.halfNJ))
    values[code] = rational(BigInt(halfNJ));
  return { ...EMPTY_REGISTERS, values, meterId: previous.meterId, lastEndMs: previous.endMs };
}

function bands(entries: [string | number, string][]): Record<number, Rational> {
  const out: Record<number, Rational> = {};
  for (const [digit, e] of entries)
    out[Number(digit)] = add(out[Number(digit)] ?? rational(0n), rational(BigInt(e)));
  return out;
}

/**
 * The registers after `record`, from those after `previous`. A tariff-priced period advances its bands'
 * registers and the totals by its import and export per band; a period priced without a tariff has no bands
 * and advances only the totals (`1-0:1.8.0` by its delivered, `1-0:2.8.0` by its returned energy). A record
 * under another meter id than the one before is a meter replacement: recorded as a `METER_REPLACED` event,
 * the registers carry on.
 */
export function periodRegisters(record: PeriodRecord, previous: PeriodRecord | undefined): PeriodRegisters {
  const before = registersAfter(previous);
  const tariff = record.tariff;
  // Records of older agents state the bands in whole mW·s only.
  const importByBand = tariff
    ? bands(
        tariff.energy?.map((e) => [e.band, e.importHalfNJ]) ??
          Object.entries(tariff.bandsMWs).map(([d, mws]) => [d, (BigInt(mws) * HALF_NJ_PER_MWS).toString()]),
      )
    : {};
  const exportByBand = bands(tariff?.energy?.map((e) => [e.band, e.exportHalfNJ]) ?? []);
  const after = foldRegisters(before, {
    meterId: record.meterId,
    endMs: record.endMs,
    importByBand,
    exportByBand,
  });
  const values = { ...after.values };
  if (!tariff) {
    values[importCode(0)] = add(
      values[importCode(0)] ?? rational(0n),
      rational(BigInt(record.deliveredHalfNJ)),
    );
    values[exportCode(0)] = add(
      values[exportCode(0)] ?? rational(0n),
      rational(BigInt(record.returnedHalfNJ)),
    );
  }
  const halfNJ: Record<string, string> = {};
  for (const code of Object.keys(values).sort())
    halfNJ[code] = (values[code]!.num / values[code]!.den).toString();
  const events = after.events.flatMap((e) => (e.kind === 'METER_REPLACED' ? [e] : []));
  return { halfNJ, ...(events.length ? { events } : {}) };
}

/** The record with its registers after `previous`. */
export function withRegisters(record: PeriodRecord, previous: PeriodRecord | undefined): PeriodRecord {
  return { ...record, registers: periodRegisters(record, previous) };
}

/** What the snapshot shows: the registers of the last closed period and the events in the kept records. */
export function registersView(periods: readonly PeriodRecord[]): MeterRegistersView | null {
  const last = periods.findLast((p) => p.registers);
  if (!last?.registers) return null;
  const values = Object.entries(last.registers.halfNJ).map(([obis, halfNJ]) => ({
    obis,
    halfNJ,
    wh: Number((BigInt(halfNJ) * 1_000_000n) / HALF_NJ_PER_WH) / 1_000_000,
  }));
  const lastCycle = periods.findLast((p) => p.cycle?.settled)?.cycle?.settled;
  return {
    values,
    atMs: last.endMs,
    events: periods.flatMap((p) => p.registers?.events ?? []),
    ...(lastCycle ? { lastCycle } : {}),
  };
}
