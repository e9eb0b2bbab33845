/**
 * Units. Energy in a message is whole watt-hours (`energyWh`, a safe integer); metered energy is
 * milliwatt-seconds (`energyMWs`, bigint), the meter-agent's exact unit. Money is whole base units (bigint).
 * A price is base units per Wh, an exact decimal with at most 18 fraction digits, held as an integer
 * scaled by 10^18 so that comparing and multiplying never touch a float.
 */

export const PRICE_SCALE = 10n ** 18n;
export const PRICE_FRACTION_DIGITS = 18;
/** 1 Wh = 3600 W·s = 3 600 000 mW·s. */
export const MWS_PER_WH = 3_600_000n;
/** The network's whole supply (10^15 base units): no price per Wh can sensibly exceed it. */
export const MAX_PRICE_UNITS_PER_WH = 1_000_000_000_000_000n;
/** 1 GWh: far above any household, far below 2^53. */
export const MAX_ENERGY_WH = 1_000_000_000;

/** A price in base units per Wh, scaled by 10^18. */
export type ScaledPrice = bigint;

/** Canonical form: no leading zeros, no trailing fraction zeros, no lone dot ("0.5", "12", never "0.50"). */
export const CANONICAL_PRICE = /^(0|[1-9][0-9]*)(\.[0-9]{0,17}[1-9])?$/;
const ANY_PRICE = /^(0|[1-9][0-9]*)(\.([0-9]{1,18}))?$/;

export function isPriceText(text: string): boolean {
  return ANY_PRICE.test(text);
}

/** "0.25" → 0.25 × 10^18. Accepts trailing zeros; throws RangeError on anything that is not a decimal. */
export function parsePrice(text: string): ScaledPrice {
  const m = ANY_PRICE.exec(text);
  if (!m) throw new RangeError(`"${text}" is not a non-negative decimal with at most 18 fraction digits`);
  const fraction = (m[3] ?? '').padEnd(PRICE_FRACTION_DIGITS, '0');
  return BigInt(m[1]!) * PRICE_SCALE + BigInt(fraction);
}

/** The canonical decimal of a scaled price (what messages and trade records carry). */
export function formatPrice(price: ScaledPrice): string {
  if (price < 0n) throw new RangeError('a price is never negative');
  const whole = price / PRICE_SCALE;
  const fraction = (price % PRICE_SCALE).toString().padStart(PRICE_FRACTION_DIGITS, '0').replace(/0+$/, '');
  return fraction === '' ? whole.toString() : `${whole}.${fraction}`;
}

export function normalizePrice(text: string): string {
  return formatPrice(parsePrice(text));
}

/** floor(energy × price): the buyer never pays for a fraction of a unit (see README, delivery). */
export function unitsForWh(energyWh: number | bigint, price: ScaledPrice): bigint {
  return (BigInt(energyWh) * price) / PRICE_SCALE;
}

export function unitsForMWs(energyMWs: bigint, price: ScaledPrice): bigint {
  return (energyMWs * price) / (PRICE_SCALE * MWS_PER_WH);
}

export function whToMWs(energyWh: number | bigint): bigint {
  return BigInt(energyWh) * MWS_PER_WH;
}

/** A delivery window [startMs, endMs): ms since the Unix epoch, start inclusive, end exclusive. */
export interface Window {
  startMs: number;
  endMs: number;
}

export function windowsOverlap(a: Window, b: Window): boolean {
  return Math.max(a.startMs, b.startMs) < Math.min(a.endMs, b.endMs);
}

/** The common part of two windows, or undefined when they do not overlap. */
export function windowIntersection(a: Window, b: Window): Window | undefined {
  const startMs = Math.max(a.startMs, b.startMs);
  const endMs = Math.min(a.endMs, b.endMs);
  return startMs < endMs ? { startMs, endMs } : undefined;
}
