/**
 * verify-period --cycle: a `net` billing cycle's settlement recomputed from the cycle's signed channel
 * messages. Under `net` a meter pays once per cycle, at its end (key `<meterId>/net/<cycleId>`); the payment
 * states the cycle, its import and export per band and the carry into it. The verifier finds that payment
 * through the indexer, walks the channel back from the block it names to the message before the cycle,
 * verifies every message under the channel's signer, checks that the cycle's period summaries leave no hole,
 * and recomputes import and export per band and each payee's units with the tariff (tariff's
 * energyOfReadings and settleNetTotals, the code the meter-agent settles with).
 */
import {
  type CycleEnergy,
  cycleBandsMWs,
  energyOfReadings,
  type PowerReading,
  rational,
  settleNetTotals,
  type TariffHistory,
} from '@tanglewatt/tariff';
import { z } from 'zod';
import { channelRefOf, describedPayment, type PaymentApi, type PaymentDescription } from './period.js';
import { findPayments, ledgerPaymentApi, type PaymentIndexer } from './period-refs.js';
import { type ReadResult, verifyEntries } from './reader.js';
import { locate, pendingIndex, signerOf, type VerifyPaymentOptions } from './verify-payment.js';

export type CycleVerdictCode =
  | 'PASS'
  | 'PAYMENT_NOT_FOUND'
  /** The payment states no cycle (paid by an older agent): nothing to recompute. */
  | 'NO_CYCLE'
  | 'NO_CHANNEL'
  | 'NO_SIGNER'
  | 'MESSAGE_NOT_FOUND'
  | 'PENDING_INDEX'
  | 'RANGE_MISMATCH'
  | 'WRONG_KEY'
  | 'BAD_SIGNATURE'
  | 'CHANNEL_INVALID'
  /** A hole between two of the cycle's period summaries: the periods in it are not on the channel. */
  | 'MISSING_PERIOD'
  /** Import or export of a band, recomputed from the readings, is not what the payment states. */
  | 'BANDS_MISMATCH'
  /** A payee's units, recomputed with the tariff and the stated carry, are not what the payment pays. */
  | 'AMOUNT_MISMATCH'
  /** The tariff cannot price the readings (no version in force then): not the cycle's tariff. */
  | 'TARIFF_MISMATCH';

export interface CycleVerdict {
  ok: boolean;
  code: CycleVerdictCode;
  detail: string;
  transactionId: string;
  paymentKey: string;
  cycleId: string;
}

export interface VerifyCycleOptions
  extends Omit<VerifyPaymentOptions, 'api' | 'transactionId' | 'paymentKey' | 'periodId'> {
  /** Finds the cycle payment (and serves blocks the node has pruned). */
  indexer: PaymentIndexer;
  /** The node, for blocks the indexer has not reached. */
  api?: PaymentApi;
  cycleId: string;
  /** Only the payments this payer's transactions made. */
  payer?: string;
  history: TariffHistory;
}

const whole = z.string().regex(/^[0-9]{1,20}$/);
const fraction = z.string().regex(/^[0-9]{1,60}\/[1-9][0-9]{0,59}$/);
/** The `cycle` a cycle payment states (contract's paymentMetadata.cycle, read leniently here). */
const cycleDescription = z.looseObject({
  id: z.string(),
  start: z.iso.datetime(),
  end: z.iso.datetime(),
  bands: z.record(z.string(), z.looseObject({ importMWs: whole, exportMWs: whole })),
  carry: z.looseObject({ producer: fraction, operator: fraction, grid: fraction }),
  gapMs: z.number().int().positive(),
});
type CycleDescription = z.infer<typeof cycleDescription>;

/** A bound on the walk: a 31-day cycle at one message every 10 s, with room to spare. */
const MAX_CYCLE_MESSAGES = 400_000;

const iso = (ms: number) => new Date(ms).toISOString();

function statesCycle(raw: unknown, cycleId: string): boolean {
  const p = raw as { k?: unknown; cycle?: { id?: unknown } } | null;
  return p?.cycle?.id === cycleId || (typeof p?.k === 'string' && p.k.endsWith(`/net/${cycleId}`));
}

/** Every settlement of the cycle the indexer holds (of the payer, when named), each verified. */
export async function verifyCycle(options: VerifyCycleOptions): Promise<CycleVerdict[]> {
  const { cycleId, payer } = options;
  const found = await findPayments(options.indexer, (p) => statesCycle(p, cycleId), payer);
  if (found.length === 0)
    return [
      {
        ok: false,
        code: 'PAYMENT_NOT_FOUND',
        detail: `no included tanglewatt/pay/v1 payment settles cycle ${cycleId}${payer ? ` by ${payer}` : ''} in the indexer`,
        transactionId: '',
        paymentKey: '',
        cycleId,
      },
    ];
  const api = ledgerPaymentApi({ indexer: options.indexer, ...(options.api ? { api: options.api } : {}) });
  const verdicts: CycleVerdict[] = [];
  for (const { transactionId, payment } of found)
    verdicts.push(await verifyCyclePayment(api, transactionId, payment, options));
  return verdicts;
}

/** One cycle payment against its cycle's messages and the tariff. */
export async function verifyCyclePayment(
  api: PaymentApi,
  transactionId: string,
  raw: unknown,
  options: Omit<VerifyCycleOptions, 'indexer' | 'api' | 'payer'>,
): Promise<CycleVerdict> {
  const key = String((raw as { k?: unknown } | null)?.k ?? '');
  const verdict = (code: CycleVerdictCode, detail: string): CycleVerdict => ({
    ok: code === 'PASS',
    code,
    detail,
    transactionId,
    paymentKey: key,
    cycleId: options.cycleId,
  });
  const described = describedPayment(raw, key);
  if ('error' in described) return verdict('PAYMENT_NOT_FOUND', described.error);
  const { payment } = described;
  const parsed = cycleDescription.safeParse((payment as { cycle?: unknown }).cycle);
  if (!parsed.success)
    return verdict('NO_CYCLE', `payment "${key}" states no cycle bands and carry (paid by an older agent?)`);
  const cycle = parsed.data;
  const refOf = channelRefOf(payment);
  if ('error' in refOf) return verdict('NO_CHANNEL', refOf.error);
  const signer = await signerOf(refOf.ref, options);
  if ('error' in signer) return verdict('NO_SIGNER', signer.error);
  const startMs = Date.parse(cycle.start);
  const endMs = Date.parse(cycle.end);
  let located = await locate(api, refOf.ref, options, { beforeMs: startMs, maxMessages: MAX_CYCLE_MESSAGES });
  if ('code' in located && located.code === 'MESSAGE_NOT_FOUND') {
    const pending = await pendingIndex(api, transactionId);
    if (pending) located = { code: 'PENDING_INDEX', detail: `${located.detail}; ${pending}` };
  }
  if ('code' in located) return verdict(located.code as CycleVerdictCode, located.detail);
  const channel = verifyEntries(located.entries, {
    channelId: refOf.ref.id,
    signers: signer.signers,
    startAnywhere: true,
    epochKeys: located.ring,
    ...(options.readerSecretKey ? { readerSecretKey: options.readerSecretKey } : {}),
  });
  const failure = channel.failures[0];
  if (failure)
    return verdict(
      failure.reason === 'BAD_SIGNATURE' ? 'BAD_SIGNATURE' : 'CHANNEL_INVALID',
      `${failure.reason} at seq ${failure.seq ?? '?'}: ${failure.detail} (signer: ${signer.source})`,
    );
  const hole = missingPeriod(channel, startMs, endMs);
  if (hole) return verdict('MISSING_PERIOD', hole);
  let energy: CycleEnergy[];
  try {
    energy = energyOfReadings(options.history, { ...readingsOf(channel, startMs, endMs, cycle.gapMs) });
  } catch (error) {
    return verdict('TARIFF_MISMATCH', (error as Error).message);
  }
  const bands = bandsMismatch(cycle, energy);
  if (bands) return verdict('BANDS_MISMATCH', bands);
  const amounts = amountMismatch(payment, cycle, energy, options.history, { startMs, endMs });
  if ('mismatch' in amounts) return verdict('AMOUNT_MISMATCH', amounts.mismatch);
  const seqs = `seq ${channel.messages[0]!.seq}..${channel.messages.at(-1)!.seq}`;
  const bandText = Object.entries(cycle.bands)
    .map(([digit, b]) => `${digit}: +${b.importMWs}/-${b.exportMWs}`)
    .join(', ');
  return verdict(
    'PASS',
    `cycle ${cycle.id} (${cycle.start} to ${cycle.end}): ${channel.messages.length} messages (${seqs}) verified, signer ${signer.source}; import/export mW·s by band as stated (${bandText}); ${amounts.text} as the tariff gives with the stated carry`,
  );
}

/** A hole between consecutive period summaries that start in the cycle, in words; undefined when none. */
function missingPeriod(channel: ReadResult, startMs: number, endMs: number): string | undefined {
  const summaries = channel.messages
    .flatMap((m) => m.summaries)
    .filter((s) => s.startMs >= startMs && s.startMs < endMs)
    .sort((a, b) => a.startMs - b.startMs);
  for (let i = 1; i < summaries.length; i++) {
    const [a, b] = [summaries[i - 1]!, summaries[i]!];
    if (a.endMs < b.startMs)
      return `period ${a.periodId} ends at ${iso(a.endMs)} and the next summary, ${b.periodId}, starts at ${iso(b.startMs)}: the periods between are not on the channel`;
  }
  return undefined;
}

/** The cycle's readings (rising time) and the one before it, within gapMs, as the meter priced them. */
function readingsOf(channel: ReadResult, startMs: number, endMs: number, gapMs: number) {
  let from: PowerReading | undefined;
  const readings: PowerReading[] = [];
  let lastMs = Number.NEGATIVE_INFINITY;
  for (const m of channel.messages)
    for (const s of m.samples) {
      if (s.timestampMs >= endMs || s.timestampMs <= lastMs) continue;
      lastMs = s.timestampMs;
      const reading = { tMs: s.timestampMs, powerMW: s.powerMW };
      if (s.timestampMs < startMs) from = reading;
      else readings.push(reading);
    }
  return { ...(from && startMs - from.tMs <= gapMs ? { from } : {}), readings, gapMs };
}

function bandsMismatch(cycle: CycleDescription, energy: CycleEnergy[]): string | undefined {
  const recomputed = cycleBandsMWs(energy);
  const digits = [...new Set([...Object.keys(cycle.bands), ...Object.keys(recomputed)])].sort();
  const zero = { importMWs: '0', exportMWs: '0' };
  for (const digit of digits) {
    const stated = cycle.bands[digit] ?? zero;
    const got = recomputed[digit] ?? zero;
    if (stated.importMWs !== got.importMWs || stated.exportMWs !== got.exportMWs)
      return `band ${digit}: the payment states import ${stated.importMWs} and export ${stated.exportMWs} mW·s, the cycle's readings give import ${got.importMWs} and export ${got.exportMWs}`;
  }
  return undefined;
}

function amountMismatch(
  payment: PaymentDescription,
  cycle: CycleDescription,
  energy: CycleEnergy[],
  history: TariffHistory,
  span: { startMs: number; endMs: number },
): { text: string } | { mismatch: string } {
  const carry = {
    producer: rational.parseRational(cycle.carry.producer),
    operator: rational.parseRational(cycle.carry.operator),
    grid: rational.parseRational(cycle.carry.grid),
  };
  const net = settleNetTotals(history, { id: cycle.id, ...span }, energy, carry);
  const listed = (payment as Record<string, unknown>).shares;
  const shares = Array.isArray(listed) ? (listed as { role?: unknown; a?: unknown }[]) : [];
  const paid = {
    producer: payment.a ?? '0',
    operator: String(shares.find((s) => s.role === 'operator')?.a ?? '0'),
    grid: String(shares.find((s) => s.role === 'grid')?.a ?? '0'),
  };
  for (const payee of ['producer', 'operator', 'grid'] as const)
    if (paid[payee] !== net.units[payee].toString())
      return {
        mismatch: `${payee}: the payment pays ${paid[payee]} units, the tariff gives ${net.units[payee]} (exact ${rational.formatRational(net.exact[payee])} plus carry ${cycle.carry[payee]})`,
      };
  return { text: `producer ${paid.producer}, operator ${paid.operator}, grid ${paid.grid} units` };
}
