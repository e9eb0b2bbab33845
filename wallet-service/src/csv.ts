import { type Payment, paymentsCsvQuery } from '@tanglewatt/contract';
import { stringify } from 'csv-stringify/sync';

/**
 * Payments as CSV for bookkeeping (RFC 4180: a header row, CRLF line ends, a field with a comma, a quote,
 * CR or LF in double quotes with its quotes doubled). Amounts are the exact base units as written in the
 * journal; times are ISO 8601 UTC. One row per output paid: a payment with tariff shares (operator, grid)
 * gives a row for its payee and one per share, with the same key and transaction, so summing `amount` by
 * `payee` or `role` gives what each was paid.
 */

export const PAYMENT_CSV_COLUMNS = [
  'key',
  'createdAt',
  'role',
  'payee',
  'amount',
  'state',
  'transactionId',
  'blockId',
  'outputId',
  'milestoneIndex',
  'includedAt',
] as const;

const BOUND_HINT = 'an ISO 8601 time such as 2026-01-31T00:00:00Z, or a date such as 2026-01-31';

/** The first problem of a query as one line naming the field, or the parsed bounds in ms. */
export function parsePaymentsCsvQuery(
  query: unknown,
): { ok: true; sinceMs?: number; untilMs?: number } | { ok: false; field: string; message: string } {
  const parsed = paymentsCsvQuery.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys')
      return {
        ok: false,
        field: issue.keys[0]!,
        message: `${issue.keys.join(', ')}: unknown query parameter(s); since and until are allowed`,
      };
    const field = String(issue.path[0] ?? 'query');
    const message = issue.code === 'custom' ? issue.message : BOUND_HINT;
    return { ok: false, field, message: `${field}: ${message}` };
  }
  return {
    ok: true,
    ...(parsed.data.since ? { sinceMs: Date.parse(parsed.data.since) } : {}),
    ...(parsed.data.until ? { untilMs: Date.parse(parsed.data.until) } : {}),
  };
}

/** Payments created at or after `sinceMs` and before `untilMs`, oldest first. */
export function paymentsInRange(payments: readonly Payment[], sinceMs?: number, untilMs?: number): Payment[] {
  return payments
    .filter((p) => {
      const t = Date.parse(p.createdAt);
      return (sinceMs === undefined || t >= sinceMs) && (untilMs === undefined || t < untilMs);
    })
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
}

/** The payment's own output (role `payee`), then each share's, each `[role, payee, amount, outputId]`. */
function outputsOf(p: Payment): string[][] {
  return [
    ['payee', p.to, p.amount, p.outputId ?? ''],
    ...(p.shares ?? []).map((s) => [s.role, s.to, s.amount, s.outputId ?? '']),
  ];
}

export function paymentsCsv(payments: readonly Payment[]): string {
  const rows = payments.flatMap((p) => {
    const included = p.state === 'included';
    return outputsOf(p).map(([role, payee, amount, outputId]) => [
      p.idempotencyKey,
      p.createdAt,
      role!,
      payee!,
      amount!,
      p.state,
      p.transactionId ?? '',
      p.blockId ?? '',
      outputId!,
      included && p.milestoneIndex !== undefined ? String(p.milestoneIndex) : '',
      included && p.milestoneTimestamp !== undefined
        ? new Date(p.milestoneTimestamp * 1000).toISOString()
        : '',
    ]);
  });
  return writeCsv([...PAYMENT_CSV_COLUMNS], rows);
}

/** RFC 4180 text: CRLF after every record, quotes where a field needs them (CR and LF included). */
export function writeCsv(header: string[], rows: string[][]): string {
  return stringify([header, ...rows], { record_delimiter: 'windows', quoted_match: /[\r\n]/ });
}
