// Test support: a UTC tariff with a band boundary inside a 120 s period, and the agent config using it.
import type { TariffInput } from '@tanglewatt/tariff';
import type { AgentConfigInput } from '../config.js';
import { agentConfig } from './fixtures.js';

export const OPERATOR = `watt1q${'p'.repeat(58)}`;
export const GRID = `watt1q${'z'.repeat(58)}`;
/** 16:00 UTC on Wednesday 14 January 2026: 120 s periods start on even minutes. */
export const T0 = Date.UTC(2026, 0, 14, 16, 0, 0);

/**
 * A UTC tariff whose high band starts at 16:01, inside the 16:00–16:02 period: 3600 units/Wh standard,
 * 7200 high; the operator takes 10 % on top, the grid 360 or 1080 units/Wh.
 */
export function splitTariff(): TariffInput {
  return {
    id: 'split-test',
    version: 1,
    timeZone: 'UTC',
    validFrom: '2026-01-01T00:00Z',
    bands: [
      { digit: 1, name: 'high', priceUnitsPerWh: '7200' },
      { digit: 2, name: 'standard', priceUnitsPerWh: '3600' },
    ],
    slots: [
      {
        days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
        from: '00:00',
        to: '16:01',
        band: 'standard',
      },
      { days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '16:01', to: '24:00', band: 'high' },
    ],
    fees: {
      operator: { percentOfEnergy: '10' },
      grid: { unitsPerWh: { standard: '360', high: '1080' } },
    },
  };
}

/** House 12's 1 W load (5 V × 200 mA), in 120 s periods, under the split tariff. */
export const config = (dir: string, extra: Partial<AgentConfigInput> = {}): AgentConfigInput =>
  agentConfig(dir, {
    period: { seconds: 120 },
    tariff: { schedule: splitTariff(), operator: OPERATOR, grid: GRID },
    ...extra,
  });
