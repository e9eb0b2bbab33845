import { describe, expect, it } from 'vitest';
import { compare, div, floor, max, min, neg, parseDecimal, rational, sum } from './rational.js';

describe('rationals', () => {
  it('divide, negate, compare and sum exactly', () => {
    // (1/3) / (2/9) = 9/6 = 3/2; −(3/2) floors to −2.
    expect(div(rational(1n, 3n), rational(2n, 9n))).toEqual(rational(3n, 2n));
    expect(floor(neg(rational(3n, 2n)))).toBe(-2n);
    expect(compare(rational(1n, 3n), parseDecimal('0.333333333333333333'))).toBe(1);
    expect(compare(rational(2n, 4n), rational(1n, 2n))).toBe(0);
    expect(min(rational(1n, 3n), rational(1n, 4n))).toEqual(rational(1n, 4n));
    expect(max(rational(1n, 3n), rational(1n, 4n))).toEqual(rational(1n, 3n));
    // 1/2 + 1/3 + 1/6 = 1.
    expect(sum([rational(1n, 2n), rational(1n, 3n), rational(1n, 6n)])).toEqual(rational(1n));
    expect(() => div(rational(1n), rational(0n))).toThrow('division by 0');
  });
});
