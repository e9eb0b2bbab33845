/**
 * Settlement's pure rules: how payments are grouped into a transaction (description size, inputs), how long
 * a payment lingers for others to join it, how a refused batch is halved, what a refusal means, and the
 * public description each payment gets in its transaction's tagged data.
 */
import type { Payment } from '@tanglewatt/contract';
import { isError } from '@tanglewatt/errors';

/** Tag of the tagged-data payload that describes what a transaction pays for. */
export const PAYMENT_TAG = 'tanglewatt/pay/v1';
/** A first guess of room for the payment description; the signed block's measured size decides. */
export const MAX_DESCRIPTION_BYTES = 24_000;
/** Most inputs a Stardust transaction may have. */
export const MAX_INPUTS = 128;

/** Node trouble (retry later) as opposed to something wrong with what we asked to sign. */
export function isTransient(error: unknown): boolean {
  return isError(error, [
    'NODE_UNREACHABLE',
    'NODE_NOT_SYNCED',
    'NODE_REQUEST_FAILED',
    'TIMEOUT',
    'NOT_FOUND',
    'INPUT_UNAVAILABLE',
  ]);
}

/**
 * The oldest waiting payments that free outputs can fund together, within the per-transaction limits;
 * a payment that cannot be funded even alone is left out (and reported) rather than holding up the rest.
 */
export function planBatch(
  waiting: Payment[],
  options: {
    maxOutputs: number;
    maxDescriptionBytes: number;
    outputAmount: (p: Payment) => bigint;
    /** Outputs a payment takes (its own and one per share); 1 when not given. */
    outputCount?: (p: Payment) => number;
    canFund: (need: bigint) => boolean;
  },
): { batch: Payment[]; unfundable: Payment[] } {
  const batch: Payment[] = [];
  const unfundable: Payment[] = [];
  let need = 0n;
  let descriptionBytes = 0;
  let outputs = 0;
  for (const p of waiting) {
    const count = options.outputCount?.(p) ?? 1;
    if (outputs + count > options.maxOutputs) break;
    const size = Buffer.byteLength(JSON.stringify(describe(p, outputs)));
    if (descriptionBytes + size > options.maxDescriptionBytes) break;
    const amount = options.outputAmount(p);
    if (options.canFund(need + amount)) {
      batch.push(p);
      need += amount;
      descriptionBytes += size;
      outputs += count;
    } else if (!options.canFund(amount)) unfundable.push(p);
  }
  return { batch, unfundable };
}

/**
 * How much longer waiting payments should wait for company before they go into a transaction (0 or less:
 * now). A full batch goes at once; otherwise they wait only while more keep arriving (each within `quietMs`
 * of the one before), and never longer than `lingerMs` after the oldest: a lone payment waits `quietMs`,
 * a burst is batched. With `closeAtMs` (the next milestone's cutoff, when it can be predicted) they wait
 * until then: a transaction posted before it is included by that milestone all the same.
 */
export function lingerLeftMs(
  arrivedAtMs: number[],
  nowMs: number,
  options: { maxOutputs: number; lingerMs: number; quietMs: number; closeAtMs?: number | undefined },
): number {
  if (arrivedAtMs.length === 0 || arrivedAtMs.length >= options.maxOutputs) return 0;
  // Before the next milestone's cutoff waiting costs no latency (see milestone-clock.ts): wait for it.
  if (options.closeAtMs !== undefined && nowMs < options.closeAtMs) return options.closeAtMs - nowMs;
  const oldest = Math.min(...arrivedAtMs);
  const newest = Math.max(...arrivedAtMs);
  const quiet = Math.min(options.quietMs, options.lingerMs);
  return Math.min(oldest + options.lingerMs, newest + quiet) - nowMs;
}

/** Batch sizes to try when a batch cannot be signed or does not fit a block: n, n/2, …, 1. */
export function halvings(n: number): number[] {
  const sizes: number[] = [];
  for (let size = n; size >= 1; size = size > 1 ? Math.ceil(size / 2) : 0) {
    sizes.push(size);
    if (size === 1) break;
  }
  return sizes;
}

/**
 * What a refused signing says about the payments: `final` when no transaction could ever carry them as
 * they are (an address or amount the protocol does not allow), else worth another try later.
 */
export function refusal(error: unknown): { reason: string; final: boolean; unfundable: boolean } {
  const message = (error as Error).message;
  return {
    reason: `could not build the transaction: ${message}`,
    final:
      isError(error, 'INVALID_ADDRESS') ||
      /storage deposit|invalid (output )?amount|output amount/i.test(message),
    unfundable: isError(error, 'INSUFFICIENT_FUNDS'),
  };
}

/**
 * The public description of one payment inside its transaction's tagged data: its key, output and amount,
 * its metadata, and each share as { role, o, a, to } (a share's output follows the payment's own). A
 * repayment also names what it pays again, `repays: { k, outputId, role }`, so a bill read from the ledger
 * counts it under the original payment's period rather than as a payment of its own.
 */
export function describe(p: Payment, outputIndex: number): Record<string, unknown> {
  const shares = p.shares?.map((s, i) => ({ role: s.role, o: outputIndex + 1 + i, a: s.amount, to: s.to }));
  return {
    k: p.idempotencyKey,
    o: outputIndex,
    a: p.amount,
    ...(p.metadata ?? {}),
    ...(shares?.length ? { shares } : {}),
    ...(p.repays ? { repays: { k: p.repays.key, outputId: p.repays.outputId, role: p.repays.role } } : {}),
  };
}
