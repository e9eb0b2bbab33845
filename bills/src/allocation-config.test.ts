import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hexToBech32 } from '@tanglewatt/ledger';
import { exampleTariff } from '@tanglewatt/tariff/testing';
import { describe, expect, it } from 'vitest';
import { parseAllocationConfig } from './allocation-config.js';
import { parseCycle } from './allocation-cycle.js';

const addr = (byte: string) => hexToBech32(`0x${byte.repeat(32)}`, 'rms');
const key = (byte: string) => byte.repeat(32);
const valid = () => ({
  tariff: exampleTariff() as unknown,
  payees: { producer: addr('a1'), operator: addr('a2'), grid: addr('a3') } as Record<string, string>,
  generation: [{ meterId: 'pv-roof', publicKey: key('01') }],
  members: [
    { meterId: 'house-a', publicKey: key('02'), keyPercent: '60', address: addr('b1') },
    { meterId: 'house-b', publicKey: key('03'), keyPercent: '25.5', address: addr('b2') },
  ] as Record<string, string>[],
});

describe('the allocation config', () => {
  it('reads keys as exact decimals, the tariff inline or from a file beside the config', async () => {
    const config = parseAllocationConfig(valid());
    expect(config.members.map((m) => [m.meterId, m.keyPercent])).toEqual([
      ['house-a', '60'],
      ['house-b', '25.5'],
    ]);
    expect(config.gapMs).toBe(3000);
    expect(config.history[0]!.id).toBe('community');
    const dir = await mkdtemp(join(tmpdir(), 'tanglewatt-allocation-config-'));
    await writeFile(join(dir, 'tariff.json'), JSON.stringify(exampleTariff()));
    const fromFile = parseAllocationConfig(
      { ...valid(), tariff: 'tariff.json' },
      join(dir, 'allocation.json'),
    );
    expect(fromFile.history[0]!.bands.map((b) => b.name)).toEqual(['high', 'standard', 'low']);
  });

  it.each<[string, (c: ReturnType<typeof valid>) => unknown, string]>([
    [
      'keys above 100 %',
      (c) => ({ ...c, members: [c.members[0], { ...c.members[1], keyPercent: '40.000000000000000001' }] }),
      'members[1].keyPercent: the keys add up to more than 100 %',
    ],
    [
      'a key that is not a decimal',
      (c) => ({ ...c, members: [{ ...c.members[0], keyPercent: '1/3' }] }),
      'members[0].keyPercent: a percentage as a decimal string such as "12.5"',
    ],
    [
      'a meter named twice',
      (c) => ({ ...c, members: [c.members[0], { ...c.members[1], meterId: 'pv-roof' }] }),
      "members[1].meterId: also generation[0]'s: each meter is named once",
    ],
    [
      'a member paying from no address',
      (c) => ({ ...c, members: [{ ...c.members[0], address: 'rms1nope' }] }),
      'members[0].address: a bech32 Ed25519 address such as "rms1q…"',
    ],
    [
      'a short public key',
      (c) => ({ ...c, generation: [{ meterId: 'pv-roof', publicKey: 'abc' }] }),
      "generation[0].publicKey: the meter's public signing key, 64 lowercase hex digits",
    ],
    ['no generation meter', (c) => ({ ...c, generation: [] }), 'generation: at least one generation meter'],
    [
      'a tariff with fees and no grid address',
      (c) => ({ ...c, payees: { producer: c.payees.producer, operator: c.payees.operator } }),
      'payees.grid: required: the tariff has grid fees, paid to this bech32 address',
    ],
    [
      'a bad tariff',
      (c) => ({ ...c, tariff: { ...(c.tariff as object), timeZone: 'Nowhere/Else' } }),
      'tariff: history[0].timeZone: must be an IANA time zone',
    ],
    ['a tariff file that is not there', (c) => ({ ...c, tariff: 'missing.json' }), 'tariff: '],
    [
      'a misspelt field',
      (c) => ({ ...c, member: [] }),
      'config: unknown field(s): member (check the spelling)',
    ],
    ['a gap of 0 ms', (c) => ({ ...c, gapMs: 0 }), 'gapMs: '],
  ])('refuses %s in one line naming the field', (_name, change, message) => {
    let error: Error | undefined;
    try {
      parseAllocationConfig(change(valid()), '/nonexistent/allocation.json');
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message.startsWith(message), error?.message).toBe(true);
    expect(error?.message).not.toContain('\n');
    expect((error as { code?: string }).code).toBe('INVALID_CONFIG');
  });
});

describe('the cycle', () => {
  const history = parseAllocationConfig(valid()).history;

  it('is a calendar month in the tariff’s zone, or a range of dates or instants', () => {
    // Berlin is UTC+1 in January: the month starts at 23:00Z the day before.
    expect(parseCycle('2026-01', history)).toEqual({
      id: '2026-01',
      fromMs: Date.parse('2025-12-31T23:00:00Z'),
      toMs: Date.parse('2026-01-31T23:00:00Z'),
    });
    expect(parseCycle('2026-01-05..2026-01-11', history)).toEqual({
      id: '2026-01-05..2026-01-11',
      fromMs: Date.parse('2026-01-04T23:00:00Z'),
      toMs: Date.parse('2026-01-11T23:00:00Z'),
    });
    expect(parseCycle('2026-01-14T16:30:00+01:00..2026-01-14T17:30:00+01:00', history).id).toBe(
      '2026-01-14T15:30:00.000Z..2026-01-14T16:30:00.000Z',
    );
  });

  it.each([
    ['2026-13', 'cycle: a month YYYY-MM, or from..to'],
    ['2026-01-10..2026-01-01', 'cycle: its end must be after its start'],
    ['yesterday', 'cycle: a month YYYY-MM, or from..to'],
  ])('refuses %s', (text, message) => {
    expect(() => parseCycle(text, history)).toThrow(message);
  });
});
