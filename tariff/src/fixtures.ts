import type { TariffInput } from './schedule.js';

/**
 * The README's example tariff: three bands on weekdays, low all weekend, a 10 % operator fee and a grid fee
 * per Wh by band. Tests copy and change it.
 */
export function exampleTariff(): TariffInput {
  return {
    id: 'community',
    version: 1,
    timeZone: 'Europe/Berlin',
    validFrom: '2026-01-01T00:00+01:00',
    validUntil: '2026-02-01T00:00+01:00',
    bands: [
      { digit: 1, name: 'high', priceUnitsPerWh: '0.5' },
      { digit: 2, name: 'standard', priceUnitsPerWh: '0.3' },
      { digit: 3, name: 'low', priceUnitsPerWh: '0.2', feedInUnitsPerWh: '0.08' },
    ],
    slots: [
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '00:00', to: '07:00', band: 'low' },
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '17:00', band: 'standard' },
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '17:00', to: '20:00', band: 'high' },
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '20:00', to: '24:00', band: 'standard' },
      { days: ['sat', 'sun'], from: '00:00', to: '24:00', band: 'low' },
    ],
    fees: {
      operator: { percentOfEnergy: '10', monthlyUnits: '500' },
      grid: { unitsPerWh: { high: '0.1', standard: '0.05', low: '0.02' } },
    },
  };
}

/** Deterministic PRNG (mulberry32) for property checks: the same seed gives the same run everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
