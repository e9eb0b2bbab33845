import {
  type PaymentChannel,
  type PaymentIntent,
  type PaymentRequest,
  type PeriodTariff,
  paymentRequest,
} from '@tanglewatt/contract';
import type { AgentConfig } from './config.js';
import type { PeriodTotals } from './metering/meter.js';
import { periodId } from './metering/periods.js';
import { cycleMetadata, netNote } from './money/cycle.js';
import { HALF_NJ_PER_MWS, pricePeriod, priceUnitsPerWh, splitMWs } from './money/pricing.js';
import { formatRational, parseRational, type Rational, ZERO } from './money/rational.js';
import { type PeriodRecord, paymentReadingsHash } from './store/state.js';

export interface Carry {
  money: Rational;
  energyHalfNJ: bigint;
}

/** What the previous period carried over (nothing before the first). */
export function carryAfter(previous: PeriodRecord | undefined): Carry {
  if (!previous) return { money: ZERO, energyHalfNJ: 0n };
  return { money: parseRational(previous.carry.money), energyHalfNJ: BigInt(previous.carry.energyHalfNJ) };
}

/**
 * Market-traded energy in a closing period: what the trades credited since the last period's running
 * total, at most what the period delivered (the rest falls to the next period, so the totals agree).
 */
export function tradedShare(
  creditedTotalHalfNJ: bigint,
  previous: PeriodRecord | undefined,
  deliveredHalfNJ: bigint,
): { halfNJ: bigint; totalHalfNJ: bigint } {
  const before = BigInt(previous?.traded?.totalHalfNJ ?? '0');
  let share = creditedTotalHalfNJ - before;
  if (share < 0n) share = 0n;
  if (share > deliveredHalfNJ) share = deliveredHalfNJ;
  return { halfNJ: share, totalHalfNJ: before + share };
}

/**
 * Turns a closed period's totals into its record: energy, price, amount, carry and payment intent. Energy
 * delivered under market trades (`traded`) is paid per trade, so the period's amount leaves it out. Under a
 * tariff (`tariff`, priced by money/tariff-period.ts) the amount is the producer's units and the operator's
 * and grid's units go with the payment as shares.
 */
export function periodRecordFrom(
  totals: PeriodTotals,
  carryIn: Carry,
  config: AgentConfig,
  closedAtMs: number,
  channelId?: string,
  traded?: { halfNJ: bigint; totalHalfNJ: bigint },
  tariff?: PeriodTariff,
): PeriodRecord {
  const id = periodId(config.meterId, totals.startMs);
  const delivered = totals.energy.deliveredHalfNJ;
  const { energyMWs, remainderHalfNJ } = splitMWs(carryIn.energyHalfNJ + delivered);
  const tradedHalfNJ = traded?.halfNJ ?? 0n;
  const priced = tariff
    ? {
        exact: parseRational(tariff.exact.producer),
        amount: BigInt(tariff.units.producer),
        carryOut: parseRational(tariff.carryOut.producer),
      }
    : pricePeriod(delivered - tradedHalfNJ, config.price, config.pricing, carryIn.money);
  const payment: PaymentIntent =
    config.role === 'producer'
      ? { state: 'not-paying' }
      : priced.amount > 0n
        ? {
            state: 'due',
            key: id,
            to: config.parties.producer,
            amount: priced.amount.toString(),
            ...sharesOf(tariff, config),
          }
        : { state: 'nothing-due' };
  return {
    id,
    seq: totals.seq,
    meterId: config.meterId,
    role: config.role,
    consumer: config.parties.consumer,
    producer: config.parties.producer,
    startMs: totals.startMs,
    endMs: totals.endMs,
    closedAtMs,
    energyMWs: energyMWs.toString(),
    deliveredHalfNJ: delivered.toString(),
    returnedHalfNJ: totals.energy.returnedHalfNJ.toString(),
    price: config.price,
    pricing: config.pricing,
    amountExact: formatRational(priced.exact),
    amount: priced.amount.toString(),
    carry: { money: formatRational(priced.carryOut), energyHalfNJ: remainderHalfNJ.toString() },
    quality: totals.quality,
    readingsHash: totals.readingsHash,
    ...(channelId ? { channel: { channelId } } : {}),
    resume: totals.resume,
    payment,
    ...(traded && traded.totalHalfNJ > 0n
      ? { traded: { halfNJ: traded.halfNJ.toString(), totalHalfNJ: traded.totalHalfNJ.toString() } }
      : {}),
    ...(tariff ? { tariff } : {}),
  };
}

/** The operator's and grid's units of a tariff-priced period, to the addresses the config names. */
function sharesOf(
  tariff: PeriodTariff | undefined,
  config: AgentConfig,
): { shares?: { role: 'operator' | 'grid'; to: string; amount: string }[] } {
  if (!tariff || !config.tariff) return {};
  const shares = (['operator', 'grid'] as const).flatMap((role) => {
    const to = config.tariff?.[role];
    return to && tariff.units[role] !== '0' ? [{ role, to, amount: tariff.units[role] }] : [];
  });
  return shares.length ? { shares } : {};
}

/** What a tariff-priced payment states so that a verifier recomputes it from the channel's readings. */
function tariffMetadata(t: PeriodTariff | undefined) {
  if (!t) return {};
  return {
    tariff: { id: t.id, version: t.version },
    bands: t.bandsMWs,
    carry: t.carryIn,
    ...(t.from ? { pricedFrom: { t: t.from.tMs, mW: t.from.powerMW } } : {}),
    gapMs: t.gapMs,
  };
}

/** The payment's `channel` description: the period's messages, where they are, and who signed them. */
export function channelOfPayment(period: PeriodRecord): { channel?: PaymentChannel } {
  const ch = period.channel;
  if (!ch?.refs || ch.root === undefined || ch.fromSeq === undefined || ch.toSeq === undefined) return {};
  const { lastBlockId, publicKey, epochs, did, didOrigin } = ch.refs;
  return {
    channel: {
      id: ch.channelId,
      ...(publicKey ? { publicKey } : {}),
      fromSeq: ch.fromSeq,
      toSeq: ch.toSeq,
      lastBlockId,
      ...(epochs && Object.keys(epochs).length ? { epochs } : {}),
      ...(did ? { did } : {}),
      ...(didOrigin ? { didOrigin } : {}),
    },
  };
}

/** The wallet-service request for a period that owes something; validated against the shared contract. */
export function paymentRequestFor(period: PeriodRecord): PaymentRequest {
  if (period.payment.state !== 'due') throw new Error(`period ${period.id} owes nothing`);
  const perWh = period.tariff ? undefined : priceUnitsPerWh(period.price);
  return paymentRequest.parse({
    idempotencyKey: period.payment.key,
    to: period.payment.to,
    amount: period.payment.amount,
    ...(period.payment.shares?.length ? { shares: period.payment.shares } : {}),
    metadata: {
      periodId: period.id,
      meterId: period.meterId,
      energyMWs: period.energyMWs,
      ...(perWh ? { priceUnitsPerWh: perWh } : {}),
      ...(period.cycle?.mode === 'net' ? {} : tariffMetadata(period.tariff)),
      periodStart: new Date(period.startMs).toISOString(),
      periodEnd: new Date(period.endMs).toISOString(),
      readingsHash: paymentReadingsHash(period),
      ...channelOfPayment(period),
      ...(period.cycle?.settled?.net ? { note: netNote(period), ...cycleMetadata(period) } : {}),
      ...(period.traded && period.traded.halfNJ !== '0'
        ? {
            note: `${BigInt(period.traded.halfNJ) / HALF_NJ_PER_MWS} mW·s of it traded on the market, paid per trade`,
          }
        : {}),
    },
  });
}

/** Delivered energy in Wh, for people (not for money). */
export function energyWh(energyHalfNJ: bigint): number {
  return Number(energyHalfNJ / HALF_NJ_PER_MWS) / 3_600_000;
}
