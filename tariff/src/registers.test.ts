import { describe, expect, it } from 'vitest';
import { exampleTariff } from './fixtures.js';
import { pricePeriodEnergy } from './pricing.js';
import { compare, rational } from './rational.js';
import {
  counterDelta,
  EMPTY_REGISTERS,
  energyByBand,
  foldRegisters,
  type RegisterPeriod,
  registersOf,
  registerWh,
} from './registers.js';
import { HALF_NJ_PER_WH, parseTariffHistory } from './schedule.js';

const WH = HALF_NJ_PER_WH;
const r = rational;
const wh = (n: bigint, d = 1n) => rational(n * WH, d);
const HOUR = 3_600_000;
const t0 = Date.UTC(2026, 0, 14, 15, 0);

describe('OBIS registers', () => {
  it('add each period by band and in total, import and export apart', () => {
    // Period 1: import 900 Wh standard (band 2) + 900 Wh high (band 1), export 0.
    // Period 2: import 1/3 Wh high, export 5 Wh low (band 3).
    // 1-0:1.8.1 = 900 + 1/3 = 2701/3 Wh; 1-0:1.8.2 = 900; 1-0:1.8.0 = 1800 + 1/3 = 5401/3; 1-0:2.8.3 = 1-0:2.8.0 = 5.
    const regs = registersOf([
      { meterId: 'm1', endMs: t0 + HOUR, importByBand: { 1: wh(900n), 2: wh(900n) }, exportByBand: {} },
      { meterId: 'm1', endMs: t0 + 2 * HOUR, importByBand: { 1: wh(1n, 3n) }, exportByBand: { 3: wh(5n) } },
    ]);
    expect(registerWh(regs, '1-0:1.8.1')).toEqual(r(2701n, 3n));
    expect(registerWh(regs, '1-0:1.8.2')).toEqual(r(900n));
    expect(registerWh(regs, '1-0:1.8.0')).toEqual(r(5401n, 3n));
    expect(registerWh(regs, '1-0:2.8.3')).toEqual(r(5n));
    expect(registerWh(regs, '1-0:2.8.0')).toEqual(r(5n));
    expect(registerWh(regs, '1-0:2.8.1')).toEqual(r(0n));
    expect(regs.events).toEqual([]);
  });

  it('take the band split from a priced period', () => {
    // 1,800 Wh over 16:30–17:30 local: 900 Wh high (1), 900 Wh standard (2).
    const priced = pricePeriodEnergy(parseTariffHistory([exampleTariff()]), {
      startMs: t0 + HOUR / 2,
      endMs: t0 + (3 * HOUR) / 2,
      intervals: [{ startMs: t0 + HOUR / 2, endMs: t0 + (3 * HOUR) / 2, energyHalfNJ: 1800n * WH }],
    });
    expect(energyByBand(priced.lines)).toEqual({ 1: wh(900n), 2: wh(900n) });
  });

  it('record a counter reset as an event and never go backwards', () => {
    // The meter's import counter reads 10 Wh, then 20 Wh, then 3 Wh after a restart, then 4 Wh.
    const periods: RegisterPeriod[] = [10n, 20n, 3n, 4n].map((reading, i) => ({
      meterId: 'm1',
      endMs: t0 + (i + 1) * HOUR,
      importByBand: { 2: wh(i === 0 ? 10n : i === 1 ? 10n : i === 2 ? 3n : 1n) },
      exportByBand: {},
      counter: { importHalfNJ: reading * WH, exportHalfNJ: 0n },
    }));
    const states = [EMPTY_REGISTERS];
    for (const p of periods) states.push(foldRegisters(states.at(-1)!, p));
    const totals = states.slice(1).map((s) => registerWh(s, '1-0:1.8.0'));
    expect(totals).toEqual([r(10n), r(20n), r(23n), r(24n)]);
    for (let i = 1; i < totals.length; i++)
      expect(compare(totals[i]!, totals[i - 1]!)).toBeGreaterThanOrEqual(0);
    expect(states.at(-1)!.events).toEqual([
      {
        kind: 'COUNTER_RESET',
        atMs: t0 + 3 * HOUR,
        meterId: 'm1',
        counter: 'import',
        beforeHalfNJ: 20n * WH,
        afterHalfNJ: 3n * WH,
      },
    ]);
  });

  it('record a replaced meter, whose lower counter is not a reset', () => {
    const regs = registersOf([
      {
        meterId: 'm1',
        endMs: t0 + HOUR,
        importByBand: { 1: wh(5n) },
        exportByBand: {},
        counter: { importHalfNJ: 500n * WH, exportHalfNJ: 0n },
      },
      {
        meterId: 'm2',
        endMs: t0 + 2 * HOUR,
        importByBand: { 1: wh(2n) },
        exportByBand: {},
        counter: { importHalfNJ: 2n * WH, exportHalfNJ: 0n },
      },
    ]);
    expect(registerWh(regs, '1-0:1.8.1')).toEqual(r(7n));
    expect(regs.events).toEqual([
      { kind: 'METER_REPLACED', atMs: t0 + 2 * HOUR, fromMeterId: 'm1', toMeterId: 'm2' },
    ]);
  });

  it('count energy from a cumulative counter across a reset from zero', () => {
    // 20 → 25: 5 Wh. 25 → 3 (restarted): 3 Wh since the restart.
    expect(counterDelta(20n, 25n)).toEqual({ energyHalfNJ: 5n, reset: false });
    expect(counterDelta(25n, 3n)).toEqual({ energyHalfNJ: 3n, reset: true });
  });

  it.each<[string, RegisterPeriod, string]>([
    [
      'a period out of order',
      { meterId: 'm1', endMs: t0, importByBand: {}, exportByBand: {} },
      "periods[1].endMs: must be after the previous period's end",
    ],
    [
      'band digit 0',
      { meterId: 'm1', endMs: t0 + 2 * HOUR, importByBand: { 0: wh(1n) }, exportByBand: {} },
      'periods[1].importByBand.0: must be a band digit 1–9',
    ],
    [
      'negative export',
      { meterId: 'm1', endMs: t0 + 2 * HOUR, importByBand: {}, exportByBand: { 1: wh(-1n) } },
      'periods[1].exportByBand.1: must be energy ≥ 0',
    ],
    [
      'no meter id',
      { meterId: '', endMs: t0 + 2 * HOUR, importByBand: {}, exportByBand: {} },
      'periods[1].meterId: must be a non-empty string',
    ],
    [
      'a negative counter',
      {
        meterId: 'm1',
        endMs: t0 + 2 * HOUR,
        importByBand: {},
        exportByBand: {},
        counter: { importHalfNJ: -1n, exportHalfNJ: 0n },
      },
      'periods[1].counter: must be counters ≥ 0',
    ],
  ])('refuse %s in one line naming the field', (_name, bad, message) => {
    const first: RegisterPeriod = { meterId: 'm1', endMs: t0 + HOUR, importByBand: {}, exportByBand: {} };
    expect(() => registersOf([first, bad])).toThrow(message);
  });
});
