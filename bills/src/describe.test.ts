import { describe, expect, it } from 'vitest';
import { isAllocationPeriod, readDescription } from './describe.js';

describe('a payment description', () => {
  it('reads the tariff version as the wire states it: a string, the last of several, or a number', () => {
    const warnings: string[] = [];
    const version = (v: unknown) =>
      readDescription({ k: 'p', tariff: { id: 'community', version: v } }, (m) => warnings.push(m))?.tariff;
    expect(version('1')).toEqual({ id: 'community', version: 1 });
    expect(version('1,2')).toEqual({ id: 'community', version: 2 });
    expect(version(3)).toEqual({ id: 'community', version: 3 });
    expect(warnings).toEqual([]);
    expect(version('one')).toBeUndefined();
    expect(warnings).toEqual(['payment "p": tariff is not readable, left out']);
  });

  it('tells an allocation payment by its period', () => {
    expect(isAllocationPeriod('allocation/2026-01')).toBe(true);
    expect(isAllocationPeriod('house-12/17')).toBe(false);
    expect(isAllocationPeriod(undefined)).toBe(false);
  });
});
