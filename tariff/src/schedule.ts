import { z } from 'zod';
import { TariffError } from './errors.js';
import { add, compare, isDecimal, mul, parseDecimal, type Rational, rational, ZERO } from './rational.js';
import { isTimeZone, localTime } from './zone.js';

/** 1 Wh = 3600 J = 7.2e12 half-nJ, the agent's unit of energy (exact trapezoids of µW × ms). */
export const HALF_NJ_PER_WH = 7_200_000_000_000n;

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const decimal = z
  .string()
  .refine(isDecimal, 'must be an exact decimal string such as "0.25" (no sign or exponent, ≤ 18 decimals)');
const percent = decimal.refine(
  (text) => isDecimal(text) && compare(parseDecimal(text), rational(100n)) <= 0,
  'must be a percentage from "0" to "100" as a decimal string',
);
const wholeUnits = z
  .string()
  .regex(/^(0|[1-9][0-9]*)$/, 'must be whole base units as a string such as "500"');
const bandName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a lower-case name such as "high" (a–z, 0–9, -)');
const clock = z
  .string()
  .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$/, 'must be a time "HH:MM" from 00:00 to 24:00');
const INSTANT =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?(Z|([+-])([0-9]{2}):([0-9]{2}))$/;

/** ms since 1970 of an ISO date-time with an explicit offset; NaN unless every field is in range. */
export function parseInstant(text: string): number {
  const m = INSTANT.exec(text);
  if (!m) return Number.NaN;
  const [y, mo, d, h, mi, sec] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as number[];
  const local = Date.UTC(y!, mo! - 1, d!, h!, mi!, sec!);
  const back = new Date(local);
  const offH = Number(m[9] ?? 0);
  const offM = Number(m[10] ?? 0);
  if (back.getUTCMonth() !== mo! - 1 || back.getUTCDate() !== d! || h! > 23 || mi! > 59 || sec! > 59)
    return Number.NaN;
  if (offH > 23 || offM > 59) return Number.NaN;
  return local - (m[8] === '-' ? -1 : 1) * (offH * 60 + offM) * 60_000;
}

const instant = z
  .string()
  .regex(INSTANT, 'must be an ISO date-time with its UTC offset such as "2026-01-01T00:00+01:00"')
  .refine((text) => !Number.isNaN(parseInstant(text)), 'is not a real date and time');

const feeSchema = z
  .strictObject({
    percentOfEnergy: percent.optional(),
    unitsPerWh: z.record(bandName, decimal).optional(),
    monthlyUnits: wholeUnits.optional(),
  })
  .refine(
    (fee) => fee.percentOfEnergy === undefined || fee.unitsPerWh === undefined,
    'give either percentOfEnergy or unitsPerWh, not both',
  );

const schema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1–64 letters, digits, ".", "_" or "-"'),
  version: z.number().int('must be a whole number').min(1, 'must be 1 or more'),
  timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone such as "Europe/Berlin" or "UTC"'),
  validFrom: instant,
  validUntil: instant.optional(),
  priceIncludesFees: z.boolean().optional(),
  bands: z
    .array(
      z.strictObject({
        digit: z.number().int().min(1, 'must be 1–9').max(9, 'must be 1–9'),
        name: bandName,
        priceUnitsPerWh: decimal,
        feedInUnitsPerWh: decimal.optional(),
      }),
    )
    .min(1, 'needs at least one band')
    .max(9, 'allows at most 9 bands (OBIS tariff digits 1–9)'),
  slots: z
    .array(
      z.strictObject({
        days: z
          .array(z.enum(WEEKDAYS, 'must be one of sun, mon, tue, wed, thu, fri, sat'))
          .min(1, 'needs at least one weekday'),
        from: clock,
        to: clock,
        band: bandName,
      }),
    )
    .min(1, 'needs at least one slot'),
  fees: z.strictObject({ operator: feeSchema.optional(), grid: feeSchema.optional() }).optional(),
});

/** A tariff as written (JSON): see the README's tariff section. */
export type TariffInput = z.input<typeof schema>;

export type FeePayee = 'operator' | 'grid';
export const FEE_PAYEES: readonly FeePayee[] = ['operator', 'grid'];

export interface Band {
  /** The OBIS tariff digit: register 1-0:1.8.<digit>. */
  digit: number;
  name: string;
  /** Base units per half-nJ, exact. */
  priceUnitsPerHalfNJ: Rational;
  priceUnitsPerWh: Rational;
  feedInUnitsPerWh: Rational | undefined;
  /** Per fee payee: a fixed price per Wh and a share of the energy amount (one of them is 0). */
  fees: Record<FeePayee, { unitsPerWh: Rational; shareOfEnergy: Rational }>;
}

export interface Slot {
  fromMinute: number;
  toMinute: number;
  digit: number;
}

export interface Tariff {
  id: string;
  version: number;
  timeZone: string;
  validFromMs: number;
  /** Open-ended when undefined. */
  validUntilMs: number | undefined;
  /** false: fees are added to the energy amount; true: they are carved out of it. */
  priceIncludesFees: boolean;
  bands: Band[];
  /** Per weekday (0 = Sunday), slots in order covering 00:00–24:00 exactly. */
  days: Slot[][];
  monthlyUnits: Record<FeePayee, bigint>;
  input: TariffInput;
}

const MINUTES_PER_DAY = 1440;

function fail(field: string, what: string): never {
  throw new TariffError('INVALID_TARIFF', `${field}: ${what}`);
}

function firstIssue(prefix: string, error: z.ZodError): never {
  const issue = error.issues[0];
  const path = issue
    ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')
    : '';
  const field = `${prefix}${path}`.replace(/^\./, '') || '(tariff)';
  if (issue?.code === 'unrecognized_keys')
    fail(
      `${field}${field === '(tariff)' ? '' : '.'}${issue.keys[0]}`,
      'not a known field (check its spelling)',
    );
  fail(field, issue?.message ?? 'invalid');
}

function hhmm(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

function minuteOf(clockText: string): number {
  const [h, m] = clockText.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/** Validates one tariff and compiles it for pricing; a bad field throws a one-line INVALID_TARIFF error. */
export function parseTariff(raw: unknown, field = ''): Tariff {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) firstIssue(field, parsed.error);
  const input = parsed.data;
  const at = (name: string) => `${field}${field ? '.' : ''}${name}`;

  const digits = new Set<number>();
  const names = new Map<string, number>();
  input.bands.forEach((band, i) => {
    if (digits.has(band.digit)) fail(at(`bands[${i}].digit`), `${band.digit} is used by another band`);
    if (names.has(band.name)) fail(at(`bands[${i}].name`), `"${band.name}" is used by another band`);
    digits.add(band.digit);
    names.set(band.name, band.digit);
  });
  const bandList = [...names.keys()].join(', ');

  // Every minute of every weekday belongs to exactly one slot.
  const owner: (number | undefined)[][] = WEEKDAYS.map(() => new Array(MINUTES_PER_DAY).fill(undefined));
  input.slots.forEach((slot, i) => {
    const from = minuteOf(slot.from);
    const to = minuteOf(slot.to);
    if (slot.from === '24:00') fail(at(`slots[${i}].from`), 'must be before 24:00');
    if (to <= from)
      fail(
        at(`slots[${i}].to`),
        `must be after from (${slot.from}); split a slot that crosses midnight in two`,
      );
    if (!names.has(slot.band))
      fail(at(`slots[${i}].band`), `"${slot.band}" is not a band (bands: ${bandList})`);
    const seen = new Set<string>();
    for (const day of slot.days) {
      if (seen.has(day)) fail(at(`slots[${i}].days`), `names ${day} twice`);
      seen.add(day);
      const minutes = owner[WEEKDAYS.indexOf(day)]!;
      for (let m = from; m < to; m++) {
        const other = minutes[m];
        if (other !== undefined)
          fail(
            at(`slots[${i}]`),
            `${day} ${hhmm(m)} is already covered by slots[${other}]; slots must not overlap`,
          );
        minutes[m] = i;
      }
    }
  });
  const days = owner.map((minutes, d) => {
    const slots: Slot[] = [];
    for (let m = 0; m < MINUTES_PER_DAY; ) {
      const i = minutes[m];
      if (i === undefined) {
        let end = m;
        while (end < MINUTES_PER_DAY && minutes[end] === undefined) end++;
        fail(
          at('slots'),
          `${WEEKDAYS[d]} ${hhmm(m)}–${hhmm(end)} is in no slot; every minute of the week needs one`,
        );
      }
      let end = m;
      while (end < MINUTES_PER_DAY && minutes[end] === i) end++;
      slots.push({ fromMinute: m, toMinute: end, digit: names.get(input.slots[i]!.band)! });
      m = end;
    }
    return slots;
  });

  const fees = input.fees ?? {};
  for (const payee of FEE_PAYEES) {
    const perWh = fees[payee]?.unitsPerWh;
    if (!perWh) continue;
    for (const name of Object.keys(perWh))
      if (!names.has(name))
        fail(at(`fees.${payee}.unitsPerWh.${name}`), `is not a band (bands: ${bandList})`);
    for (const name of names.keys())
      if (perWh[name] === undefined) fail(at(`fees.${payee}.unitsPerWh`), `needs a price for band "${name}"`);
  }

  const priceIncludesFees = input.priceIncludesFees ?? false;
  const bands: Band[] = input.bands.map((band, i) => {
    const priceUnitsPerWh = parseDecimal(band.priceUnitsPerWh);
    const feeOf = (payee: FeePayee) => {
      const fee = fees[payee];
      const perWh = fee?.unitsPerWh?.[band.name];
      return {
        unitsPerWh: perWh === undefined ? ZERO : parseDecimal(perWh),
        shareOfEnergy:
          fee?.percentOfEnergy === undefined
            ? ZERO
            : mul(parseDecimal(fee.percentOfEnergy), rational(1n, 100n)),
      };
    };
    const bandFees = { operator: feeOf('operator'), grid: feeOf('grid') };
    if (priceIncludesFees) {
      let feesPerWh = ZERO;
      for (const payee of FEE_PAYEES)
        feesPerWh = add(
          feesPerWh,
          add(bandFees[payee].unitsPerWh, mul(bandFees[payee].shareOfEnergy, priceUnitsPerWh)),
        );
      if (compare(feesPerWh, priceUnitsPerWh) > 0)
        fail(
          at(`bands[${i}].priceUnitsPerWh`),
          `${band.priceUnitsPerWh} is below the fees it includes; with priceIncludesFees the price must cover them`,
        );
    }
    return {
      digit: band.digit,
      name: band.name,
      priceUnitsPerWh,
      priceUnitsPerHalfNJ: mul(priceUnitsPerWh, rational(1n, HALF_NJ_PER_WH)),
      feedInUnitsPerWh: band.feedInUnitsPerWh === undefined ? undefined : parseDecimal(band.feedInUnitsPerWh),
      fees: bandFees,
    };
  });

  const validFromMs = parseInstant(input.validFrom);
  const validUntilMs = input.validUntil === undefined ? undefined : parseInstant(input.validUntil);
  if (validUntilMs !== undefined && validUntilMs <= validFromMs)
    fail(at('validUntil'), `must be after validFrom (${input.validFrom})`);
  const tariff: Tariff = {
    id: input.id,
    version: input.version,
    timeZone: input.timeZone,
    validFromMs,
    validUntilMs,
    priceIncludesFees,
    bands,
    days,
    monthlyUnits: {
      operator: BigInt(fees.operator?.monthlyUnits ?? '0'),
      grid: BigInt(fees.grid?.monthlyUnits ?? '0'),
    },
    input,
  };
  for (const name of ['validFrom', 'validUntil'] as const) {
    const text = input[name];
    if (text === undefined) continue;
    const local = localTime(input.timeZone, parseInstant(text));
    const starts = days[local.weekday]!.map((s) => s.fromMinute);
    const rawStarts = input.slots
      .filter((s) => s.days.includes(WEEKDAYS[local.weekday]!))
      .map((s) => minuteOf(s.from));
    if (local.subMinuteMs !== 0 || ![...starts, ...rawStarts].includes(local.minuteOfDay))
      fail(
        at(name),
        `${text} is ${WEEKDAYS[local.weekday]} ${hhmm(local.minuteOfDay)}${local.subMinuteMs ? '+' : ''} in ${input.timeZone}, not a slot boundary; a tariff takes effect at one`,
      );
  }
  return tariff;
}

/** The band with this digit, or a typed error. */
export function bandOf(tariff: Tariff, digit: number): Band {
  const band = tariff.bands.find((b) => b.digit === digit);
  if (!band)
    throw new TariffError('INVALID_INPUT', `band ${digit} is not in tariff ${tariff.id} v${tariff.version}`);
  return band;
}

/** Versions of one tariff in the order they took effect, without overlaps. */
export type TariffHistory = readonly Tariff[];

/**
 * Validates a list of tariff versions: one id, versions rising with validFrom, no overlap; only the last may
 * be open-ended. A gap between versions is allowed (nothing can be priced in it: NO_TARIFF).
 */
export function parseTariffHistory(raw: unknown): TariffHistory {
  if (!Array.isArray(raw) || raw.length === 0)
    throw new TariffError('INVALID_TARIFF', 'history: must be a non-empty list of tariff versions');
  const versions = raw.map((entry, i) => parseTariff(entry, `history[${i}]`));
  const sorted = [...versions].sort((a, b) => a.validFromMs - b.validFromMs);
  sorted.forEach((t, i) => {
    const field = `history[${versions.indexOf(t)}]`;
    if (t.id !== sorted[0]!.id) fail(`${field}.id`, `must be "${sorted[0]!.id}" like the other versions`);
    const before = sorted[i - 1];
    if (!before) return;
    if (t.version <= before.version)
      fail(`${field}.version`, `must be above ${before.version}, the version in force before it`);
    if (before.validUntilMs === undefined || before.validUntilMs > t.validFromMs)
      fail(
        `${field}.validFrom`,
        `overlaps version ${before.version}; end that one (validUntil) by ${t.input.validFrom}`,
      );
  });
  return sorted;
}

/** The version in force at an instant, if any. */
export function tariffAt(history: TariffHistory, ms: number): Tariff | undefined {
  return history.find((t) => t.validFromMs <= ms && (t.validUntilMs === undefined || ms < t.validUntilMs));
}
