/**
 * The bill config: what joining is compared with (the retail supplier's price per Wh and the grid's feed-in
 * price, per OBIS tariff band), the grid's CO₂ factor, and the billing cycle in local dates of an IANA zone.
 */
import { instantAtLocal, isTimeZone, type Rational, rational } from '@tanglewatt/tariff';
import { z } from 'zod';
import { BillError } from './errors.js';

const decimal = z
  .string()
  .regex(/^(0|[1-9][0-9]*)(\.[0-9]{1,18})?$/, 'a non-negative decimal string such as "0.3"');
/** One price for every band, or a price per band digit ("1" … "9"). */
const perBand = z.union([
  decimal,
  z
    .record(z.string().regex(/^[1-9]$/, 'a band digit 1-9'), decimal)
    .refine((r) => Object.keys(r).length > 0, {
      message: 'at least one band',
    }),
]);
/** A local date (the day, in timeZone) or an ISO instant with Z or an offset. */
export const cycleBound = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

export const billConfigSchema = z.strictObject({
  /** IANA zone the cycle's dates are days in. */
  timeZone: z.string().refine(isTimeZone, 'an IANA time zone such as "Europe/Berlin"').default('UTC'),
  /** What the retail supplier charges per Wh (energy and all its charges), per band. */
  retailUnitsPerWh: perBand,
  /** What the grid pays per Wh fed in, per band. */
  feedInUnitsPerWh: perBand.default('0'),
  /** Grams of CO₂ per kWh of the grid mix the community's energy displaces. */
  co2GramsPerKWh: decimal.default('0'),
  /** The household's own meters by their public signing key (64 hex digits): their public channels are read. */
  meters: z
    .array(z.string().regex(/^[0-9a-f]{64}$/, "a meter's public signing key, 64 lowercase hex digits"))
    .default([]),
  /** Cycle start: a local date (its midnight) or an instant. */
  from: cycleBound.optional(),
  /** Cycle end: a local date (the cycle includes that whole day) or an instant (excluded). */
  to: cycleBound.optional(),
});
export type BillConfigFile = z.input<typeof billConfigSchema>;

export interface BillConfig {
  timeZone: string;
  retail: BandPrices;
  feedIn: BandPrices;
  co2GramsPerKWh: Rational;
  /** Public signing keys of the household's own meters. */
  meters: string[];
  /** Unix ms, inclusive. */
  fromMs: number;
  /** Unix ms, exclusive. */
  toMs: number;
}

/** A price per band digit; `all` when one price covers every band. */
export interface BandPrices {
  all?: Rational;
  byBand: Map<number, Rational>;
}

export function priceOf(prices: BandPrices, band: number): Rational | undefined {
  return prices.byBand.get(band) ?? prices.all;
}

function bandPrices(value: string | Record<string, string>): BandPrices {
  if (typeof value === 'string') return { all: rational.parseDecimal(value), byBand: new Map() };
  return {
    byBand: new Map(
      Object.entries(value).map(([digit, price]) => [Number(digit), rational.parseDecimal(price)]),
    ),
  };
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Unix ms of a cycle bound: a date is its local midnight (`end`: the next midnight), an instant is itself. */
export function boundMs(text: string, timeZone: string, end: boolean, field: string): number {
  const day = DAY.exec(text);
  if (!day) {
    const ms = Date.parse(text);
    if (!cycleBound.safeParse(text).success || Number.isNaN(ms))
      throw new BillError(
        'INVALID_CONFIG',
        `${field}: a date YYYY-MM-DD or an ISO time with Z or an offset, not "${text}"`,
      );
    return ms;
  }
  const localMidnight = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]) + (end ? 1 : 0));
  if (Number.isNaN(localMidnight) || !cycleBound.safeParse(text).success)
    throw new BillError('INVALID_CONFIG', `${field}: not a calendar date: "${text}"`);
  return instantAtLocal(timeZone, localMidnight);
}

/**
 * A bill config from its JSON and the cycle (arguments win over the file's from/to). Bad input is a
 * one-line INVALID_CONFIG naming the field.
 */
export function parseBillConfig(json: unknown, cycle: { from?: string; to?: string } = {}): BillConfig {
  const parsed = billConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || 'config';
    const message =
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message;
    throw new BillError('INVALID_CONFIG', `${field}: ${message}`);
  }
  const c = parsed.data;
  const from = cycle.from ?? c.from;
  const to = cycle.to ?? c.to;
  if (from === undefined) throw new BillError('INVALID_CONFIG', 'from: the cycle start (a date YYYY-MM-DD)');
  if (to === undefined) throw new BillError('INVALID_CONFIG', 'to: the cycle end (a date YYYY-MM-DD)');
  const fromMs = boundMs(from, c.timeZone, false, 'from');
  const toMs = boundMs(to, c.timeZone, true, 'to');
  if (toMs <= fromMs) throw new BillError('INVALID_CONFIG', 'to: must be after from');
  return {
    timeZone: c.timeZone,
    retail: bandPrices(c.retailUnitsPerWh),
    feedIn: bandPrices(c.feedInUnitsPerWh),
    co2GramsPerKWh: rational.parseDecimal(c.co2GramsPerKWh),
    meters: c.meters,
    fromMs,
    toMs,
  };
}

/** Used when no config is given: every baseline is zero, and the bill says so. */
export const ZERO_BASELINE: BillConfigFile = { retailUnitsPerWh: '0', feedInUnitsPerWh: '0' };
