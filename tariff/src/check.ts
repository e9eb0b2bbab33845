/**
 * The check a verifier runs on a priced payment: from the readings and the tariff, recompute each payee's
 * exact amount, and hold the stated amounts to amount = floor(exact + carryIn) (so the carry left,
 * exact + carryIn − amount, is in [0, 1)). Plain inputs only: the caller reads the ledger and the channel.
 */
import { PAYEES, type Payee, settleWithCarry } from './pricing.js';
import { compare, formatRational, parseRational, type Rational, ZERO } from './rational.js';
import { bandsMWs, priceReadings, type ReadingsInput } from './readings.js';
import type { TariffHistory } from './schedule.js';

export interface StatedPricing {
  tariff?: { id?: unknown; version?: unknown };
  bands?: unknown;
  /** Carry-in per payee, "num/den". */
  carry?: unknown;
  /** What the payment pays each payee (a payee left out is paid 0). */
  units: Partial<Record<Payee, bigint>>;
}

export type PricingCheckCode =
  | 'PASS'
  | 'NOT_PRICED'
  | 'TARIFF_MISMATCH'
  | 'BANDS_MISMATCH'
  | 'CARRY_INVALID'
  | 'AMOUNT_MISMATCH'
  | 'SHARE_MISMATCH';

export interface PricingCheck {
  ok: boolean;
  code: PricingCheckCode;
  detail: string;
  /** The recomputed exact amounts ("num/den") and whole units, per payee. */
  exact?: Record<Payee, string>;
  units?: Record<Payee, bigint>;
}

function carryIn(stated: unknown): Record<Payee, Rational> | string {
  if (stated === undefined) return { producer: ZERO, operator: ZERO, grid: ZERO };
  if (typeof stated !== 'object' || stated === null) return 'carry: must be { producer, operator, grid }';
  const out = {} as Record<Payee, Rational>;
  for (const payee of PAYEES) {
    const text = (stated as Record<string, unknown>)[payee] ?? '0/1';
    let value: Rational;
    try {
      value = parseRational(String(text));
    } catch {
      return `carry.${payee}: "${String(text)}" is not a fraction "n/d"`;
    }
    if (compare(value, ZERO) < 0) return `carry.${payee}: ${String(text)} is below 0`;
    out[payee] = value;
  }
  return out;
}

/** Recomputes a priced payment from its readings and the tariff; the first thing wrong, or PASS. */
export function checkStatedPricing(
  history: TariffHistory,
  readings: ReadingsInput,
  stated: StatedPricing,
): PricingCheck {
  const fail = (code: PricingCheckCode, detail: string): PricingCheck => ({ ok: false, code, detail });
  if (!stated.tariff) return fail('NOT_PRICED', 'the payment names no tariff (paid at a single price)');
  const id = history[0]!.id;
  if (stated.tariff.id !== id)
    return fail(
      'TARIFF_MISMATCH',
      `the payment names tariff "${String(stated.tariff.id)}", the file is "${id}"`,
    );
  const priced = priceReadings(history, readings);
  const version = priced.versions.join(',');
  if (priced.versions.length > 0 && String(stated.tariff.version) !== version)
    return fail(
      'TARIFF_MISMATCH',
      `the payment names version ${String(stated.tariff.version)}, the readings fall in version ${version}`,
    );
  const bands = bandsMWs(priced);
  const statedBands = JSON.stringify(stated.bands ?? {});
  if (statedBands !== JSON.stringify(bands))
    return fail(
      'BANDS_MISMATCH',
      `stated ${statedBands} mW·s per band, the readings give ${JSON.stringify(bands)}`,
    );
  const carry = carryIn(stated.carry);
  if (typeof carry === 'string') return fail('CARRY_INVALID', carry);
  const { units } = settleWithCarry(priced.exact, carry);
  const exact = {
    producer: formatRational(priced.exact.producer),
    operator: formatRational(priced.exact.operator),
    grid: formatRational(priced.exact.grid),
  };
  for (const payee of PAYEES) {
    const paid = stated.units[payee] ?? 0n;
    if (paid !== units[payee])
      return {
        ...fail(
          payee === 'producer' ? 'AMOUNT_MISMATCH' : 'SHARE_MISMATCH',
          `${payee}: stated ${paid}, tariff gives ${units[payee]} (exact ${exact[payee]} + carry ${formatRational(carry[payee])})`,
        ),
        exact,
        units,
      };
  }
  return {
    ok: true,
    code: 'PASS',
    detail: `tariff ${id} v${version || '-'}: producer ${units.producer}, operator ${units.operator}, grid ${units.grid} recomputed from the readings`,
    exact,
    units,
  };
}
