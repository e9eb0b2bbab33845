/**
 * A `net` billing cycle from its energy per (tariff version, band): what the meter-agent settles at the
 * cycle's end, and what a verifier recomputes from the cycle's signed readings. One implementation for
 * both, so the two can only disagree about the readings, never about the arithmetic.
 */
import { TariffError } from './errors.js';
import { type Carry, type NetSettlement, settleNet } from './modes.js';
import type { BandLine, EnergyInterval, Payee } from './pricing.js';
import { segmentsOf } from './pricing.js';
import { HALF_NJ_PER_MWS, priceReadings, type ReadingsInput } from './readings.js';
import type { TariffHistory } from './schedule.js';

/** Import and export of one (version, band), whole half-nJ. */
export interface CycleEnergy {
  version: number;
  band: number;
  importHalfNJ: bigint;
  exportHalfNJ: bigint;
}

/** Import and export per (version, band) from priced import and export lines, in version and band order. */
export function importExportLines(
  imported: readonly BandLine[],
  exported: readonly BandLine[],
): CycleEnergy[] {
  const byKey = new Map<string, CycleEnergy>();
  const entry = (l: BandLine) => {
    const key = `${l.version}/${l.band}`;
    const e = byKey.get(key) ?? { version: l.version, band: l.band, importHalfNJ: 0n, exportHalfNJ: 0n };
    byKey.set(key, e);
    return e;
  };
  // Band energies from readings are whole half-nJ (numerator over 1).
  for (const l of imported) entry(l).importHalfNJ += l.energyHalfNJ.num / l.energyHalfNJ.den;
  for (const l of exported) entry(l).exportHalfNJ += l.energyHalfNJ.num / l.energyHalfNJ.den;
  return [...byKey.values()].sort((a, b) => a.version - b.version || a.band - b.band);
}

/** Import and export per (version, band) of readings: export is the same readings negated. */
export function energyOfReadings(history: TariffHistory, input: ReadingsInput): CycleEnergy[] {
  const negate = (r: { tMs: number; powerMW: number }) => ({ tMs: r.tMs, powerMW: -r.powerMW });
  const exported = {
    ...(input.from ? { from: negate(input.from) } : {}),
    readings: input.readings.map(negate),
    gapMs: input.gapMs,
  };
  return importExportLines(priceReadings(history, input).lines, priceReadings(history, exported).lines);
}

/** Import and export per band digit (over all versions), whole mW·s, as a cycle payment states them. */
export function cycleBandsMWs(
  energy: readonly CycleEnergy[],
): Record<string, { importMWs: string; exportMWs: string }> {
  const byDigit = new Map<number, { importHalfNJ: bigint; exportHalfNJ: bigint }>();
  for (const e of energy) {
    const sum = byDigit.get(e.band) ?? { importHalfNJ: 0n, exportHalfNJ: 0n };
    sum.importHalfNJ += e.importHalfNJ;
    sum.exportHalfNJ += e.exportHalfNJ;
    byDigit.set(e.band, sum);
  }
  return Object.fromEntries(
    [...byDigit]
      .sort(([a], [b]) => a - b)
      .map(([digit, s]) => [
        String(digit),
        {
          importMWs: (s.importHalfNJ / HALF_NJ_PER_MWS).toString(),
          exportMWs: (s.exportHalfNJ / HALF_NJ_PER_MWS).toString(),
        },
      ]),
  );
}

/**
 * `settleNet` over a cycle's totals: each (version, band) total becomes one interval inside a slot of that
 * version and band within the cycle, so the pure function attributes it exactly there.
 */
export function settleNetTotals(
  history: TariffHistory,
  cycle: { id: string; startMs: number; endMs: number },
  energy: readonly CycleEnergy[],
  carryIn?: Carry<Payee>,
): NetSettlement {
  const segments = segmentsOf(history, cycle.startMs, cycle.endMs);
  const intervals = (which: 'importHalfNJ' | 'exportHalfNJ'): EnergyInterval[] =>
    energy
      .map((e) => {
        const s = segments.find((x) => x.version === e.version && x.band === e.band);
        if (!s)
          throw new TariffError(
            'INVALID_INPUT',
            `cycle ${cycle.id}: no slot of version ${e.version} band ${e.band} in it`,
          );
        return { startMs: s.startMs, endMs: s.endMs, energyHalfNJ: e[which] };
      })
      // Intervals go in time order; each (version, band) has its own slot, so they do not overlap.
      .sort((a, b) => a.startMs - b.startMs);
  const period = { startMs: cycle.startMs, endMs: cycle.endMs };
  return settleNet(
    history,
    {
      ...period,
      periods: [{ ...period, import: intervals('importHalfNJ'), export: intervals('exportHalfNJ') }],
    },
    carryIn,
  );
}
