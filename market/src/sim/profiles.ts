/**
 * Household profiles as integer tables, so a simulation gives the same numbers on every engine (no
 * Math.exp or float rounding in anything that reaches a message).
 */

/** mulberry32: a seeded PRNG on 32-bit integer operations, returning [0, 1); the meter agent's simulated sensors use it too. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An integer in [min, max], exact: the PRNG's 32 bits times a small range stay below 2^53. */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** Clear-sky solar output per hour of day (UTC), per mille of peak: a bell from 05:00 to 20:00. */
export const SOLAR_PER_MILLE = [
  0, 0, 0, 0, 0, 10, 60, 170, 330, 510, 680, 820, 900, 890, 800, 650, 470, 290, 130, 40, 5, 0, 0, 0,
] as const;

/** Household load per hour of day, per mille of its evening peak. */
export const LOAD_PER_MILLE = [
  350, 300, 280, 270, 280, 350, 550, 700, 600, 450, 400, 400, 420, 400, 380, 420, 550, 800, 1000, 950, 850,
  700, 550, 420,
] as const;

const HOUR_MS = 3_600_000;

export function hourOfDay(tMs: number): number {
  return Math.floor(tMs / HOUR_MS) % 24;
}

/** Energy (Wh) over one hour starting at `hourStartMs` for a power scale (W) and a per-mille table. */
export function hourWh(table: readonly number[], scaleW: number, hourStartMs: number): number {
  return Math.floor((scaleW * table[hourOfDay(hourStartMs)]!) / 1000);
}

export interface Household {
  identity: string;
  role: 'producer' | 'consumer';
  /** Panel peak (W); 0 for consumers. */
  peakW: number;
  /** Evening peak of its own load (W). */
  loadPeakW: number;
}

export function productionWh(h: Household, hourStartMs: number): number {
  return hourWh(SOLAR_PER_MILLE, h.peakW, hourStartMs);
}

export function loadWh(h: Household, hourStartMs: number): number {
  return hourWh(LOAD_PER_MILLE, h.loadPeakW, hourStartMs);
}
