import { z } from 'zod';

/**
 * A member's bill for one billing cycle as JSON (built by @tanglewatt/bills from the ledger and the meter
 * channels). Whole numbers (base units, mWs) are decimal strings; exact quantities that need not end in a
 * decimal (Wh, savings, shares) are "12.5" or the fraction "10/3".
 */
const integer = z.string().regex(/^-?[0-9]+$/, 'a whole number as a decimal string');
const exact = z.string().regex(/^-?[0-9]+(\.[0-9]+|\/[1-9][0-9]*)?$/, 'an exact number: "12.5" or "10/3"');

export const billBand = z.object({
  /** OBIS tariff digit (1.8.x / 2.8.x). */
  digit: z.number().int().min(1).max(9),
  boughtMWs: integer,
  boughtWh: exact,
  soldMWs: integer,
  soldWh: exact,
  /** The baseline prices this band was compared with, base units per Wh. */
  retailUnitsPerWh: exact,
  feedInUnitsPerWh: exact,
  /** boughtWh × retailUnitsPerWh: what the retail supplier would have charged. */
  retailBaselineUnits: exact,
  /** soldWh × feedInUnitsPerWh: what the grid would have paid. */
  feedInBaselineUnits: exact,
});

export const billLine = z.object({
  direction: z.enum(['bought', 'sold']),
  /** The payment's idempotency key in its transaction's description. */
  key: z.string(),
  periodId: z.string().optional(),
  meterId: z.string().optional(),
  periodStart: z.string().optional(),
  periodEnd: z.string().optional(),
  transactionId: z.string(),
  blockId: z.string(),
  milestoneIndex: z.number().int(),
  /** Unix seconds of the milestone that confirmed it. */
  milestoneTimestamp: z.number().int(),
  /** The payee of a purchase, the payer of a sale (bech32). */
  counterparty: z.string(),
  energyMWs: integer,
  /** Energy per band digit, mWs. */
  bands: z.record(z.string(), integer),
  /** To (or from) the counterparty, as the ledger's output holds it less any deposit owed back. */
  amountUnits: integer,
  operatorUnits: integer,
  gridUnits: integer,
  tariff: z.object({ id: z.string(), version: z.number().int() }).optional(),
  /**
   * A purchase's readings checked against its readingsHash (its channel messages found, opened, verified
   * and hashed): PASS, or the failure's code (NO_CHANNEL, WRONG_KEY, ROOT_MISMATCH, …), or PENDING_INDEX when
   * the indexer has not reached its messages yet (pending, not failed). Absent for sales.
   */
  readings: z.string().optional(),
});

export const billReading = z.object({
  channelId: z.string(),
  periodId: z.string(),
  startMs: z.number().int(),
  endMs: z.number().int(),
  /** Signed, as the meter's summary says: import positive, export negative. */
  energyMWs: integer,
});

export const bill = z.object({
  household: z.string(),
  cycle: z.object({ from: z.string(), to: z.string(), timeZone: z.string() }),
  bands: z.array(billBand),
  totals: z.object({
    boughtMWs: integer,
    boughtWh: exact,
    soldMWs: integer,
    soldWh: exact,
    /** Everything the household paid: producers, operator and grid. */
    paidUnits: integer,
    /** Of that, to producers for energy. */
    energyPaidUnits: integer,
    operatorFeeUnits: integer,
    gridFeeUnits: integer,
    earnedUnits: integer,
    /** earned − paid. */
    netUnits: integer,
    retailBaselineUnits: exact,
    feedInBaselineUnits: exact,
    /** (retail baseline − paid) + (earned − feed-in baseline). */
    savingsUnits: exact,
  }),
  readings: z.object({
    consumptionMWs: integer,
    consumptionWh: exact,
    productionMWs: integer,
    productionWh: exact,
    periods: z.array(billReading),
  }),
  /** bought ÷ consumption (0…1), or null without consumption readings. */
  selfSufficiency: exact.nullable(),
  /** sold ÷ production (0…1), or null without production readings. */
  selfConsumption: exact.nullable(),
  co2AvoidedGrams: exact,
  lines: z.array(billLine),
  warnings: z.array(z.string()),
});

export type BillJson = z.infer<typeof bill>;
export type BillLineJson = z.infer<typeof billLine>;
export type BillBandJson = z.infer<typeof billBand>;

export const billFormats = ['json', 'csv', 'pdf'] as const;
export type BillFormat = (typeof billFormats)[number];
