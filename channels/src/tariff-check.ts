/**
 * verify-period --tariff: a payment priced under a tariff, recomputed from the period's verified channel
 * messages. The readings (time, mW) in the period and the reading before it the payment states, priced by
 * the tariff, give each payee's exact amount; the stated producer amount and shares must be
 * floor(exact + carry-in), with the carry-in the payment states.
 */

import { readFileSync } from 'node:fs';
import {
  checkStatedPricing,
  type PowerReading,
  type PricingCheck,
  parseTariffHistory,
  type TariffHistory,
} from '@tanglewatt/tariff';
import { InvalidArgumentError } from 'commander';
import type { PeriodVerdict } from './period.js';

/** A tariff file: one version, or the list of versions in force over time. */
export function tariffHistoryFromJson(text: string): TariffHistory {
  const raw = JSON.parse(text) as unknown;
  return parseTariffHistory(Array.isArray(raw) ? raw : [raw]);
}

const units = (text: unknown): bigint | undefined =>
  typeof text === 'string' && /^[0-9]{1,20}$/.test(text) ? BigInt(text) : undefined;

/** The tariff check of a payment whose channel messages verified (a PASS verdict). */
export function checkPaymentTariff(verdict: PeriodVerdict, history: TariffHistory): PricingCheck {
  const payment = verdict.payment as Record<string, unknown> | undefined;
  const messages = verdict.channel?.messages ?? [];
  if (!payment || !verdict.ok)
    return { ok: false, code: 'NOT_PRICED', detail: 'the payment’s readings did not verify' };
  const startMs = Date.parse(String(payment.periodStart));
  const endMs = Date.parse(String(payment.periodEnd));
  const gapMs = payment.gapMs;
  if (Number.isNaN(startMs) || Number.isNaN(endMs) || typeof gapMs !== 'number')
    return { ok: false, code: 'NOT_PRICED', detail: 'the payment states no period bounds or gapMs' };
  const readings: PowerReading[] = [];
  for (const m of messages)
    for (const s of m.samples) {
      const last = readings.at(-1);
      if (s.timestampMs < startMs || s.timestampMs >= endMs || (last && s.timestampMs <= last.tMs)) continue;
      readings.push({ tMs: s.timestampMs, powerMW: s.powerMW });
    }
  const shares = Array.isArray(payment.shares) ? (payment.shares as Record<string, unknown>[]) : [];
  const share = (role: string) => units(shares.find((s) => s.role === role)?.a);
  const producer = units(payment.a);
  if (producer === undefined)
    return { ok: false, code: 'AMOUNT_MISMATCH', detail: 'producer: the payment states no amount' };
  try {
    return check(history, payment, readings, gapMs, producer, share);
  } catch (error) {
    // Readings the tariff cannot price (no version in force then, say): the file is not the payment's.
    return { ok: false, code: 'TARIFF_MISMATCH', detail: (error as Error).message };
  }
}

function check(
  history: TariffHistory,
  payment: Record<string, unknown>,
  readings: PowerReading[],
  gapMs: number,
  producer: bigint,
  share: (role: string) => bigint | undefined,
): PricingCheck {
  const from = payment.pricedFrom as { t?: unknown; mW?: unknown } | undefined;
  return checkStatedPricing(
    history,
    {
      ...(from && typeof from.t === 'number' && typeof from.mW === 'number'
        ? { from: { tMs: from.t, powerMW: from.mW } }
        : {}),
      readings,
      gapMs,
    },
    {
      tariff: payment.tariff as StatedTariff,
      bands: payment.bands,
      carry: payment.carry,
      units: { producer, operator: share('operator') ?? 0n, grid: share('grid') ?? 0n },
    },
  );
}

type StatedTariff = { id?: unknown; version?: unknown } | undefined;

/** --tariff: a tariff file (one version or a list of versions), validated by the tariff package. */
export function parseTariffFile(file: string): TariffHistory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new InvalidArgumentError(`${file} cannot be read: give a tariff JSON file`);
  }
  try {
    return tariffHistoryFromJson(text);
  } catch (error) {
    throw new InvalidArgumentError(`${file}: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** The tariff check of each payment whose readings verified (none without --tariff). */
export function tariffChecks(verdicts: PeriodVerdict[], history: TariffHistory | undefined) {
  if (!history) return [];
  return verdicts
    .filter((v) => v.ok)
    .map((v) => ({ paymentKey: v.paymentKey, ...checkPaymentTariff(v, history) }));
}

/** One line per check: PASS, or FAIL <CODE> naming what is wrong. */
export const tariffLine = (check: ReturnType<typeof tariffChecks>[number]) =>
  check.ok ? `PASS: ${check.detail}` : `FAIL ${check.code}: ${check.detail}`;
