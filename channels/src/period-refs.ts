/**
 * Verifying many periods at once, each named by its payment transaction or by its period id (found through
 * the indexer among `tanglewatt/pay/v1` payments): the verified energy and amounts summed, and one failure
 * per period that does not verify. A bill verifier sums a bill's periods with it. Browser-safe.
 */
import type { PaymentApi, PeriodVerdict } from './period.js';
import { indexedPayments, ledgerBlocks, type RecordIndexer } from './records-export.js';
import { type VerifyPaymentOptions, verifyPayment } from './verify-payment.js';

/** A period to verify: its payment transaction (and which payment in it), or its period id and payer. */
export type PeriodRef =
  | { transactionId: string; periodId?: string; paymentKey?: string }
  | { periodId: string; payer?: string; transactionId?: undefined };

/** What the indexer needs beyond records: the payer's outputs, to tell whose payment a period's is. */
export interface PaymentIndexer extends RecordIndexer {
  allAddressOutputs(
    bech32: string,
  ): Promise<{ metadata: { transactionId: string; transactionIdSpent?: string } }[]>;
  /** How far it has indexed (IndexerApi.health): a message it lacks may not be indexed yet. */
  health?(): Promise<{ indexedMilestone: number }>;
}

export interface VerifyPeriodsOptions
  extends Omit<VerifyPaymentOptions, 'api' | 'transactionId' | 'paymentKey' | 'periodId'> {
  /** The node (or anything that finds a transaction's block); may be absent when the indexer finds them. */
  api?: PaymentApi;
  /** Needed for refs by period id; it also serves payments the node has pruned. */
  indexer?: PaymentIndexer;
}

export interface PeriodsVerdict {
  ok: boolean;
  /** Sum over the periods that verified, as their payments state it (and the meter's summaries confirm). */
  energyMWs: bigint;
  /** Sum of the verified payments' amounts, base units. */
  amounts: bigint;
  periods: PeriodVerdict[];
  failures: PeriodVerdict[];
}

/** The included payments whose description `matches`, among the payer's transactions when a payer is named. */
export async function findPayments(
  indexer: PaymentIndexer,
  matches: (payment: unknown) => boolean,
  payer?: string,
): Promise<{ transactionId: string; blockId: string; milestoneIndex: number; payment: unknown }[]> {
  const all = (await indexedPayments(indexer)).filter((p) => matches(p.payment));
  if (!payer) return all;
  // A payer's transaction spends the payer's outputs.
  const spentBy = new Set(
    (await indexer.allAddressOutputs(payer)).flatMap((o) =>
      o.metadata.transactionIdSpent ? [o.metadata.transactionIdSpent] : [],
    ),
  );
  return all.filter((p) => spentBy.has(p.transactionId));
}

/** The included payments for `periodId`, by the payer's transactions when a payer is named. */
export function findPeriodPayments(indexer: PaymentIndexer, periodId: string, payer?: string) {
  return findPayments(
    indexer,
    (payment) => (payment as { periodId?: unknown } | null)?.periodId === periodId,
    payer,
  );
}

const notFound = () => Object.assign(new Error('not found'), { code: 'NOT_FOUND' });

type Known = Map<string, { blockId: string; milestoneIndex: number }>;

/** Transactions' blocks from the indexer when it found them, else from the node. */
export function ledgerPaymentApi(
  options: Pick<VerifyPeriodsOptions, 'api' | 'indexer'>,
  known: Known = new Map(),
): PaymentApi {
  const { api, indexer } = options;
  const blocks = ledgerBlocks({ ...(indexer ? { indexer } : {}), ...(api ? { node: api } : {}) });
  const health = indexer?.health?.bind(indexer);
  const lookUp = async (txId: string) => {
    if (indexer && !known.has(txId))
      for (const p of await indexedPayments(indexer)) known.set(p.transactionId, p);
    return known.get(txId);
  };
  return {
    block: (id) => blocks.block(id),
    blockMetadata: (id) => blocks.blockMetadata(id),
    // Only the indexer says how far it has come: the node holds what it holds.
    ...(health
      ? {
          includedMilestone: async (txId: string) => (await lookUp(txId))?.milestoneIndex,
          indexedMilestone: async () => (await health()).indexedMilestone,
        }
      : {}),
    includedBlock: async (txId) => {
      const fromIndexer = async () => {
        if (!indexer) return undefined;
        const blockId = (await lookUp(txId))?.blockId;
        return blockId
          ? ((await indexer.block(blockId)) as Awaited<ReturnType<PaymentApi['includedBlock']>>)
          : undefined;
      };
      if (known.has(txId) || !api) {
        const block = await fromIndexer();
        if (block) return block;
        throw notFound();
      }
      try {
        return await api.includedBlock(txId);
      } catch (error) {
        // The node may have pruned it: the indexer keeps payments.
        const e = error as { code?: unknown; status?: unknown };
        if (e?.code !== 'NOT_FOUND' && e?.status !== 404) throw error;
        const block = await fromIndexer();
        if (block) return block;
        throw error;
      }
    },
  };
}

/** Verifies each period; energy and amounts are summed over those that pass. */
export async function verifyPeriods(
  refs: PeriodRef[],
  options: VerifyPeriodsOptions,
): Promise<PeriodsVerdict> {
  const known: Known = new Map();
  const periods: PeriodVerdict[] = [];
  const { api: _api, indexer: _indexer, ...common } = options;
  const api = ledgerPaymentApi(options, known);
  for (const ref of refs) {
    if (ref.transactionId !== undefined) {
      periods.push(
        ...(await verifyPayment({
          ...common,
          api,
          transactionId: ref.transactionId,
          ...(ref.paymentKey !== undefined ? { paymentKey: ref.paymentKey } : {}),
          ...(ref.periodId !== undefined ? { periodId: ref.periodId } : {}),
        })),
      );
      continue;
    }
    const missing = (detail: string): PeriodVerdict => ({
      ok: false,
      code: 'PAYMENT_NOT_FOUND',
      detail,
      transactionId: '',
      paymentKey: ref.periodId,
    });
    if (!options.indexer) {
      periods.push(
        missing(`period ${ref.periodId}: finding a payment by period id needs the indexer (--indexer)`),
      );
      continue;
    }
    const found = await findPeriodPayments(options.indexer, ref.periodId, ref.payer);
    if (found.length === 0) {
      periods.push(
        missing(
          `no included ${'tanglewatt/pay/v1'} payment for period ${ref.periodId}${ref.payer ? ` by ${ref.payer}` : ''} in the indexer`,
        ),
      );
      continue;
    }
    for (const { transactionId, blockId, milestoneIndex } of found) {
      known.set(transactionId, { blockId, milestoneIndex });
      periods.push(...(await verifyPayment({ ...common, api, transactionId, periodId: ref.periodId })));
    }
  }
  const passed = periods.filter((v) => v.ok);
  return {
    ok: periods.length > 0 && passed.length === periods.length,
    energyMWs: passed.reduce((sum, v) => sum + BigInt(v.payment?.energyMWs ?? '0'), 0n),
    amounts: passed.reduce((sum, v) => sum + BigInt(v.payment?.a ?? '0'), 0n),
    periods,
    failures: periods.filter((v) => !v.ok),
  };
}
