import type { Payment } from '../api/wallet';
import type { TokenInfo } from '../format/amount';
import { formatPricePerWh } from '../format/amount';
import { formatEnergyMWs } from '../format/energy';
import { shortAddress } from '../format/ids';
import { formatDateTime, formatTime } from '../format/time';
import { explorerHref } from '../router';
import { Amount } from './Amount';
import { IdLink, MilestoneLink } from './IdLink';
import { ScrollRegion } from './ScrollRegion';
import { StateBadge } from './StateBadge';
import { Empty, ErrorMessage, Loading } from './states';

export interface PaymentsTableProps {
  payments: Payment[] | undefined;
  loading: boolean;
  error: unknown;
  retry?: () => void;
  token?: TokenInfo;
  /** Shown in the caption, e.g. the wallet's name. */
  label: string;
  total?: number;
  /** What the empty state says. */
  empty?: string;
}

function periodCell(p: Payment) {
  const start = p.metadata?.periodStart ? Date.parse(p.metadata.periodStart) : undefined;
  const end = p.metadata?.periodEnd ? Date.parse(p.metadata.periodEnd) : undefined;
  return (
    <>
      <span className="key" title={`idempotency key: ${p.idempotencyKey}`}>
        {p.metadata?.periodId ?? p.idempotencyKey}
      </span>
      {start !== undefined && end !== undefined && (
        <span className="muted block" title={`${p.metadata?.periodStart} – ${p.metadata?.periodEnd}`}>
          {formatDateTime(start)} – {formatTime(end)}
        </span>
      )}
    </>
  );
}

/** Payments, newest first, with their settlement on the tangle. */
export function PaymentsTable({
  payments,
  loading,
  error,
  retry,
  token,
  label,
  total,
  empty = 'No payments yet.',
}: PaymentsTableProps) {
  if (!payments) {
    if (loading) return <Loading what="payments" />;
    return <ErrorMessage error={error} what="payments" {...(retry ? { retry } : {})} />;
  }
  return (
    <>
      {error !== undefined && (
        <ErrorMessage error={error} what="the latest payments" {...(retry ? { retry } : {})} />
      )}
      {payments.length === 0 ? (
        <Empty>{empty}</Empty>
      ) : (
        <ScrollRegion label={`Payments of ${label}, scrollable`}>
          <table className="payments">
            <caption>
              Payments of {label}
              {total !== undefined && total > payments.length
                ? ` (latest ${payments.length} of ${total})`
                : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">Period</th>
                <th scope="col">Energy</th>
                <th scope="col">Price</th>
                <th scope="col">Amount</th>
                <th scope="col">Payee</th>
                <th scope="col">State</th>
                <th scope="col">On the tangle</th>
              </tr>
            </thead>
            <tbody>
              {payments.map((p) => (
                <tr key={p.idempotencyKey} data-key={p.idempotencyKey} data-state={p.state}>
                  <th scope="row">{periodCell(p)}</th>
                  <td className="num">{formatEnergyMWs(p.metadata?.energyMWs)}</td>
                  <td>{formatPricePerWh(p.metadata?.priceUnitsPerWh, token)}</td>
                  <td className="num">
                    <Amount units={p.amount} {...(token ? { token } : {})} />
                    {p.micro && (
                      <span
                        className="muted block"
                        title="Sent with a storage deposit the payee returns when claiming"
                      >
                        micro-payment
                      </span>
                    )}
                  </td>
                  <td>
                    <a href={explorerHref(p.to)} title={p.to}>
                      <code>{shortAddress(p.to)}</code>
                    </a>
                  </td>
                  <td>
                    <StateBadge state={p.state} />
                    {p.attempts > 1 && <span className="muted block">{p.attempts} attempts</span>}
                    {p.error && (
                      <span className={`reason block reason-${p.state}`} title="why">
                        {p.error}
                      </span>
                    )}
                  </td>
                  <td>
                    {p.blockId ? (
                      <IdLink id={p.blockId} label="block" />
                    ) : (
                      <span className="muted">
                        {p.state === 'cancelled'
                          ? 'cancelled before signing'
                          : p.state === 'failed'
                            ? 'never paid'
                            : 'not posted'}
                      </span>
                    )}
                    {p.milestoneIndex !== undefined && (
                      <span className="block">
                        milestone <MilestoneLink index={p.milestoneIndex} />
                      </span>
                    )}
                    {p.transactionId && (
                      <span className="block">
                        <IdLink id={p.transactionId} label="tx" />
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </>
  );
}
