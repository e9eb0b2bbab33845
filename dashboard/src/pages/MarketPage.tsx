import { useCallback, useEffect, useId, useRef, useState } from 'react';
import type { Endpoint } from '../api/config';
import type { MatchingRule } from '../api/market';
import type { MeterTradeView } from '../api/meter';
import type { MilestoneEvent, WalletClient } from '../api/wallet';
import { MilestoneLink } from '../components/IdLink';
import { LiveBadge } from '../components/LiveBadge';
import { SyncNotice } from '../components/SyncNotice';
import { Empty, ErrorMessage, Loading } from '../components/states';
import { type AppServices, useServices } from '../context';
import { DEFAULT_TOKEN } from '../format/amount';
import { formatTime, isoTime } from '../format/time';
import { useProtocol } from '../hooks/useProtocol';
import { useResource } from '../hooks/useResource';
import { useLiveEvent, useLiveStatus, useResync } from '../live/hooks';
import { marketHref } from '../router';
import { bookSide, ownOrders, type PostRecord } from './market/model';
import { OrderForm } from './market/OrderForm';
import { BookTable, OwnOrdersTable } from './market/orders';
import type { Posting } from './market/parts';
import { RejectionsTable } from './market/rejections';
import { TradesTable } from './market/trades';
import { PageHeading } from './PageHeading';
import './market/market.css';

type Wallet = AppServices['wallets'][number];

const ruleNames: Record<MatchingRule, string> = {
  cda: 'continuous double auction',
  pool: 'pool, largest first',
};

/** The household named in the route, else the first whose wallet this page may post for, else the first. */
export function pickHousehold(wallets: Wallet[], name: string): Wallet | undefined {
  return wallets.find((w) => w.endpoint.name === name) ?? wallets.find((w) => w.client.canPost) ?? wallets[0];
}

export function MarketPage({ household = '' }: { household?: string }) {
  const { wallets } = useServices();
  const selected = pickHousehold(wallets, household);
  const pickerId = useId();
  return (
    <>
      <PageHeading title="Market" />
      {!selected ? (
        <Empty>No wallet-service is configured: add one to config.json.</Empty>
      ) : (
        <>
          {wallets.length > 1 && (
            <div className="filters">
              <label htmlFor={pickerId}>Household </label>
              <select
                id={pickerId}
                value={selected.endpoint.name}
                onChange={(e) => {
                  window.location.hash = marketHref(e.target.value);
                }}
              >
                {wallets.map((w) => (
                  <option key={w.endpoint.url} value={w.endpoint.name}>
                    {w.endpoint.name}
                    {w.client.canPost ? '' : ' (read-only)'}
                  </option>
                ))}
              </select>
            </div>
          )}
          <HouseholdMarket
            key={selected.endpoint.url}
            endpoint={selected.endpoint}
            client={selected.client}
          />
        </>
      )}
    </>
  );
}

const DELIVERIES_EVERY_MS = 5_000;

/** Trade id → delivery, from every meter's GET /trades (meters that run no trades answer 404: skipped). */
function useDeliveries(): ReadonlyMap<string, MeterTradeView> {
  const { meters } = useServices();
  const [deliveries, setDeliveries] = useState<ReadonlyMap<string, MeterTradeView>>(new Map());
  useEffect(() => {
    if (meters.length === 0) return;
    const controller = new AbortController();
    const load = async () => {
      const answers = await Promise.all(
        meters.map((m) => m.client.trades({ signal: controller.signal }).catch(() => undefined)),
      );
      if (controller.signal.aborted) return;
      const next = new Map<string, MeterTradeView>();
      for (const answer of answers) for (const view of answer?.items ?? []) next.set(view.id, view);
      setDeliveries(next);
    };
    void load();
    const timer = setInterval(() => void load(), DELIVERIES_EVERY_MS);
    return () => {
      clearInterval(timer);
      controller.abort();
    };
  }, [meters]);
  return deliveries;
}

/** A section below the order book while the book is not there: loading, or failed (said once, above). */
function BookMissing({ loading, what }: { loading: boolean; what: string }) {
  return loading ? <Loading what={what} /> : <Empty>The order book could not be loaded (see above).</Empty>;
}

/** The market as one household's wallet-service rebuilt it, and that household's offers and trades. */
function HouseholdMarket({ endpoint, client }: { endpoint: Endpoint; client: WalletClient }) {
  const protocol = useProtocol(client);
  const token = protocol?.token ?? DEFAULT_TOKEN;
  const book = useResource((signal) => client.market({ signal }), client.url);
  const address = useResource((signal) => client.addresses({ signal }), client.url);
  const me = address.data?.addresses[0];
  const live = useLiveStatus(client.eventsUrl);
  const [posts, setPosts] = useState<PostRecord[]>([]);
  const [withClosed, setWithClosed] = useState(false);
  const ids = { forms: useId(), book: useId(), mine: useId(), rejected: useId() };
  const deliveries = useDeliveries();

  // Each confirmed milestone may carry market messages: refetch the book, at most every quarter second.
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef(0);
  const catchUps = useRef(0);
  const { reload } = book;
  const refresh = useCallback(
    (delayMs = 250) => {
      if (timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = undefined;
        reload();
      }, delayMs);
    },
    [reload],
  );
  useEffect(() => () => clearTimeout(timer.current), []);
  useLiveEvent<MilestoneEvent>(client.eventsUrl, 'milestone', (m) => {
    if (!m.confirmed) return;
    latest.current = Math.max(latest.current, m.index);
    catchUps.current = 0;
    refresh();
  });
  // The wallet-service reads a milestone's market messages a moment after it announces the milestone:
  // a book still behind the announced milestone is asked again, a few times.
  useEffect(() => {
    const d = book.data;
    if (!d || book.reloading || d.ledgerIndex >= latest.current || catchUps.current >= 5) return;
    catchUps.current += 1;
    refresh(1000);
  }, [book.data, book.reloading, refresh]);
  useResync(client.eventsUrl, () => {
    book.reload();
    if (!address.data) address.reload();
  });

  const onPosted = useCallback(
    (post: PostRecord) => {
      setPosts((list) => [post, ...list].slice(0, 50));
      refresh(1000);
    },
    [refresh],
  );

  const data = book.data;
  const mine = data ? ownOrders(data.orders, me) : [];
  const posting: Posting = { me, token, client, book: data, posts, onPosted };

  return (
    <>
      <SyncNotice client={client} name={endpoint.name} />
      {client.canPost ? (
        <section className="panel" aria-labelledby={ids.forms}>
          <h2 id={ids.forms}>Trade as {endpoint.name}</h2>
          <p className="hint">
            Offers and orders are signed with {endpoint.name}’s wallet key and posted on the tangle; they
            enter every household’s book once a milestone confirms them.
          </p>
          <div className="order-forms">
            <OrderForm side="sell" client={client} token={token} book={data} onPosted={onPosted} />
            <OrderForm side="buy" client={client} token={token} book={data} onPosted={onPosted} />
          </div>
        </section>
      ) : (
        <p className="banner banner-info" role="note">
          <strong>Read-only.</strong> This dashboard holds no API token for {endpoint.name}’s wallet-service,
          so it shows the market but cannot post offers. The household’s own dashboard (npm start on its
          machine) can.
        </p>
      )}

      <section className="panel" aria-labelledby={ids.book}>
        <div className="section-heading">
          <h2 id={ids.book}>Order book</h2>
          <LiveBadge status={live} source={endpoint.name} />
        </div>
        {!data ? (
          book.loading ? (
            <Loading what="the order book" />
          ) : (
            <ErrorMessage
              error={book.error}
              what={`the order book from ${endpoint.name}`}
              retry={book.reload}
            />
          )
        ) : (
          <>
            {book.error !== undefined && (
              <ErrorMessage error={book.error} what="the latest book" retry={book.reload} />
            )}
            <p className="muted book-summary" data-testid="book-summary">
              Market <strong>{data.market}</strong> ({ruleNames[data.rule] ?? data.rule}) as {endpoint.name}{' '}
              rebuilt it from the tangle, up to milestone <MilestoneLink index={data.ledgerIndex} />
              {data.nowMs > 0 && (
                <>
                  {' '}
                  (<time dateTime={isoTime(data.nowMs)}>{formatTime(data.nowMs)}</time>)
                </>
              )}
              .
              {data.pending.length > 0 &&
                ` ${data.pending.length} confirmed message${data.pending.length === 1 ? '' : 's'} wait${data.pending.length === 1 ? 's' : ''} for the next milestone.`}
            </p>
            <div className="filters">
              <label className="checkbox">
                <input
                  type="checkbox"
                  checked={withClosed}
                  onChange={(e) => setWithClosed(e.target.checked)}
                />{' '}
                Show filled, cancelled and expired orders
              </label>
            </div>
            <h3>
              Sell offers <span className="muted">· cheapest first</span>
            </h3>
            <BookTable side="sell" orders={bookSide(data.orders, 'sell', withClosed)} me={me} token={token} />
            <h3>
              Buy orders <span className="muted">· highest price first</span>
            </h3>
            <BookTable side="buy" orders={bookSide(data.orders, 'buy', withClosed)} me={me} token={token} />
          </>
        )}
      </section>

      <section className="panel" aria-labelledby={ids.mine}>
        <h2 id={ids.mine}>
          {client.canPost ? 'Your offers and trades' : `${endpoint.name}’s offers and trades`}
        </h2>
        {!data ? (
          <BookMissing loading={book.loading} what="offers and trades" />
        ) : (
          <>
            <h3>
              Offers and orders <span className="muted">· newest first</span>
            </h3>
            {!me && address.error !== undefined ? (
              <ErrorMessage
                error={address.error}
                what={`${endpoint.name}’s address`}
                retry={address.reload}
              />
            ) : (
              <OwnOrdersTable orders={mine} {...posting} />
            )}
            <h3>
              Trades <span className="muted">· newest first</span>
            </h3>
            <TradesTable trades={data.trades} acks={data.acks} deliveries={deliveries} {...posting} />
          </>
        )}
      </section>

      <section className="panel" aria-labelledby={ids.rejected}>
        <h2 id={ids.rejected}>Rejected messages</h2>
        {!data ? (
          <BookMissing loading={book.loading} what="rejected messages" />
        ) : (
          <RejectionsTable rejections={data.rejections} me={me} />
        )}
      </section>
    </>
  );
}
