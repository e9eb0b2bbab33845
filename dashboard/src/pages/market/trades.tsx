import type { AckView, Trade, TradeSettlement } from '../../api/market';
import type { MeterTradeView } from '../../api/meter';
import { Amount } from '../../components/Amount';
import { DataTable } from '../../components/DataTable';
import { Empty } from '../../components/states';
import { formatPricePerWh, type TokenInfo } from '../../format/amount';
import { formatEnergyMWs } from '../../format/energy';
import { shortAddress, shortId } from '../../format/ids';
import { acksOf, formatWh, outcomeOf, partyOf, valueUnits } from './model';
import { latestFor, Owner, Placed, PostButton, type Posting, PostStatus, WindowSpan } from './parts';

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

/** Who acknowledged a trade; for the household's side, the button to acknowledge it and how that went. */
function Acknowledge({
  trade: t,
  acks,
  me,
  client,
  book,
  posts,
  onPosted,
}: { trade: Trade; acks: AckView[] } & Posting) {
  const party = partyOf(t, me);
  const post = latestFor(posts, t.id);
  const ackUnderWay = post !== undefined && outcomeOf(book, post.messageId).state !== 'rejected';
  const other = party === 'seller' ? t.buyer : t.seller;
  return (
    <>
      <AckState trade={t} acks={acks} />
      {client.canPost && party && !acksOf(t, acks)[party] && !ackUnderWay && (
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
    </>
  );
}

/** Every trade the book made, newest first; the household acknowledges the ones it is party to. */
export function TradesTable({
  trades,
  acks,
  deliveries,
  ...posting
}: {
  trades: Trade[];
  acks: AckView[];
  /** Trade id → delivery, from the meters this dashboard reads. */
  deliveries?: ReadonlyMap<string, MeterTradeView> | undefined;
} & Posting) {
  if (trades.length === 0)
    return <Empty>No trades yet: a trade happens when a buy meets a sell offer.</Empty>;
  const { me, token, book } = posting;
  return (
    <DataTable
      className="trades"
      scrollLabel="Trades, scrollable"
      caption="Trades, newest first"
      rows={[...trades].reverse()}
      rowKey={(t) => t.id}
      rowAttrs={(t) => ({
        'data-trade': t.id,
        'data-sell-order': t.sellOrderId,
        'data-buy-order': t.buyOrderId,
        className: partyOf(t, me) ? 'mine' : undefined,
      })}
      columns={[
        {
          header: 'Matched',
          attrs: (t) => ({ title: `trade ${t.id}` }),
          cell: (t) => (
            <>
              <Placed ms={t.matchedAtMs} />
              <span className="muted block">
                <code>{shortId(t.id)}</code>
              </span>
            </>
          ),
        },
        { header: 'Seller', cell: (t) => <Owner address={t.seller} me={me} /> },
        { header: 'Buyer', cell: (t) => <Owner address={t.buyer} me={me} /> },
        {
          header: 'Energy',
          attrs: { className: 'num', 'data-testid': 'trade-energy' },
          cell: (t) => formatWh(t.energyWh),
        },
        {
          header: 'Price',
          attrs: { 'data-testid': 'trade-price' },
          cell: (t) => formatPricePerWh(t.priceUnitsPerWh, token),
        },
        {
          header: 'Value',
          attrs: { className: 'num' },
          cell: (t) => <Amount units={valueUnits(t.energyWh, t.priceUnitsPerWh)?.toString()} token={token} />,
        },
        { header: 'Window', cell: (t) => <WindowSpan window={t.window} /> },
        {
          header: 'Delivery',
          cell: (t) => (
            <Delivery
              trade={t}
              view={deliveries?.get(t.id)}
              settlement={book?.settlements?.find((x) => x.tradeId === t.id)}
              token={token}
            />
          ),
        },
        { header: 'Acknowledged', cell: (t) => <Acknowledge trade={t} acks={acks} {...posting} /> },
      ]}
    />
  );
}
