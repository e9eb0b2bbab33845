import type { Price, PricingPolicy } from '@tanglewatt/contract';
import {
  add,
  floor,
  formatDecimal,
  mul,
  parseDecimal,
  type Rational,
  rational,
  sub,
  ZERO,
} from './rational.js';

/**
 * Energy is counted in half-nanojoules: power in µW times time in ms is nJ, and the trapezoid's
 * (p1 + p2) × dt / 2 is then always a whole number of half-nJ, so integration is exact.
 */
export const HALF_NJ_PER_MWS = 2_000_000n;
/** 1 Wh = 3600 J = 3.6e12 nJ. */
export const HALF_NJ_PER_WH = 7_200_000_000_000n;

/** The price as configured: base units per Wh or per mW·s, each an exact decimal string. */
export type { Price, PricingPolicy } from '@tanglewatt/contract';

export function pricePerHalfNJ(price: Price): Rational {
  return 'unitsPerWh' in price
    ? mul(parseDecimal(price.unitsPerWh), rational(1n, HALF_NJ_PER_WH))
    : mul(parseDecimal(price.unitsPerMWs), rational(1n, HALF_NJ_PER_MWS));
}

/** The price per Wh as a decimal string (what payment metadata carries), when it has one. */
export function priceUnitsPerWh(price: Price): string | undefined {
  return formatDecimal(mul(pricePerHalfNJ(price), rational(HALF_NJ_PER_WH)));
}

export interface PricedPeriod {
  /** What this period's energy is worth, exactly. */
  exact: Rational;
  /** Whole base units to pay now. */
  amount: bigint;
  /** The fraction left over: carried into the next period under `carry`, 0 under `truncate`. */
  carryOut: Rational;
}

/**
 * Prices one period. Under `carry`, amount = floor(exact + carryIn), so over any run the sum of amounts is
 * floor(total energy × price) to the unit. Under `truncate` each period's fraction is lost.
 */
export function pricePeriod(
  energyHalfNJ: bigint,
  price: Price,
  policy: PricingPolicy,
  carryIn: Rational = ZERO,
): PricedPeriod {
  const exact = mul(rational(energyHalfNJ), pricePerHalfNJ(price));
  if (policy === 'truncate') return { exact, amount: floor(exact), carryOut: ZERO };
  const owed = add(exact, carryIn);
  const amount = floor(owed);
  return { exact, amount, carryOut: sub(owed, rational(amount)) };
}

/** Whole mW·s in an energy, with the part below 1 mW·s kept as a remainder in half-nJ. */
export function splitMWs(energyHalfNJ: bigint): { energyMWs: bigint; remainderHalfNJ: bigint } {
  return { energyMWs: energyHalfNJ / HALF_NJ_PER_MWS, remainderHalfNJ: energyHalfNJ % HALF_NJ_PER_MWS };
}
