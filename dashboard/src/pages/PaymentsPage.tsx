import { useEffect, useRef, useState } from 'react';
import type { Endpoint } from '../api/config';
import type { Balance, Payment, PaymentState, WalletClient } from '../api/wallet';
import { paymentStates } from '../api/wallet';
import { Amount } from '../components/Amount';
import { LiveBadge } from '../components/LiveBadge';
import { PaymentsTable } from '../components/PaymentsTable';
import { SyncNotice } from '../components/SyncNotice';
import { Empty, ErrorMessage, Loading } from '../components/states';
import { useServices } from '../context';
import { shortAddress } from '../format/ids';
import { useProtocol } from '../hooks/useProtocol';
import { useResource } from '../hooks/useResource';
import { useLiveEvent, useLiveStatus, useResync } from '../live/hooks';
import { explorerHref } from '../router';
import { PageHeading } from './PageHeading';

const LIMIT = 50;

/** A live payment replaces its older self, or goes on top if new (when it matches the filter). */
export function upsertPayment(
  list: Payment[],
  p: Payment,
  filter: PaymentState | '',
  limit = LIMIT,
): Payment[] {
  const i = list.findIndex((x) => x.idempotencyKey === p.idempotencyKey);
  if (filter && p.state !== filter) return i < 0 ? list : list.filter((_, j) => j !== i);
  if (i >= 0) return list.map((x, j) => (j === i ? p : x));
  return [p, ...list].slice(0, limit);
}

export function PaymentsPage() {
  const { wallets } = useServices();
  return (
    <>
      <PageHeading title="Payments" />
      {wallets.length === 0 ? (
        <Empty>No wallet-service is configured: add one to config.json.</Empty>
      ) : (
        wallets.map((w) => <WalletPayments key={w.endpoint.url} endpoint={w.endpoint} client={w.client} />)
      )}
    </>
  );
}

function WalletPayments({ endpoint, client }: { endpoint: Endpoint; client: WalletClient }) {
  const protocol = useProtocol(client);
  const token = protocol?.token;
  const [filter, setFilter] = useState<PaymentState | ''>('');
  const balance = useResource((signal) => client.balance({ signal }), client.url);
  const payments = useResource(
    (signal) => client.payments({ ...(filter ? { state: filter } : {}), limit: LIMIT }, { signal }),
    `${client.url}|${filter}`,
  );
  const status = useLiveStatus(client.eventsUrl);
  const headingId = `wallet-${endpoint.name.replace(/\W+/g, '-')}`;

  // A payment's inclusion changes the balance; refetch it, at most twice a second.
  const balanceTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const refreshBalance = () => {
    if (balanceTimer.current) return;
    balanceTimer.current = setTimeout(() => {
      balanceTimer.current = undefined;
      balance.reload();
    }, 500);
  };
  useEffect(() => () => clearTimeout(balanceTimer.current), []);

  useLiveEvent<Payment>(client.eventsUrl, 'payment', (p) => {
    payments.setData((d) => {
      if (!d) return d;
      const known = d.items.some((x) => x.idempotencyKey === p.idempotencyKey);
      const items = upsertPayment(d.items, p, filter);
      return { total: d.total + (known || items === d.items ? 0 : 1), items };
    });
    if (p.state === 'included' || p.state === 'submitted') refreshBalance();
  });
  // The balance also moves with payments received, which the feed does not carry: each new milestone
  // is a chance. The node event comes once per confirmed milestone.
  useLiveEvent(client.eventsUrl, 'node', refreshBalance);
  useResync(client.eventsUrl, () => {
    balance.reload();
    payments.reload();
  });

  return (
    <section className="panel wallet" aria-labelledby={headingId}>
      <div className="section-heading">
        <h2 id={headingId}>{endpoint.name}</h2>
        <LiveBadge status={status} source={endpoint.name} />
      </div>
      <SyncNotice client={client} name={endpoint.name} />
      <BalanceView
        balance={balance.data}
        error={balance.error}
        loading={balance.loading}
        retry={balance.reload}
        token={token}
      />
      <div className="filters">
        <label>
          State{' '}
          <select value={filter} onChange={(e) => setFilter(e.target.value as PaymentState | '')}>
            <option value="">all</option>
            {paymentStates.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      <PaymentsTable
        payments={payments.data?.items}
        total={payments.data?.total}
        loading={payments.loading}
        error={payments.error}
        retry={payments.reload}
        label={endpoint.name}
        {...(token ? { token } : {})}
      />
    </section>
  );
}

function BalanceView({
  balance,
  error,
  loading,
  retry,
  token,
}: {
  balance: Balance | undefined;
  error: unknown;
  loading: boolean;
  retry: () => void;
  token: { decimals: number; ticker: string } | undefined;
}) {
  if (!balance) {
    if (loading) return <Loading what="balance" />;
    return <ErrorMessage error={error} what="the balance" retry={retry} />;
  }
  const t = token ? { token } : {};
  return (
    <>
      <dl className="balance">
        <div>
          <dt>Balance</dt>
          <dd className="big" aria-live="polite">
            <Amount units={balance.totalUnits} {...t} />
          </dd>
        </div>
        <div>
          <dt>Available</dt>
          <dd>
            <Amount units={balance.availableUnits} {...t} />
          </dd>
        </div>
        <div>
          <dt>To claim</dt>
          <dd>
            <Amount units={balance.claimableUnits} {...t} />
          </dd>
        </div>
        <div>
          <dt>Address</dt>
          <dd>
            <a href={explorerHref(balance.address)} title={balance.address}>
              <code>{shortAddress(balance.address)}</code>
            </a>
            <span className="muted block">
              {balance.outputs} outputs · ledger milestone {balance.ledgerIndex}
            </span>
          </dd>
        </div>
      </dl>
      {error !== undefined && (
        <p className="hint" role="status">
          Balance refresh failed; showing the last known value.
        </p>
      )}
    </>
  );
}
