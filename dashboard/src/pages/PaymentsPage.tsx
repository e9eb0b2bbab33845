import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import type { Endpoint } from '../api/config';
import { ApiError } from '../api/http';
import type { Balance, Payment, PaymentState, ReceivedPayment, WalletClient } from '../api/wallet';
import { paymentStates } from '../api/wallet';
import { Amount } from '../components/Amount';
import { AddressLink } from '../components/IdLink';
import { LiveBadge } from '../components/LiveBadge';
import { PaymentsTable } from '../components/PaymentsTable';
import { ReceivedTable } from '../components/ReceivedTable';
import { SyncNotice } from '../components/SyncNotice';
import { Empty, ErrorMessage, Loading } from '../components/states';
import { Term } from '../components/Term';
import { useServices } from '../context';
import { useProtocol } from '../hooks/useProtocol';
import { useResource } from '../hooks/useResource';
import { useLiveEvent, useLiveStatus, useResync } from '../live/hooks';
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

/** A received payment replaces its older self (a claim), or goes on top if new. */
export function upsertReceived(
  list: ReceivedPayment[],
  p: ReceivedPayment,
  limit = LIMIT,
): ReceivedPayment[] {
  const i = list.findIndex((x) => x.outputId === p.outputId);
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

type Tab = 'sent' | 'received';

function WalletPayments({ endpoint, client }: { endpoint: Endpoint; client: WalletClient }) {
  const protocol = useProtocol(client);
  const token = protocol?.token;
  const [filter, setFilter] = useState<PaymentState | ''>('');
  const [tab, setTab] = useState<Tab>('sent');
  const balance = useResource((signal) => client.balance({ signal }), client.url);
  const payments = useResource(
    (signal) => client.payments({ ...(filter ? { state: filter } : {}), limit: LIMIT }, { signal }),
    `${client.url}|${filter}`,
  );
  const received = useResource((signal) => client.received({ limit: LIMIT }, { signal }), client.url);
  const status = useLiveStatus(client.eventsUrl);
  const slug = endpoint.name.replace(/\W+/g, '-');
  const headingId = `wallet-${slug}`;

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
  // A payment received, when the ledger shows it and again when a micro-payment is claimed.
  useLiveEvent<ReceivedPayment>(client.eventsUrl, 'received', (p) => {
    received.setData((d) => {
      if (!d) return d;
      const known = d.items.some((x) => x.outputId === p.outputId);
      return { ...d, total: d.total + (known ? 0 : 1), items: upsertReceived(d.items, p) };
    });
    refreshBalance();
  });
  // Claims and returns also move the balance: each confirmed milestone (one node event) is a chance.
  useLiveEvent(client.eventsUrl, 'node', refreshBalance);
  useResync(client.eventsUrl, () => {
    balance.reload();
    payments.reload();
    received.reload();
  });

  const tabId = (t: Tab) => `${slug}-tab-${t}`;
  const panelId = (t: Tab) => `${slug}-panel-${t}`;
  const tabs: { id: Tab; label: string; count: number | undefined }[] = [
    { id: 'sent', label: 'Sent', count: payments.data?.total },
    { id: 'received', label: 'Received', count: received.data?.total },
  ];
  // Arrow keys move between the tabs, as in every tab list.
  const onTabKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    const next: Tab = tab === 'sent' ? 'received' : 'sent';
    setTab(next);
    document.getElementById(tabId(next))?.focus();
  };

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
      <div className="tabs" role="tablist" aria-label={`Payments of ${endpoint.name}`}>
        {tabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={tabId(t.id)}
            aria-selected={tab === t.id}
            aria-controls={panelId(t.id)}
            tabIndex={tab === t.id ? 0 : -1}
            onClick={() => setTab(t.id)}
            onKeyDown={onTabKey}
          >
            {t.label}
            {t.count !== undefined ? ` (${t.count})` : ''}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={panelId('sent')} aria-labelledby={tabId('sent')} hidden={tab !== 'sent'}>
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
          <CsvDownload client={client} name={endpoint.name} />
        </div>
        <PaymentsTable
          payments={payments.data?.items}
          total={payments.data?.total}
          loading={payments.loading}
          error={payments.error}
          retry={payments.reload}
          label={endpoint.name}
          empty={filter ? `No payments sent in state ${filter}.` : 'No payments sent yet.'}
          {...(token ? { token } : {})}
        />
      </div>
      <div
        role="tabpanel"
        id={panelId('received')}
        aria-labelledby={tabId('received')}
        hidden={tab !== 'received'}
      >
        <ReceivedTable
          payments={received.data?.items}
          total={received.data?.total}
          since={received.data?.since ?? null}
          loading={received.loading}
          error={received.error}
          retry={received.reload}
          label={endpoint.name}
          {...(token ? { token } : {})}
        />
      </div>
    </section>
  );
}

/**
 * The sent payments as a CSV file. Fetched with the token in the header (the route takes no query token)
 * and handed to the browser as a Blob URL, so the token never appears in a URL or the download history.
 */
export function CsvDownload({ client, name }: { client: WalletClient; name: string }) {
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  const download = async () => {
    setState({ busy: true });
    try {
      const csv = await client.paymentsCsv();
      const href = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
      const a = document.createElement('a');
      a.href = href;
      a.download = `${name.replace(/\W+/g, '-').toLowerCase()}-payments.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      // The click has handed the file to the browser; the URL is not needed after this turn.
      setTimeout(() => URL.revokeObjectURL(href), 0);
      setState({ busy: false });
    } catch (error) {
      const message =
        error instanceof ApiError && error.notFound
          ? 'this wallet-service has no CSV export (GET /payments.csv)'
          : error instanceof Error
            ? error.message
            : String(error);
      setState({ busy: false, error: message });
    }
  };
  return (
    <span className="csv-download">
      <button type="button" onClick={() => void download()} disabled={state.busy}>
        {state.busy ? 'Preparing CSV…' : 'Download CSV'}
      </button>
      {state.error && (
        <span className="reason reason-failed" role="alert">
          {' '}
          CSV download failed: {state.error}
        </span>
      )}
    </span>
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
        <Term name="Balance" grouped className="big" aria-live="polite">
          <Amount units={balance.totalUnits} {...t} />
        </Term>
        <Term name="Available" grouped>
          <Amount units={balance.availableUnits} {...t} />
        </Term>
        <Term name="To claim" grouped>
          <Amount units={balance.claimableUnits} {...t} />
        </Term>
        <Term name="Address" grouped>
          <AddressLink address={balance.address} />
          <span className="muted block">
            {balance.outputs} outputs · ledger milestone {balance.ledgerIndex}
          </span>
        </Term>
      </dl>
      {error !== undefined && (
        <p className="hint" role="status">
          Balance refresh failed; showing the last known value.
        </p>
      )}
    </>
  );
}
