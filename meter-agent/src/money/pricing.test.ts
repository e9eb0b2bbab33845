import { describe, expect, it } from 'vitest';
import {
  HALF_NJ_PER_MWS,
  HALF_NJ_PER_WH,
  type Price,
  pricePeriod,
  priceUnitsPerWh,
  splitMWs,
} from './pricing.js';
import { add, floor, formatDecimal, parseDecimal, type Rational, rational, ZERO } from './rational.js';

function run(
  energies: bigint[],
  price: Price,
  policy: 'carry' | 'truncate',
): { paid: bigint; exact: Rational } {
  let carry = ZERO;
  let paid = 0n;
  let exact = ZERO;
  for (const e of energies) {
    const priced = pricePeriod(e, price, policy, carry);
    carry = priced.carryOut;
    paid += priced.amount;
    exact = add(exact, priced.exact);
  }
  return { paid, exact };
}

describe('pricing', () => {
  it('pays 150 units under carry and 100 under truncate for 100 periods worth 1.5 units each', () => {
    const energies = Array.from({ length: 100 }, () => HALF_NJ_PER_WH); // 1 Wh each
    const price = { unitsPerWh: '1.5' };
    expect(run(energies, price, 'carry').paid).toBe(150n);
    expect(run(energies, price, 'truncate').paid).toBe(100n);
  });

  it('pays exactly floor(total) under carry for uneven energies and a price per mW·s', () => {
    const energies = Array.from({ length: 100 }, (_, i) => BigInt(1_234_567_891 + i * 7_654_321) * 1000n);
    const price = { unitsPerMWs: '0.0007' };
    const carry = run(energies, price, 'carry');
    expect(carry.paid).toBe(floor(carry.exact));
    const truncated = run(energies, price, 'truncate');
    const expectedTruncated = energies.reduce(
      (sum, e) => sum + floor(pricePeriod(e, price, 'truncate').exact),
      0n,
    );
    expect(truncated.paid).toBe(expectedTruncated);
    expect(carry.paid - truncated.paid).toBeGreaterThan(0n);
    expect(carry.paid - truncated.paid).toBeLessThanOrEqual(100n);
  });

  it('a price per mW·s and the same price per Wh give the same amounts', () => {
    const e = 123_456_789_012n;
    expect(pricePeriod(e, { unitsPerMWs: '0.0005' }, 'carry')).toEqual(
      pricePeriod(e, { unitsPerWh: '1800' }, 'carry'),
    );
    expect(priceUnitsPerWh({ unitsPerMWs: '0.0005' })).toBe('1800');
    expect(priceUnitsPerWh({ unitsPerWh: '0.25' })).toBe('0.25');
  });

  it('splits energy into whole mW·s and a remainder', () => {
    expect(splitMWs(5n * HALF_NJ_PER_MWS + 7n)).toEqual({ energyMWs: 5n, remainderHalfNJ: 7n });
  });
});

describe('rational', () => {
  it('parses decimals exactly and floors toward −∞', () => {
    expect(parseDecimal('12.50')).toEqual(rational(25n, 2n));
    expect(floor(rational(-3n, 2n))).toBe(-2n);
    expect(floor(rational(3n, 2n))).toBe(1n);
    expect(formatDecimal(rational(1n, 3n))).toBeUndefined();
    expect(formatDecimal(rational(1n, 8n))).toBe('0.125');
    expect(() => parseDecimal('1e3')).toThrow();
  });
});
