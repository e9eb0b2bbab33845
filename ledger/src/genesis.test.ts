import { describe, expect, it } from 'vitest';
import { genesisOutputId } from './genesis.js';

describe('genesisOutputId', () => {
  it('gives the mint output the all-zero transaction id', () => {
    expect(genesisOutputId(0)).toBe(`0x${'00'.repeat(32)}0000`);
  });

  it('puts the 1-based position little-endian in the first eight bytes', () => {
    expect(genesisOutputId(1)).toBe(`0x01${'00'.repeat(31)}0000`);
    expect(genesisOutputId(258)).toBe(`0x0201${'00'.repeat(30)}0000`);
  });

  it('rejects negative and fractional positions', () => {
    expect(() => genesisOutputId(-1)).toThrow(/position/);
    expect(() => genesisOutputId(1.5)).toThrow(/position/);
  });
});
