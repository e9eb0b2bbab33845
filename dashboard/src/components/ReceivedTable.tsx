import type { ClaimState, ReceivedPayment } from '../api/wallet';
import type { TokenInfo } from '../format/amount';
import { formatDateTime, fromUnixSeconds, isoTime } from '../format/time';
import { DataTable } from './DataTable';
import { AddressLink, IdLink, MilestoneLink } from './IdLink';
import { amountColumn, energyColumn, latestOf, PeriodTimes } from './payment-cells';
import { StateBadge } from './StateBadge';
import { Empty, type LoadState, NotLoaded, StaleError } from './states';

export interface ReceivedTableProps extends LoadState {
  payments: ReceivedPayment[] | undefined;
  token?: TokenInfo;
  label: string;
  total?: number;
  /** The milestone the wallet's history of received payments began at. */
  since?: number | null;
}

const claimTitle: Record<ClaimState, string> = {
  unclaimed: 'Came with a storage deposit: the wallet claims it on its schedule, before it expires',
  claimed: 'Claimed: the amount is this wallet’s, the deposit went back to the sender',
  expired: 'Not claimed in time: the sender may take it back',
  returned: 'Not claimed in time: the sender took it back',
};

function PaymentName({ p }: { p: ReceivedPayment }) {
  const name = p.metadata?.periodId ?? p.key;
  return (
    <>
      {name ? (
        <span className="key" title={p.key ? `the payer's key: ${p.key}` : undefined}>
          {name}
        </span>
      ) : (
        <span className="muted" title="The transaction does not describe this output">
          undescribed
        </span>
      )}
      <PeriodTimes metadata={p.metadata} />
    </>
  );
}

function Claim({ p }: { p: ReceivedPayment }) {
  if (!p.claim) return <span className="muted">none needed</span>;
  return (
    <span title={claimTitle[p.claim]}>
      <StateBadge state={p.claim} />
      {p.claim === 'unclaimed' && p.expiresAt !== undefined && (
        <span className="muted block">until {formatDateTime(fromUnixSeconds(p.expiresAt))}</span>
      )}
    </span>
  );
}

function Settlement({ p }: { p: ReceivedPayment }) {
  const at = fromUnixSeconds(p.milestoneTimestamp);
  return (
    <>
      <span className="block">
        milestone <MilestoneLink index={p.milestoneIndex} />{' '}
        <time dateTime={isoTime(at)} className="muted">
          {formatDateTime(at)}
        </time>
      </span>
      <IdLink id={p.transactionId} label="tx" block />
      {p.blockId && <IdLink id={p.blockId} label="block" block />}
    </>
  );
}

/** Payments received, newest first, as the ledger shows them. */
export function ReceivedTable({ payments, token, label, total, since, ...state }: ReceivedTableProps) {
  if (!payments) return <NotLoaded {...state} what="received payments" />;
  return (
    <>
      <StaleError {...state} what="the latest received payments" />
      {payments.length === 0 ? (
        <Empty>
          No payments received yet
          {since ? ` (this wallet has followed the ledger since milestone ${since})` : ''}.
        </Empty>
      ) : (
        <DataTable
          className="payments received"
          scrollLabel={`Payments received by ${label}, scrollable`}
          caption={`Payments received by ${label}${latestOf(payments.length, total)}`}
          captionVisible
          rows={payments}
          rowKey={(p) => p.outputId}
          rowAttrs={(p) => ({ 'data-output': p.outputId, 'data-claim': p.claim ?? 'none' })}
          columns={[
            { header: 'Period', cell: (p) => <PaymentName p={p} /> },
            energyColumn(),
            amountColumn<ReceivedPayment>(
              token,
              (p) => p.amountUnits,
              'Came with a storage deposit that goes back to the sender when claimed',
            ),
            {
              header: 'From',
              cell: (p) =>
                p.from ? (
                  <AddressLink address={p.from} />
                ) : (
                  <span className="muted" title="The node no longer has the transaction (pruned)">
                    unknown
                  </span>
                ),
            },
            { header: 'Claim', cell: (p) => <Claim p={p} /> },
            { header: 'On the tangle', cell: (p) => <Settlement p={p} /> },
          ]}
        />
      )}
    </>
  );
}
