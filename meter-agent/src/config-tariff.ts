/**
 * The agent's optional tariff: a schedule (a file, or the tariff inline: one version or a list of versions)
 * checked by the tariff package, and the operator's and grid's addresses its fees are paid to.
 */
import { readFileSync } from 'node:fs';
import { isError } from '@tanglewatt/errors';
import { FEE_PAYEES, parseTariffHistory, type TariffHistory } from '@tanglewatt/tariff';
import { z } from 'zod';
import { AgentConfigError } from './errors.js';

const BECH32 = /^[a-z]{1,83}1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{6,}$/;
const address = z.string().regex(BECH32, 'a bech32 address, e.g. "watt1q…"');

export const tariffConfigSchema = z.strictObject({
  /** A JSON file (relative to the config file), or the tariff inline: one version or a list of versions. */
  schedule: z.union([z.string().min(1), z.record(z.string(), z.unknown()), z.array(z.unknown())], {
    error: 'a tariff file path, a tariff object, or a list of tariff versions',
  }),
  /** Receives the operator's fees; required when the tariff has any. */
  operator: address.optional(),
  /** Receives the grid's fees; required when the tariff has any. */
  grid: address.optional(),
  /**
   * How the meter settles: `metered` pays each period; `net` pays once per cycle on import − export per
   * band; `feed-in` pays import per period and records per cycle what its export is owed.
   */
  mode: z
    .enum(['metered', 'net', 'feed-in'], { error: 'one of "metered", "net", "feed-in"' })
    .default('metered'),
  /** The billing cycle of `net` and `feed-in`: calendar months in the tariff's zone, or a run of days. */
  cycle: z
    .union([z.literal('monthly'), z.strictObject({ days: z.number().int().min(1).max(366) })], {
      error: '"monthly" or { "days": a whole number 1–366 }',
    })
    .optional(),
});

export type TariffConfig = z.output<typeof tariffConfigSchema>;

const compiled = new WeakMap<object, TariffHistory>();

/** The tariff's versions, validated once per config. */
export function tariffHistoryOf(tariff: TariffConfig): TariffHistory {
  let history = compiled.get(tariff);
  if (!history) {
    history = parseTariffHistory(Array.isArray(tariff.schedule) ? tariff.schedule : [tariff.schedule]);
    compiled.set(tariff, history);
  }
  return history;
}

/**
 * Reads the schedule file (`abs` resolves it against the config's directory) and validates the tariff:
 * returns the config with the schedule inline, or throws a one-line error naming the field.
 */
export function resolveTariff(
  tariff: TariffConfig,
  source: string,
  abs: (p: string) => string,
): TariffConfig {
  let schedule = tariff.schedule;
  if (typeof schedule === 'string') {
    const file = abs(schedule);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new AgentConfigError(
        source,
        'tariff.schedule',
        `${file} cannot be read: give a tariff JSON file`,
      );
    }
    try {
      schedule = JSON.parse(text) as TariffConfig['schedule'];
    } catch {
      throw new AgentConfigError(source, 'tariff.schedule', `${file} is not valid JSON`);
    }
  }
  const resolved = { ...tariff, schedule };
  let history: TariffHistory;
  try {
    history = tariffHistoryOf(resolved);
  } catch (error) {
    if (!isError(error, 'INVALID_TARIFF')) throw error;
    throw new AgentConfigError(source, 'tariff.schedule', (error as Error).message);
  }
  if (resolved.cycle !== undefined && resolved.mode === 'metered')
    throw new AgentConfigError(
      source,
      'tariff.cycle',
      'only with mode "net" or "feed-in" (metered pays each period)',
    );
  if (resolved.mode === 'feed-in')
    for (const t of history)
      for (const b of t.bands)
        if (b.feedInUnitsPerWh === undefined)
          throw new AgentConfigError(
            source,
            'tariff.mode',
            `"feed-in" needs feedInUnitsPerWh on every band: band ${b.name} of version ${t.version} has none`,
          );
  for (const payee of FEE_PAYEES) {
    const charged = history.some(
      (t) =>
        t.monthlyUnits[payee] > 0n ||
        t.bands.some((b) => b.fees[payee].unitsPerWh.num > 0n || b.fees[payee].shareOfEnergy.num > 0n),
    );
    if (charged && !resolved[payee])
      throw new AgentConfigError(
        source,
        `tariff.${payee}`,
        `required: the tariff has ${payee} fees, paid to this bech32 address`,
      );
  }
  return resolved;
}
