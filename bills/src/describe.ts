/**
 * A payment's public description (one entry of its transaction's `tanglewatt/pay/v1` tagged data), read
 * leniently: `{k, o, a, periodId, meterId, energyMWs, periodStart, periodEnd, …}` and, where the payer's
 * wallet writes them, `shares` (operator and grid outputs), `tariff`, `bands` (mWs per OBIS digit) and, on a
 * repayment of an output that expired unclaimed, `repays: { k, outputId, role }`.
 * Fields it does not know are ignored; a field it knows but cannot read is left out with a warning, so one
 * odd payment never hides the rest of the bill.
 */
import { z } from 'zod';

export type ShareRole = 'operator' | 'grid';

/**
 * A member's allocation payment (`allocate --pay`) names `allocation/<cycle>` as its period: it is checked by
 * `allocate verify` against every meter of the community, not by a channel of its own, so a bill marks its
 * readings `ALLOCATION` instead of verifying a period.
 */
export const ALLOCATION_PERIOD_PREFIX = 'allocation/';
export const ALLOCATION_READINGS = 'ALLOCATION';
export const isAllocationPeriod = (periodId: string | undefined) =>
  periodId?.startsWith(ALLOCATION_PERIOD_PREFIX) ?? false;

export interface DescribedShare {
  role: ShareRole;
  /** Output index in the same transaction. */
  o: number;
  /** Amount the description states (the ledger's output is what counts). */
  a?: bigint;
  to?: string;
}

export interface PaymentTerms {
  key: string;
  o?: number;
  a?: bigint;
  periodId?: string;
  meterId?: string;
  energyMWs?: bigint;
  priceUnitsPerWh?: string;
  periodStart?: string;
  periodEnd?: string;
  /** mWs per band digit; absent: all in band 1. */
  bands?: Map<number, bigint>;
  /** Absent: everything to the producer. */
  shares: DescribedShare[];
  tariff?: { id: string; version: number };
  channel?: unknown;
  /** A repayment: it pays again the output `outputId` (role) of the payment keyed `key`, which expired. */
  repays?: { key: string; outputId: string; role: RepaidRole };
}

export type RepaidRole = 'payee' | ShareRole;

const whole = z.string().regex(/^[0-9]+$/);
const signedWhole = z.string().regex(/^-?[0-9]+$/);
const share = z.looseObject({
  role: z.enum(['operator', 'grid']),
  o: z.number().int().min(0),
  a: whole.optional(),
  to: z.string().optional(),
});

/** The entry's terms, or why it is not a payment at all (no key). */
export function readDescription(
  raw: unknown,
  warn: (message: string) => void = () => {},
): PaymentTerms | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const entry = raw as Record<string, unknown>;
  if (typeof entry.k !== 'string') return undefined;
  const key = entry.k;
  const terms: PaymentTerms = { key, shares: [] };
  const field = <T>(name: string, schema: z.ZodType<T>, set: (value: T) => void) => {
    if (entry[name] === undefined) return;
    const parsed = schema.safeParse(entry[name]);
    if (parsed.success) set(parsed.data);
    else warn(`payment "${key}": ${name} is not readable, left out`);
  };
  field('o', z.number().int().min(0), (v) => {
    terms.o = v;
  });
  field('a', whole, (v) => {
    terms.a = BigInt(v);
  });
  field('periodId', z.string(), (v) => {
    terms.periodId = v;
  });
  field('meterId', z.string(), (v) => {
    terms.meterId = v;
  });
  field('energyMWs', signedWhole, (v) => {
    terms.energyMWs = BigInt(v);
  });
  field('priceUnitsPerWh', z.string(), (v) => {
    terms.priceUnitsPerWh = v;
  });
  field('periodStart', z.iso.datetime(), (v) => {
    terms.periodStart = v;
  });
  field('periodEnd', z.iso.datetime(), (v) => {
    terms.periodEnd = v;
  });
  field('bands', z.record(z.string().regex(/^[1-9]$/), whole), (v) => {
    terms.bands = new Map(Object.entries(v).map(([digit, mws]) => [Number(digit), BigInt(mws)]));
  });
  field('shares', z.array(share), (v) => {
    terms.shares = v.map((s) => ({
      role: s.role,
      o: s.o,
      ...(s.a !== undefined ? { a: BigInt(s.a) } : {}),
      ...(s.to !== undefined ? { to: s.to } : {}),
    }));
  });
  // The wire states the version as a string ("1", or "1,2" when it changed inside the period: the last one
  // is the version in force at its end); a number is read too.
  const version = z.union([z.number().int(), z.string().regex(/^[0-9]{1,9}(,[0-9]{1,9}){0,8}$/)]);
  field('tariff', z.looseObject({ id: z.string(), version }), (v) => {
    const last = typeof v.version === 'number' ? v.version : Number(v.version.split(',').at(-1));
    terms.tariff = { id: v.id, version: last };
  });
  field(
    'repays',
    z.looseObject({
      k: z.string(),
      outputId: z.string().regex(/^0x[0-9a-fA-F]{68}$/),
      role: z.enum(['payee', 'operator', 'grid']),
    }),
    (v) => {
      terms.repays = { key: v.k, outputId: v.outputId.toLowerCase(), role: v.role };
    },
  );
  if (entry.channel !== undefined) terms.channel = entry.channel;
  return terms;
}
