import type { Payment } from '../api/wallet';
import type { TokenInfo } from '../format/amount';
import { formatPricePerWh } from '../format/amount';
import { DataTable } from './DataTable';
import { AddressLink, IdLink, MilestoneLink } from './IdLink';
import { amountColumn, energyColumn, latestOf, PeriodTimes } from './payment-cells';
import { StateBadge } from './StateBadge';
import { Empty, type LoadState, NotLoaded, StaleError } from './states';

export interface PaymentsTableProps extends LoadState {
  payments: Payment[] | undefined;
  token?: TokenInfo;
  /** Shown in the caption, e.g. the wallet's name. */
  label: string;
  total?: number;
  /** What the empty state says. */
  empty?: string;
}

const unpostedText = (p: Payment) =>
  p.state === 'cancelled' ? 'cancelled before signing' : p.state === 'failed' ? 'never paid' : 'not posted';

function Settlement({ p }: { p: Payment }) {
  return (
    <>
      {p.blockId ? <IdLink id={p.blockId} label="block" /> : <span className="muted">{unpostedText(p)}</span>}
      {p.milestoneIndex !== undefined && (
        <span className="block">
          milestone <MilestoneLink index={p.milestoneIndex} />
        </span>
      )}
      {p.transactionId && <IdLink id={p.transactionId} label="tx" block />}
    </>
  );
}

/** Payments, newest first, with their settlement on the tangle. */
export function PaymentsTable({
  payments,
  token,
  label,
  total,
  empty = 'No payments yet.',
  ...state
}: PaymentsTableProps) {
  if (!payments) return <NotLoaded {...state} what="payments" />;
  return (
    <>
      <StaleError {...state} what="the latest payments" />
      {payments.length === 0 ? (
        <Empty>{empty}</Empty>
      ) : (
        <DataTable
          className="payments"
          scrollLabel={`Payments of ${label}, scrollable`}
          caption={`Payments of ${label}${latestOf(payments.length, total)}`}
          captionVisible
          rows={payments}
          rowKey={(p) => p.idempotencyKey}
          rowAttrs={(p) => ({ 'data-key': p.idempotencyKey, 'data-state': p.state })}
          columns={[
            {
              header: 'Period',
              cell: (p) => (
                <>
                  <span className="key" title={`idempotency key: ${p.idempotencyKey}`}>
                    {p.metadata?.periodId ?? p.idempotencyKey}
                  </span>
                  <PeriodTimes metadata={p.metadata} />
                </>
              ),
            },
            energyColumn(),
            { header: 'Price', cell: (p) => formatPricePerWh(p.metadata?.priceUnitsPerWh, token) },
            amountColumn<Payment>(
              token,
              (p) => p.amount,
              'Sent with a storage deposit the payee returns when claiming',
            ),
            { header: 'Payee', cell: (p) => <AddressLink address={p.to} /> },
            {
              header: 'State',
              cell: (p) => (
                <>
                  <StateBadge state={p.state} />
                  {p.attempts > 1 && <span className="muted block">{p.attempts} attempts</span>}
                  {p.error && (
                    <span className={`reason block reason-${p.state}`} title="why">
                      {p.error}
                    </span>
                  )}
                </>
              ),
            },
            { header: 'On the tangle', cell: (p) => <Settlement p={p} /> },
          ]}
        />
      )}
    </>
  );
}
