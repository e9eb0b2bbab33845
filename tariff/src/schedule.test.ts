import { describe, expect, it } from 'vitest';
import { TariffError } from './errors.js';
import { exampleTariff } from './fixtures.js';
import { rational } from './rational.js';
import { parseTariff, parseTariffHistory, type TariffInput, tariffAt } from './schedule.js';

function refused(change: (t: TariffInput & Record<string, unknown>) => void): string {
  const input = structuredClone(exampleTariff()) as TariffInput & Record<string, unknown>;
  change(input);
  try {
    parseTariff(input);
  } catch (e) {
    expect(e).toBeInstanceOf(TariffError);
    expect((e as TariffError).code).toBe('INVALID_TARIFF');
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('a tariff schedule', () => {
  it('compiles the example: bands with exact prices, fees per band, slots per weekday', () => {
    const t = parseTariff(exampleTariff());
    expect(t.validFromMs).toBe(Date.UTC(2025, 11, 31, 23, 0));
    expect(t.bands.map((b) => [b.digit, b.name])).toEqual([
      [1, 'high'],
      [2, 'standard'],
      [3, 'low'],
    ]);
    expect(t.bands[0]!.fees.operator.shareOfEnergy).toEqual(rational(1n, 10n));
    expect(t.bands[0]!.fees.grid.unitsPerWh).toEqual(rational(1n, 10n));
    // Wednesday: low 0–7 h, standard 7–17 h, high 17–20 h, standard 20–24 h (minutes of the day).
    expect(t.days[3]!.map((s) => [s.fromMinute, s.toMinute, s.digit])).toEqual([
      [0, 420, 3],
      [420, 1020, 2],
      [1020, 1200, 1],
      [1200, 1440, 2],
    ]);
    expect(t.days[0]).toEqual([{ fromMinute: 0, toMinute: 1440, digit: 3 }]);
    expect(t.monthlyUnits).toEqual({ operator: 500n, grid: 0n });
  });

  it.each<[string, (t: TariffInput & Record<string, unknown>) => void, string]>([
    [
      'an unknown field',
      (t) => Object.assign(t, { colour: 'red' }),
      'colour: not a known field (check its spelling)',
    ],
    ['a bad id', (t) => Object.assign(t, { id: '' }), 'id: must be 1–64 letters'],
    ['version 0', (t) => Object.assign(t, { version: 0 }), 'version: must be 1 or more'],
    ['version 1.5', (t) => Object.assign(t, { version: 1.5 }), 'version: must be a whole number'],
    [
      'an unknown zone',
      (t) => Object.assign(t, { timeZone: 'Mars/Olympus' }),
      'timeZone: must be an IANA time zone',
    ],
    [
      'validFrom without offset',
      (t) => Object.assign(t, { validFrom: '2026-01-01T00:00' }),
      'validFrom: must be an ISO date-time with its UTC offset',
    ],
    [
      'validFrom 31 Feb',
      (t) => Object.assign(t, { validFrom: '2026-02-31T00:00Z' }),
      'validFrom: is not a real date',
    ],
    [
      'validUntil before validFrom',
      (t) => Object.assign(t, { validUntil: '2025-12-01T00:00+01:00' }),
      'validUntil: must be after validFrom',
    ],
    [
      'validFrom off a slot boundary',
      (t) => Object.assign(t, { validFrom: '2026-01-01T07:30+01:00' }),
      'validFrom: 2026-01-01T07:30+01:00 is thu 07:30 in Europe/Berlin, not a slot boundary',
    ],
    [
      'validUntil off a slot boundary',
      (t) => Object.assign(t, { validUntil: '2026-02-02T17:00:30+01:00' }),
      'validUntil: 2026-02-02T17:00:30+01:00 is mon 17:00+ in Europe/Berlin, not a slot boundary',
    ],
    [
      'priceIncludesFees not boolean',
      (t) => Object.assign(t, { priceIncludesFees: 'yes' }),
      'priceIncludesFees:',
    ],
    ['no bands', (t) => Object.assign(t, { bands: [] }), 'bands: needs at least one band'],
    [
      'band digit 0',
      (t) => {
        t.bands[0]!.digit = 0;
      },
      'bands[0].digit: must be 1–9',
    ],
    [
      'band digit twice',
      (t) => {
        t.bands[1]!.digit = 1;
      },
      'bands[1].digit: 1 is used by another band',
    ],
    [
      'band name twice',
      (t) => {
        t.bands[2]!.name = 'high';
      },
      'bands[2].name: "high" is used by another band',
    ],
    [
      'band name in capitals',
      (t) => {
        t.bands[0]!.name = 'High';
      },
      'bands[0].name: must be a lower-case name',
    ],
    [
      'a float price',
      (t) => Object.assign(t.bands[0]!, { priceUnitsPerWh: 0.5 }),
      'bands[0].priceUnitsPerWh:',
    ],
    [
      'a negative price',
      (t) => {
        t.bands[0]!.priceUnitsPerWh = '-1';
      },
      'bands[0].priceUnitsPerWh: must be an exact decimal string',
    ],
    [
      'an exponent feed-in',
      (t) => {
        t.bands[2]!.feedInUnitsPerWh = '1e-2';
      },
      'bands[2].feedInUnitsPerWh: must be an exact decimal string',
    ],
    ['no slots', (t) => Object.assign(t, { slots: [] }), 'slots: needs at least one slot'],
    [
      'a slot with no days',
      (t) => {
        t.slots[0]!.days = [];
      },
      'slots[0].days: needs at least one weekday',
    ],
    [
      'a slot on an unknown day',
      (t) => Object.assign(t.slots[0]!, { days: ['mon', 'moon'] }),
      'slots[0].days[1]: must be one of sun, mon',
    ],
    [
      'a day twice in a slot',
      (t) => {
        t.slots[4]!.days = ['sat', 'sun', 'sat'];
      },
      'slots[4].days: names sat twice',
    ],
    [
      'a slot at 25:00',
      (t) => {
        t.slots[0]!.to = '25:00';
      },
      'slots[0].to: must be a time "HH:MM" from 00:00 to 24:00',
    ],
    [
      'a slot from 24:00',
      (t) => {
        t.slots[0]!.from = '24:00';
      },
      'slots[0].from: must be before 24:00',
    ],
    [
      'a slot ending before it starts',
      (t) => {
        t.slots[3]!.to = '06:00';
      },
      'slots[3].to: must be after from (20:00)',
    ],
    [
      'a slot in an unknown band',
      (t) => {
        t.slots[2]!.band = 'peak';
      },
      'slots[2].band: "peak" is not a band (bands: high, standard, low)',
    ],
    [
      'overlapping slots',
      (t) => {
        t.slots[2]!.from = '16:00';
      },
      'slots[2]: mon 16:00 is already covered by slots[1]; slots must not overlap',
    ],
    [
      'a gap',
      (t) => {
        t.slots[2]!.to = '19:00';
      },
      'slots: mon 19:00–20:00 is in no slot',
    ],
    [
      'a day with no slot',
      (t) => {
        t.slots[4]!.days = ['sat'];
      },
      'slots: sun 00:00–24:00 is in no slot',
    ],
    [
      'a fee both ways',
      (t) => {
        t.fees!.operator = { percentOfEnergy: '5', unitsPerWh: { high: '1', standard: '1', low: '1' } };
      },
      'fees.operator: give either percentOfEnergy or unitsPerWh, not both',
    ],
    [
      'a percentage over 100',
      (t) => {
        t.fees!.operator!.percentOfEnergy = '100.5';
      },
      'fees.operator.percentOfEnergy: must be a percentage from "0" to "100"',
    ],
    [
      'a fee for an unknown band',
      (t) => {
        t.fees!.grid!.unitsPerWh = { high: '0.1', standard: '0.05', low: '0.02', peak: '1' };
      },
      'fees.grid.unitsPerWh.peak: is not a band',
    ],
    [
      'a fee missing a band',
      (t) => {
        t.fees!.grid!.unitsPerWh = { high: '0.1', standard: '0.05' };
      },
      'fees.grid.unitsPerWh: needs a price for band "low"',
    ],
    [
      'a fractional monthly fee',
      (t) => {
        t.fees!.operator!.monthlyUnits = '1.5';
      },
      'fees.operator.monthlyUnits: must be whole base units',
    ],
    [
      'an unknown fee payee',
      (t) => Object.assign(t.fees!, { retailer: {} }),
      'fees.retailer: not a known field',
    ],
    [
      'included fees above the price',
      (t) => {
        // low: 10 % of 0.2 = 0.02 operator + 0.19 grid = 0.21 > 0.2.
        Object.assign(t, { priceIncludesFees: true });
        t.fees!.grid!.unitsPerWh = { high: '0.1', standard: '0.05', low: '0.19' };
      },
      'bands[2].priceUnitsPerWh: 0.2 is below the fees it includes',
    ],
  ])('refuses %s in one line naming the field', (_name, change, message) => {
    expect(refused(change)).toContain(message);
  });

  it('accepts included fees when each band price covers them', () => {
    // low: 10 % of 0.2 = 0.02 operator + 0.02 grid = 0.04 ≤ 0.2; high 0.05 + 0.1 ≤ 0.5; standard 0.03 + 0.05 ≤ 0.3.
    const t = parseTariff({ ...exampleTariff(), priceIncludesFees: true, bands: exampleTariff().bands });
    expect(t.priceIncludesFees).toBe(true);
  });
});

describe('a tariff history', () => {
  const v2 = (): TariffInput => ({
    ...exampleTariff(),
    version: 2,
    validFrom: '2026-02-01T00:00+01:00',
    validUntil: undefined,
  });

  it('orders versions by validFrom and finds the one in force', () => {
    const history = parseTariffHistory([v2(), exampleTariff()]);
    expect(history.map((t) => t.version)).toEqual([1, 2]);
    expect(tariffAt(history, Date.UTC(2026, 0, 31, 22, 59))?.version).toBe(1);
    expect(tariffAt(history, Date.UTC(2026, 0, 31, 23, 0))?.version).toBe(2);
    expect(tariffAt(history, Date.UTC(2025, 11, 31, 22, 59))).toBeUndefined();
  });

  it.each<[string, unknown, string]>([
    ['an empty list', [], 'history: must be a non-empty list of tariff versions'],
    [
      'a bad version inside',
      [exampleTariff(), { ...v2(), timeZone: 'Nowhere' }],
      'history[1].timeZone: must be an IANA',
    ],
    [
      'two ids',
      [exampleTariff(), { ...v2(), id: 'other' }],
      'history[1].id: must be "community" like the other versions',
    ],
    [
      'a version that does not rise',
      [exampleTariff(), { ...v2(), version: 1 }],
      'history[1].version: must be above 1',
    ],
    [
      'overlapping versions',
      [{ ...exampleTariff(), validUntil: '2026-02-02T00:00+01:00' }, v2()],
      'history[1].validFrom: overlaps version 1; end that one (validUntil) by 2026-02-01T00:00+01:00',
    ],
    [
      'an open-ended version before another',
      [{ ...exampleTariff(), validUntil: undefined }, v2()],
      'history[1].validFrom: overlaps version 1',
    ],
  ])('refuses %s', (_name, raw, message) => {
    expect(() => parseTariffHistory(raw)).toThrow(message);
  });
});
