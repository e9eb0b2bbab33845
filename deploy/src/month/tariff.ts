/** The simulated month's tariff and households' loads: time-of-use bands, a per-Wh operator fee, 20 % to the grid. */
import type { TariffInput } from '@tanglewatt/tariff';

const EVERY_DAY = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** Three bands by the hour (UTC), valid from before the month starts. */
export function monthTariff(validFromMs: number): TariffInput {
  return {
    id: 'month-simulation',
    version: 1,
    timeZone: 'UTC',
    validFrom: `${new Date(validFromMs).toISOString().slice(0, 16)}Z`,
    bands: [
      { digit: 1, name: 'high', priceUnitsPerWh: '300' },
      { digit: 2, name: 'standard', priceUnitsPerWh: '200' },
      { digit: 3, name: 'low', priceUnitsPerWh: '120' },
    ],
    slots: [
      { days: [...EVERY_DAY], from: '00:00', to: '07:00', band: 'low' },
      { days: [...EVERY_DAY], from: '07:00', to: '17:00', band: 'standard' },
      { days: [...EVERY_DAY], from: '17:00', to: '21:00', band: 'high' },
      { days: [...EVERY_DAY], from: '21:00', to: '24:00', band: 'standard' },
    ],
    fees: {
      operator: { unitsPerWh: { high: '10', standard: '10', low: '10' } },
      grid: { percentOfEnergy: '20' },
    },
  };
}

/** Household i's load: a seeded random walk of 5–15 A at 48 V (240–720 W). */
export function householdLoad(i: number) {
  return {
    name: 'load',
    kind: 'simulated' as const,
    profile: {
      type: 'random-walk' as const,
      seed: 100 + i,
      busVoltageMV: 48_000,
      startMA: 6_000 + 2_000 * (i % 4),
      minMA: 5_000,
      maxMA: 15_000,
      stepMA: 400,
    },
  };
}
