/**
 * The fleet simulator's audit: what each consumer meter owed (its closed periods) matched against the
 * payments the ledger holds (the descriptions of included transactions), and the quantiles the report
 * prints. Pure functions: the readers in ledger-read.ts feed them.
 */

/** A closed period that owes its producer: its idempotency key names the period (`<meterId>/<start>`). */
export interface DuePayment {
  key: string;
  amount: string;
}

/** One payment named in an included transaction's description. */
export interface LedgerPayment {
  key: string;
  amount: string;
  /** The block that carried it: two different blocks for one key is a double payment. */
  blockId: string;
}

export interface PaymentAudit {
  due: number;
  paidOnce: number;
  /** Keys of due periods no included transaction pays. */
  missing: string[];
  /** Keys paid by more than one included transaction, with how many. */
  paidTwice: { key: string; times: number }[];
  /** Keys paid once but with another amount than the period owed. */
  wrongAmount: { key: string; due: string; paid: string }[];
  /** Included payments of ours that no due period names (funding, claims, other runs). */
  unmatched: number;
}

/** Matches due periods to the ledger's payments by key: once, never, more than once, or a wrong amount. */
export function auditPayments(due: readonly DuePayment[], paid: readonly LedgerPayment[]): PaymentAudit {
  const blocksByKey = new Map<string, Map<string, string>>();
  for (const p of paid) {
    const blocks = blocksByKey.get(p.key) ?? new Map<string, string>();
    blocks.set(p.blockId, p.amount);
    blocksByKey.set(p.key, blocks);
  }
  const dueKeys = new Set<string>();
  const audit: PaymentAudit = {
    due: due.length,
    paidOnce: 0,
    missing: [],
    paidTwice: [],
    wrongAmount: [],
    unmatched: 0,
  };
  for (const d of due) {
    dueKeys.add(d.key);
    const blocks = blocksByKey.get(d.key);
    if (!blocks) audit.missing.push(d.key);
    else if (blocks.size > 1) audit.paidTwice.push({ key: d.key, times: blocks.size });
    else {
      const amount = [...blocks.values()][0]!;
      if (amount !== d.amount) audit.wrongAmount.push({ key: d.key, due: d.amount, paid: amount });
      else audit.paidOnce++;
    }
  }
  for (const key of blocksByKey.keys()) if (!dueKeys.has(key)) audit.unmatched++;
  return audit;
}

/** Every due period paid exactly once, with its amount, and nothing else wrong. */
export const allPaidOnce = (a: PaymentAudit) =>
  a.paidOnce === a.due && a.missing.length === 0 && a.paidTwice.length === 0 && a.wrongAmount.length === 0;

/** The payments a transaction's tagged data describes (`{"v":1,"payments":[{k,o,a,…}]}`), or none. */
export function paymentsOfDescription(dataHex: string, blockId: string): LedgerPayment[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(dataHex.replace(/^0x/, ''), 'hex').toString('utf8'));
  } catch {
    return [];
  }
  const payments = (parsed as { v?: unknown; payments?: unknown })?.payments;
  if ((parsed as { v?: unknown })?.v !== 1 || !Array.isArray(payments)) return [];
  return payments.flatMap((p: { k?: unknown; a?: unknown }) =>
    typeof p?.k === 'string' && typeof p.a === 'string' ? [{ key: p.k, amount: p.a, blockId }] : [],
  );
}

/** The q-quantile (0 < q ≤ 1) by nearest rank; undefined for no values. */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** CPU time between two readings of /proc/<pid>/stat, as % of one core. */
export function cpuPercent(ticks0: number, ticks1: number, elapsedS: number, ticksPerSecond = 100): number {
  return elapsedS > 0 ? ((ticks1 - ticks0) / ticksPerSecond / elapsedS) * 100 : 0;
}
