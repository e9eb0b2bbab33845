import { type FormEvent, Fragment, useId, useState } from 'react';
import { ApiError } from '../../api/http';
import type {
  AckView,
  MarketBook,
  OrderView,
  Rejection,
  Side,
  Trade,
  TradeSettlement,
} from '../../api/market';
import { describeRejection } from '../../api/market';
import type { MeterTradeView } from '../../api/meter';
import type { WalletClient } from '../../api/wallet';
import { Amount } from '../../components/Amount';
import { ScrollRegion } from '../../components/ScrollRegion';
import { StateBadge } from '../../components/StateBadge';
import { Empty, Loading } from '../../components/states';
import { formatPricePerWh, type TokenInfo } from '../../format/amount';
import { formatEnergyMWs } from '../../format/energy';
import { shortAddress, shortId } from '../../format/ids';
import { formatDateTime, isoTime } from '../../format/time';
import {
  type AmendField,
  acksOf,
  checkAmend,
  formatWh,
  outcomeOf,
  type PostRecord,
  partyOf,
  priceLabel,
  valueUnits,
} from './model';
import { Owner, PostButton, PostStatus, postErrorText, WindowSpan } from './parts';

function Energy({ order }: { order: OrderView }) {
  return (
    <>
      {formatWh(order.remainingWh)} <span className="muted">/ {formatWh(order.energyWh)}</span>
      {order.filledWh > 0 && <span className="muted block">{formatWh(order.filledWh)} sold</span>}
      {order.side === 'sell' && order.minLotWh > 1 && (
        <span className="muted block">lots of at least {formatWh(order.minLotWh)}</span>
      )}
    </>
  );
}

function Placed({ ms }: { ms: number }) {
  return <time dateTime={isoTime(ms)}>{formatDateTime(ms)}</time>;
}

/** One side of the live book: who offers how much, at what price, for when. */
export function BookTable({
  side,
  orders,
  me,
  token,
}: {
  side: Side;
  orders: OrderView[];
  me: string | undefined;
  token: TokenInfo;
}) {
  const title = side === 'sell' ? 'Sell offers' : 'Buy orders';
  const open = orders.filter((o) => o.status === 'open').length;
  if (orders.length === 0)
    return (
      <Empty>
        {side === 'sell' ? 'Nobody offers energy right now.' : 'Nobody is asking for energy right now.'}
      </Empty>
    );
  return (
    <ScrollRegion label={`${title}, scrollable`}>
      <table className="book" data-side={side}>
        <caption className="visually-hidden">
          {title}, {side === 'sell' ? 'cheapest first' : 'highest price first'} ({open} open)
        </caption>
        <thead>
          <tr>
            <th scope="col">Owner</th>
            <th scope="col">Energy left / total</th>
            <th scope="col">{priceLabel(side)}</th>
            <th scope="col">Window</th>
            <th scope="col">Status</th>
            <th scope="col">Placed</th>
          </tr>
        </thead>
        <tbody>
          {orders.map((o) => (
            <tr
              key={o.id}
              data-order={o.id}
              data-status={o.status}
              className={o.owner === me ? 'mine' : undefined}
            >
              <th scope="row">
                <Owner address={o.owner} me={me} />
              </th>
              <td className="num">
                <Energy order={o} />
              </td>
              <td>{formatPricePerWh(o.priceUnitsPerWh, token)}</td>
              <td>
                <WindowSpan window={o.window} />
              </td>
              <td>
                <StateBadge state={o.status} />
              </td>
              <td>
                <Placed ms={o.placedAtMs} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

const latestFor = (posts: PostRecord[], target: string) => posts.find((p) => p.target === target);

/** The household's own orders, with Cancel and Amend while they are open. */
export function OwnOrdersTable({
  orders,
  me,
  token,
  client,
  book,
  posts,
  onPosted,
}: {
  orders: OrderView[];
  me: string | undefined;
  token: TokenInfo;
  client: WalletClient;
  book: MarketBook | undefined;
  posts: PostRecord[];
  onPosted: (post: PostRecord) => void;
}) {
  const [amending, setAmending] = useState<string | undefined>(undefined);
  const base = useId();
  if (!me) return <Loading what="this household’s address" />;
  if (orders.length === 0)
    return <Empty>This household has no offers or orders in the book{client.canPost ? ' yet' : ''}.</Empty>;
  const columns = client.canPost ? 7 : 6;
  return (
    <ScrollRegion label="Your offers and orders, scrollable">
      <table className="own-orders">
        <caption className="visually-hidden">Your offers and orders, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Side</th>
            <th scope="col">Energy left / total</th>
            <th scope="col">Price</th>
            <th scope="col">Window</th>
            <th scope="col">Status</th>
            <th scope="col">Placed</th>
            {client.canPost && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {orders.map((o) => {
            const post = latestFor(posts, o.id);
            const what = `${o.side === 'sell' ? 'sell offer' : 'buy order'} of ${formatWh(o.energyWh)} at ${o.priceUnitsPerWh} units/Wh`;
            const amendId = `${base}-amend-${o.id.slice(0, 12)}`;
            return (
              <Fragment key={o.id}>
                <tr data-order={o.id} data-status={o.status}>
                  <th scope="row">{o.side === 'sell' ? 'Sell' : 'Buy'}</th>
                  <td className="num">
                    <Energy order={o} />
                  </td>
                  <td>{formatPricePerWh(o.priceUnitsPerWh, token)}</td>
                  <td>
                    <WindowSpan window={o.window} />
                  </td>
                  <td>
                    <StateBadge state={o.status} />
                  </td>
                  <td>
                    <Placed ms={o.placedAtMs} />
                  </td>
                  {client.canPost && (
                    <td>
                      {o.status === 'open' && (
                        <div className="row-actions">
                          <PostButton
                            label={`Cancel ${what}`}
                            kind="cancel"
                            target={o.id}
                            run={() => client.cancel(o.id)}
                            onPosted={onPosted}
                          >
                            Cancel
                          </PostButton>
                          <button
                            type="button"
                            className="button-secondary"
                            aria-expanded={amending === o.id}
                            aria-controls={amendId}
                            aria-label={`Amend ${what}`}
                            onClick={() => setAmending((a) => (a === o.id ? undefined : o.id))}
                          >
                            Amend
                          </button>
                        </div>
                      )}
                      {post && <PostStatus post={post} book={book} />}
                    </td>
                  )}
                </tr>
                {client.canPost && amending === o.id && o.status === 'open' && (
                  <tr className="amend-row" id={amendId}>
                    <td colSpan={columns}>
                      <AmendForm
                        order={o}
                        client={client}
                        onPosted={(p) => {
                          setAmending(undefined);
                          onPosted(p);
                        }}
                        onClose={() => setAmending(undefined)}
                      />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

/** New total energy (the sold part included) and/or a new price for one open order. */
function AmendForm({
  order,
  client,
  onPosted,
  onClose,
}: {
  order: OrderView;
  client: WalletClient;
  onPosted: (post: PostRecord) => void;
  onClose: () => void;
}) {
  const [energy, setEnergy] = useState(String(order.energyWh));
  const [price, setPrice] = useState(order.priceUnitsPerWh);
  const [errors, setErrors] = useState<Partial<Record<AmendField | 'form', string>>>({});
  const [busy, setBusy] = useState(false);
  const base = useId();
  const ids = { energy: `${base}-energy`, price: `${base}-price` };

  const fail = (errs: Partial<Record<AmendField | 'form', string>>) => {
    setErrors(errs);
    const first = (['energy', 'price'] as const).find((f) => errs[f]);
    if (first) document.getElementById(ids[first])?.focus();
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    const checked = checkAmend(order, { energy, price });
    if (!checked.ok) return fail(checked.errors);
    setErrors({});
    setBusy(true);
    try {
      const posted = await client.amend(checked.request);
      onPosted({
        kind: 'amend',
        target: order.id,
        messageId: posted.messageId,
        blockId: posted.blockId,
        atMs: Date.now(),
      });
    } catch (error) {
      const f =
        error instanceof ApiError && error.status === 400 ? error.field?.replace(/^body\./, '') : undefined;
      const field: AmendField | undefined =
        f === 'energyWh' ? 'energy' : f === 'priceUnitsPerWh' ? 'price' : undefined;
      fail(
        field
          ? {
              [field]: `${field === 'energy' ? 'New total energy' : 'New price'}: the wallet-service refused it: ${(error as ApiError).message}`,
            }
          : { form: postErrorText(error) },
      );
    } finally {
      setBusy(false);
    }
  };
  const described = (f: AmendField) => (errors[f] ? `${ids[f]}-error` : undefined);

  return (
    <form className="amend-form" onSubmit={submit} noValidate aria-label={`Amend ${order.side} order`}>
      <div className="field">
        <label htmlFor={ids.energy}>New total energy (Wh)</label>
        <input
          id={ids.energy}
          inputMode="numeric"
          autoComplete="off"
          value={energy}
          onChange={(e) => setEnergy(e.target.value)}
          aria-invalid={errors.energy ? true : undefined}
          aria-describedby={described('energy')}
        />
        {errors.energy && (
          <p id={`${ids.energy}-error`} className="field-error">
            {errors.energy}
          </p>
        )}
      </div>
      <div className="field">
        <label htmlFor={ids.price}>
          New {order.side === 'sell' ? 'price' : 'highest price'} (units per Wh)
        </label>
        <input
          id={ids.price}
          inputMode="decimal"
          autoComplete="off"
          value={price}
          onChange={(e) => setPrice(e.target.value)}
          aria-invalid={errors.price ? true : undefined}
          aria-describedby={described('price')}
        />
        {errors.price && (
          <p id={`${ids.price}-error`} className="field-error">
            {errors.price}
          </p>
        )}
      </div>
      <p className="hint">
        The total includes what is already sold ({formatWh(order.filledWh)}). More energy or a new price moves
        the order behind others at its price.
      </p>
      {errors.form && (
        <p className="field-error" role="alert">
          {errors.form}
        </p>
      )}
      <div className="row-actions">
        <button type="submit" disabled={busy} aria-busy={busy || undefined}>
          {busy ? 'Posting…' : 'Post amendment'}
        </button>
        <button type="button" className="button-secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </form>
  );
}

function AckState({ trade, acks }: { trade: Trade; acks: AckView[] }) {
  const a = acksOf(trade, acks);
  return (
    <>
      {(['seller', 'buyer'] as const).map((party) => (
        <span key={party} className="block">
          <span aria-hidden="true">{a[party] ? '✓ ' : '○ '}</span>
          {party} {a[party] ? 'acknowledged' : 'not yet'}
        </span>
      ))}
    </>
  );
}

const deliveryWords: Record<MeterTradeView['state'], string> = {
  waiting: 'waiting for its window',
  delivering: 'delivering',
  delivered: 'delivered',
  shortfall: 'closed short',
};

/**
 * A trade's delivery, as the buyer's meter reports it, and its payments as the ledger shows them (so the
 * seller sees what it was paid without the buyer's meter).
 */
function Delivery({
  trade,
  view,
  settlement,
  token,
}: {
  trade: Trade;
  view: MeterTradeView | undefined;
  settlement: TradeSettlement | undefined;
  token: TokenInfo;
}) {
  const tradedMWs = BigInt(trade.energyWh) * 3_600_000n;
  return (
    <>
      {view ? (
        <span data-testid="trade-delivery" data-state={view.state}>
          <span className="block">{deliveryWords[view.state]}</span>
          <span className="block">
            {formatEnergyMWs(view.creditedMWs)} of {formatEnergyMWs(tradedMWs)}
          </span>
          {view.state === 'shortfall' && (
            <span className="block">short by {formatEnergyMWs(view.shortfallMWs)}</span>
          )}
          {view.unanswered > 0 && (
            <span className="block muted">{view.unanswered} payment(s) on the way</span>
          )}
        </span>
      ) : (
        <span className="block muted">no meter here runs it</span>
      )}
      <span className="block" data-testid="trade-settlement">
        {settlement ? (
          <>
            paid <Amount units={settlement.paidUnits} token={token} /> on the ledger ({settlement.payments}{' '}
            {settlement.payments === 1 ? 'payment' : 'payments'})
          </>
        ) : (
          <span className="muted">nothing paid on the ledger yet</span>
        )}
      </span>
    </>
  );
}

/** Every trade the book made, newest first; the household acknowledges the ones it is party to. */
export function TradesTable({
  trades,
  acks,
  deliveries,
  me,
  token,
  client,
  book,
  posts,
  onPosted,
}: {
  trades: Trade[];
  acks: AckView[];
  /** Trade id → delivery, from the meters this dashboard reads. */
  deliveries?: ReadonlyMap<string, MeterTradeView>;
  me: string | undefined;
  token: TokenInfo;
  client: WalletClient;
  book: MarketBook | undefined;
  posts: PostRecord[];
  onPosted: (post: PostRecord) => void;
}) {
  if (trades.length === 0)
    return <Empty>No trades yet: a trade happens when a buy meets a sell offer.</Empty>;
  const newest = [...trades].reverse();
  return (
    <ScrollRegion label="Trades, scrollable">
      <table className="trades">
        <caption className="visually-hidden">Trades, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Matched</th>
            <th scope="col">Seller</th>
            <th scope="col">Buyer</th>
            <th scope="col">Energy</th>
            <th scope="col">Price</th>
            <th scope="col">Value</th>
            <th scope="col">Window</th>
            <th scope="col">Delivery</th>
            <th scope="col">Acknowledged</th>
          </tr>
        </thead>
        <tbody>
          {newest.map((t) => {
            const party = partyOf(t, me);
            const acked = acksOf(t, acks);
            const post = latestFor(posts, t.id);
            const ackUnderWay = post !== undefined && outcomeOf(book, post.messageId).state !== 'rejected';
            const value = valueUnits(t.energyWh, t.priceUnitsPerWh);
            const other = party === 'seller' ? t.buyer : t.seller;
            return (
              <tr
                key={t.id}
                data-trade={t.id}
                data-sell-order={t.sellOrderId}
                data-buy-order={t.buyOrderId}
                className={party ? 'mine' : undefined}
              >
                <th scope="row" title={`trade ${t.id}`}>
                  <Placed ms={t.matchedAtMs} />
                  <span className="muted block">
                    <code>{shortId(t.id)}</code>
                  </span>
                </th>
                <td>
                  <Owner address={t.seller} me={me} />
                </td>
                <td>
                  <Owner address={t.buyer} me={me} />
                </td>
                <td className="num" data-testid="trade-energy">
                  {formatWh(t.energyWh)}
                </td>
                <td data-testid="trade-price">{formatPricePerWh(t.priceUnitsPerWh, token)}</td>
                <td className="num">
                  <Amount units={value?.toString()} token={token} />
                </td>
                <td>
                  <WindowSpan window={t.window} />
                </td>
                <td>
                  <Delivery
                    trade={t}
                    view={deliveries?.get(t.id)}
                    settlement={book?.settlements?.find((x) => x.tradeId === t.id)}
                    token={token}
                  />
                </td>
                <td>
                  <AckState trade={t} acks={acks} />
                  {client.canPost && party && !acked[party] && !ackUnderWay && (
                    <PostButton
                      label={`Acknowledge the trade of ${formatWh(t.energyWh)} with ${shortAddress(other)}`}
                      kind="ack"
                      target={t.id}
                      run={() => client.ack(t.id)}
                      onPosted={onPosted}
                    >
                      Acknowledge
                    </PostButton>
                  )}
                  {post && <PostStatus post={post} book={book} />}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

/** Messages the book left out and why: a doctored or expired offer shows here as such. */
export function RejectionsTable({ rejections, me }: { rejections: Rejection[]; me: string | undefined }) {
  if (rejections.length === 0) return <Empty>No message has been rejected.</Empty>;
  // Rejections carry no id of their own (a malformed message has no message id): key them by content.
  const seen = new Map<string, number>();
  const newest = [...rejections].reverse().map((r) => {
    const content = JSON.stringify(r);
    const n = seen.get(content) ?? 0;
    seen.set(content, n + 1);
    return { r, key: `${content}#${n}` };
  });
  return (
    <ScrollRegion label="Rejected messages, scrollable">
      <table className="rejections">
        <caption className="visually-hidden">Rejected messages, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Signed at</th>
            <th scope="col">Message</th>
            <th scope="col">From</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {newest.map(({ r, key }) => (
            <tr key={key} data-reason={r.reason} data-message={r.messageId}>
              <th scope="row">
                {r.timestampMs !== undefined ? (
                  <Placed ms={r.timestampMs} />
                ) : (
                  <span className="muted">—</span>
                )}
              </th>
              <td>
                {r.kind ?? <span className="muted">unknown kind</span>}
                {r.messageId && (
                  <span className="muted block" title={`message id ${r.messageId}`}>
                    <code>{shortId(r.messageId)}</code>
                  </span>
                )}
              </td>
              <td>
                {r.identity ? <Owner address={r.identity} me={me} /> : <span className="muted">—</span>}
              </td>
              <td>
                <StateBadge state="rejected" /> <code>{r.reason}</code>
                <span className="block">{describeRejection(r.reason)}</span>
                <span className="muted block">{r.detail}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
