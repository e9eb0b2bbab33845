import { describe, expect, it } from 'vitest';
import { classifyQuery, describeQuery } from './classify';

const id64 = `0x${'a1'.repeat(32)}`;
const id68 = `${id64}0100`;
const address = 'watt1qzdmw527yuhn4x49qn28he6978wpwwfcadrj2l5esm99y7hu4s29s9rkfnf';

describe('classifyQuery', () => {
  it('tells the 32-byte ids (block, transaction, milestone) from output ids', () => {
    expect(classifyQuery(id64)).toEqual({ kind: 'id32', id: id64 });
    expect(classifyQuery(`  ${id64.toUpperCase().replace('0X', '0x')} `)).toEqual({ kind: 'id32', id: id64 });
    expect(classifyQuery(id64.slice(2))).toEqual({ kind: 'id32', id: id64 });
    expect(classifyQuery(id68)).toEqual({ kind: 'output', id: id68 });
    expect(classifyQuery(id68.slice(2))).toEqual({ kind: 'output', id: id68 });
  });

  it('explains wrong lengths and non-hex ids', () => {
    const short = classifyQuery('0x1234');
    expect(short.kind).toBe('invalid');
    expect(describeQuery(short)).toMatch(/64 hex digits .* 68 .* this has 4/);
    expect(classifyQuery(`0x${'g'.repeat(64)}`).kind).toBe('invalid');
  });

  it('reads milestone indexes', () => {
    expect(classifyQuery('42')).toEqual({ kind: 'milestoneIndex', index: 42 });
    expect(classifyQuery('#7')).toEqual({ kind: 'milestoneIndex', index: 7 });
    expect(classifyQuery('0').kind).toBe('invalid');
    expect(classifyQuery('99999999999').kind).toBe('invalid');
  });

  it('reads bech32 addresses and catches typos by checksum', () => {
    expect(classifyQuery(address)).toEqual({ kind: 'address', address, hrp: 'watt' });
    expect(classifyQuery(address.toUpperCase())).toEqual({ kind: 'address', address, hrp: 'watt' });
    const typo = classifyQuery(address.replace('qzdmw', 'qzdmx'));
    expect(typo.kind).toBe('invalid');
    expect(describeQuery(typo)).toMatch(/checksum/);
  });

  it('recognises channel ids', () => {
    const ch = 'c0'.repeat(32);
    expect(classifyQuery(`channel:${ch}`)).toEqual({ kind: 'channel', id: ch });
    expect(classifyQuery(`Channel:0x${ch.toUpperCase()}`)).toEqual({ kind: 'channel', id: ch });
    expect(classifyQuery('channel:house-12').kind).toBe('invalid');
    // A bare 64-hex string stays a 32-byte id: block, transaction, milestone, then channel.
    expect(classifyQuery(ch)).toEqual({ kind: 'id32', id: `0x${ch}` });
  });

  it('handles empty and unknown input', () => {
    expect(classifyQuery('   ')).toEqual({ kind: 'empty' });
    expect(classifyQuery('hello world').kind).toBe('invalid');
  });
});
