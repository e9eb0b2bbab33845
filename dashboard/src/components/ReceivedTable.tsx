import type { ClaimState, ReceivedPayment } from '../api/wallet';
import type { TokenInfo } from '../format/amount';
import { formatEnergyMWs } from '../format/energy';
import { shortAddress } from '../format/ids';
import { formatDateTime, formatTime, fromUnixSeconds, isoTime } from '../format/time';
import { explorerHref } from '../router';
import { Amount } from './Amount';
import { IdLink, MilestoneLink } from './IdLink';
import { ScrollRegion } from './ScrollRegion';
import { StateBadge } from './StateBadge';
import { Empty, ErrorMessage, Loading } from './states';

export interface ReceivedTableProps {
  payments: ReceivedPayment[] | undefined;
  loading: boolean;
  error: unknown;
  retry?: () => void;
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

function paymentCell(p: ReceivedPayment) {
  const start = p.metadata?.periodStart ? Date.parse(p.metadata.periodStart) : undefined;
  const end = p.metadata?.periodEnd ? Date.parse(p.metadata.periodEnd) : undefined;
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
      {start !== undefined && end !== undefined && (
        <span className="muted block" title={`${p.metadata?.periodStart} – ${p.metadata?.periodEnd}`}>
          {formatDateTime(start)} – {formatTime(end)}
        </span>
      )}
    </>
  );
}

/** Payments received, newest first, as the ledger shows them. */
export function ReceivedTable({
  payments,
  loading,
  error,
  retry,
  token,
  label,
  total,
  since,
}: ReceivedTableProps) {
  if (!payments) {
    if (loading) return <Loading what="received payments" />;
    return <ErrorMessage error={error} what="received payments" {...(retry ? { retry } : {})} />;
  }
  const t = token ? { token } : {};
  return (
    <>
      {error !== undefined && (
        <ErrorMessage error={error} what="the latest received payments" {...(retry ? { retry } : {})} />
      )}
      {payments.length === 0 ? (
        <Empty>
          No payments received yet
          {since ? ` (this wallet has followed the ledger since milestone ${since})` : ''}.
        </Empty>
      ) : (
        <ScrollRegion label={`Payments received by ${label}, scrollable`}>
          <table className="payments received">
            <caption>
              Payments received by {label}
              {total !== undefined && total > payments.length
                ? ` (latest ${payments.length} of ${total})`
                : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">Period</th>
                <th scope="col">Energy</th>
                <th scope="col">Amount</th>
                <th scope="col">From</th>
                <th scope="col">Claim</th>
                <th scope="col">On the tangle</th>
              </tr>
            </thead>
            <tbody>
              {payments.map((p) => {
                const at = fromUnixSeconds(p.milestoneTimestamp);
                return (
                  <tr key={p.outputId} data-output={p.outputId} data-claim={p.claim ?? 'none'}>
                    <th scope="row">{paymentCell(p)}</th>
                    <td className="num">{formatEnergyMWs(p.metadata?.energyMWs)}</td>
                    <td className="num">
                      <Amount units={p.amountUnits} {...t} />
                      {p.micro && (
                        <span
                          className="muted block"
                          title="Came with a storage deposit that goes back to the sender when claimed"
                        >
                          micro-payment
                        </span>
                      )}
                    </td>
                    <td>
                      {p.from ? (
                        <a href={explorerHref(p.from)} title={p.from}>
                          <code>{shortAddress(p.from)}</code>
                        </a>
                      ) : (
                        <span className="muted" title="The node no longer has the transaction (pruned)">
                          unknown
                        </span>
                      )}
                    </td>
                    <td>
                      {p.claim ? (
                        <span title={claimTitle[p.claim]}>
                          <StateBadge state={p.claim} />
                          {p.claim === 'unclaimed' && p.expiresAt !== undefined && (
                            <span className="muted block">
                              until {formatDateTime(fromUnixSeconds(p.expiresAt))}
                            </span>
                          )}
                        </span>
                      ) : (
                        <span className="muted">none needed</span>
                      )}
                    </td>
                    <td>
                      <span className="block">
                        milestone <MilestoneLink index={p.milestoneIndex} />{' '}
                        <time dateTime={isoTime(at)} className="muted">
                          {formatDateTime(at)}
                        </time>
                      </span>
                      <span className="block">
                        <IdLink id={p.transactionId} label="tx" />
                      </span>
                      {p.blockId && (
                        <span className="block">
                          <IdLink id={p.blockId} label="block" />
                        </span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </>
  );
}
