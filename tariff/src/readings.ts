/**
 * Pricing a period from power readings as a meter's channel publishes them (whole ms, whole mW), so that
 * whoever holds the readings and the tariff recomputes every unit. The energy between two readings is the
 * meter's trapezoid (power moving linearly, only the part flowing the metered way counted); a stretch that
 * crosses a slot boundary or a tariff change is cut there exactly like the meter cuts at a period boundary
 * (the part before the cut floored to a whole half-nJ), so every band's energy is a whole number of half-nJ.
 */
import { TariffError } from './errors.js';
import { type BandLine, type Payee, priceBand, type Segment, segmentsOf, totals } from './pricing.js';
import { type Rational, rational, ZERO } from './rational.js';
import type { TariffHistory } from './schedule.js';

/** One reading: its time and the power the metered way (negative when energy flows back). */
export interface PowerReading {
  tMs: number;
  powerMW: number;
}

export interface ReadingsInput {
  /** The last reading before the period: the period's first stretch starts there (when within `gapMs`). */
  from?: PowerReading;
  /** The period's readings, in time order. */
  readings: readonly PowerReading[];
  /** Two readings further apart than this are a gap: nothing is counted between them (the meter's rule). */
  gapMs: number;
}

export interface PricedReadings {
  /** One line per (version, band) that priced any energy, in order of first use. */
  lines: BandLine[];
  exact: Record<Payee, Rational>;
  /** Energy per band digit (over all versions), whole half-nJ. */
  bandHalfNJ: Map<number, bigint>;
  /** Tariff versions that priced energy, in order. */
  versions: number[];
}

/** µW per mW: readings are whole mW, the meter's energy unit is µW × ms (= 2 half-nJ per µW·ms / 2). */
const UW_PER_MW = 1000n;
/** half-nJ per mW·s, the unit of `energyMWs`. */
export const HALF_NJ_PER_MWS = 2_000_000n;

function invalid(field: string, what: string): never {
  throw new TariffError('INVALID_INPUT', `${field}: ${what}`);
}

/** Delivered (positive-power) half-nJ of power moving linearly from pa to pb µW over dt ms. */
function deliveredHalfNJ(pa: bigint, pb: bigint, dt: bigint): bigint {
  const net = (pa + pb) * dt;
  if (pa >= 0n && pb >= 0n) return net;
  if (pa <= 0n && pb <= 0n) return 0n;
  const p = pa > pb ? pa : pb;
  const n = pa > pb ? pb : pa;
  if (p >= -n) return (n * n * dt) / (p - n) + net;
  return (p * p * dt) / (p - n);
}

/** The stretch a→b cut at `cuts` (strictly inside, ascending) into pieces that add up to the whole. */
function splitDelivered(a: PowerReading, b: PowerReading, cuts: readonly number[]): bigint[] {
  const dt = BigInt(b.tMs - a.tMs);
  const pa = BigInt(a.powerMW) * UW_PER_MW;
  const pb = BigInt(b.powerMW) * UW_PER_MW;
  const total = deliveredHalfNJ(pa, pb, dt);
  const pieces: bigint[] = [];
  let before = 0n;
  for (const cut of cuts) {
    const x = BigInt(cut - a.tMs);
    // Powers scaled by dt so the power at the cut is whole; the part up to the cut floored, kept monotone.
    let upTo = deliveredHalfNJ(pa * dt, pa * dt + (pb - pa) * x, x) / dt;
    if (upTo < before) upTo = before;
    if (upTo > total) upTo = total;
    pieces.push(upTo - before);
    before = upTo;
  }
  pieces.push(total - before);
  return pieces;
}

function checkReadings(input: ReadingsInput): PowerReading[] {
  if (!Number.isSafeInteger(input.gapMs) || input.gapMs <= 0) invalid('gapMs', 'must be whole ms above 0');
  const points = input.from ? [input.from, ...input.readings] : [...input.readings];
  points.forEach((p, i) => {
    const field = input.from ? (i === 0 ? 'from' : `readings[${i - 1}]`) : `readings[${i}]`;
    if (!Number.isSafeInteger(p.tMs)) invalid(`${field}.tMs`, 'must be whole ms since 1970');
    if (!Number.isSafeInteger(p.powerMW)) invalid(`${field}.powerMW`, 'must be whole mW');
    if (i > 0 && p.tMs <= points[i - 1]!.tMs) invalid(`${field}.tMs`, 'must be after the reading before it');
  });
  return points;
}

/** Prices the energy between consecutive readings (no further apart than gapMs) slot by slot. */
export function priceReadings(history: TariffHistory, input: ReadingsInput): PricedReadings {
  const points = checkReadings(input);
  const stretches: [PowerReading, PowerReading][] = [];
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1]!, points[i]!];
    if (b.tMs - a.tMs <= input.gapMs) stretches.push([a, b]);
  }
  const byKey = new Map<string, { version: number; band: number; halfNJ: bigint }>();
  if (stretches.length > 0) {
    const segments = segmentsOf(history, stretches[0]![0].tMs, stretches.at(-1)![1].tMs);
    let k = 0;
    for (const [a, b] of stretches) {
      while (segments[k]!.endMs <= a.tMs) k++;
      const first = k;
      const cuts: number[] = [];
      for (let j = first; segments[j]!.endMs < b.tMs; j++) cuts.push(segments[j]!.endMs);
      splitDelivered(a, b, cuts).forEach((halfNJ, i) => {
        const s = segments[first + i]!;
        const key = `${s.version}/${s.band}`;
        const entry = byKey.get(key) ?? { version: s.version, band: s.band, halfNJ: 0n };
        entry.halfNJ += halfNJ;
        byKey.set(key, entry);
      });
    }
  }
  const lines = [...byKey.values()].map((e) =>
    priceBand(history.find((t) => t.version === e.version)!, e.band, rational(e.halfNJ)),
  );
  const bandHalfNJ = new Map<number, bigint>();
  for (const e of byKey.values()) bandHalfNJ.set(e.band, (bandHalfNJ.get(e.band) ?? 0n) + e.halfNJ);
  return {
    lines,
    exact: lines.length ? totals(lines) : { producer: ZERO, operator: ZERO, grid: ZERO },
    bandHalfNJ,
    versions: [...new Set([...byKey.values()].map((e) => e.version))],
  };
}

/** Energy per band digit in whole mW·s (the part below 1 mW·s dropped), as payment metadata states it. */
export function bandsMWs(priced: PricedReadings): Record<string, string> {
  const out: Record<string, string> = {};
  for (const digit of [...priced.bandHalfNJ.keys()].sort((x, y) => x - y))
    out[String(digit)] = (priced.bandHalfNJ.get(digit)! / HALF_NJ_PER_MWS).toString();
  return out;
}

export interface SegmentEnergy {
  /** The span's segments (one tariff version and band each), as `segmentsOf` cuts it. */
  segments: Segment[];
  /** Delivered energy in each segment, whole half-nJ. */
  halfNJ: bigint[];
}

/**
 * The energy of readings within a span, per segment of the span (as allocation shares it): stretches
 * between readings no more than gapMs apart, cut at the span's ends and at every slot boundary or version
 * change by the same rule as `priceReadings`, the parts outside the span left out.
 */
export function readingsBySegment(
  history: TariffHistory,
  input: ReadingsInput,
  span: { startMs: number; endMs: number },
): SegmentEnergy {
  const points = checkReadings(input);
  const segments = segmentsOf(history, span.startMs, span.endMs);
  const halfNJ = segments.map(() => 0n);
  // bounds[k] is where segment k starts; bounds[segments.length] is the span's end.
  const bounds = [span.startMs, ...segments.map((s) => s.endMs)];
  let k = 0;
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1]!, points[i]!];
    if (b.tMs - a.tMs > input.gapMs || b.tMs <= span.startMs || a.tMs >= span.endMs) continue;
    while (k < segments.length - 1 && bounds[k + 1]! <= a.tMs) k++;
    // The stretch's pieces: from a to the first bound after it, bound to bound, the last one to b.
    const cuts: number[] = [];
    const cutSegments: number[] = [];
    for (let j = k; j < bounds.length && bounds[j]! < b.tMs; j++)
      if (bounds[j]! > a.tMs) {
        cuts.push(bounds[j]!);
        cutSegments.push(j);
      }
    const firstSegment = a.tMs < span.startMs ? -1 : k;
    splitDelivered(a, b, cuts).forEach((piece, j) => {
      const s = j === 0 ? firstSegment : cutSegments[j - 1]!;
      if (s >= 0 && s < segments.length) halfNJ[s]! += piece;
    });
  }
  return { segments, halfNJ };
}
