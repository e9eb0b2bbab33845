import { useId, useState } from 'react';
import type { OrderView, Side } from '../../api/market';
import { type Column, DataTable } from '../../components/DataTable';
import { StateBadge } from '../../components/StateBadge';
import { Empty, Loading } from '../../components/states';
import { formatPricePerWh, type TokenInfo } from '../../format/amount';
import { AmendForm } from './AmendForm';
import { formatWh, priceLabel } from './model';
import {
  latestFor,
  OrderEnergy,
  Owner,
  Placed,
  PostButton,
  type Posting,
  PostStatus,
  WindowSpan,
} from './parts';

/** What the book and the household's own list show of every order, after the first column. */
function orderColumns(token: TokenInfo, priceHeader: string): Column<OrderView>[] {
  return [
    { header: 'Energy left / total', attrs: { className: 'num' }, cell: (o) => <OrderEnergy order={o} /> },
    { header: priceHeader, cell: (o) => formatPricePerWh(o.priceUnitsPerWh, token) },
    { header: 'Window', cell: (o) => <WindowSpan window={o.window} /> },
    { header: 'Status', cell: (o) => <StateBadge state={o.status} /> },
    { header: 'Placed', cell: (o) => <Placed ms={o.placedAtMs} /> },
  ];
}

const orderAttrs = (o: OrderView) => ({ 'data-order': o.id, 'data-status': o.status });

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
    <DataTable
      className="book"
      data-side={side}
      scrollLabel={`${title}, scrollable`}
      caption={`${title}, ${side === 'sell' ? 'cheapest first' : 'highest price first'} (${open} open)`}
      rows={orders}
      rowKey={(o) => o.id}
      rowAttrs={(o) => ({ ...orderAttrs(o), className: o.owner === me ? 'mine' : undefined })}
      columns={[
        { header: 'Owner', cell: (o) => <Owner address={o.owner} me={me} /> },
        ...orderColumns(token, priceLabel(side)),
      ]}
    />
  );
}

const describeOrder = (o: OrderView) =>
  `${o.side === 'sell' ? 'sell offer' : 'buy order'} of ${formatWh(o.energyWh)} at ${o.priceUnitsPerWh} units/Wh`;

/** The household's own orders, with Cancel and Amend while they are open. */
export function OwnOrdersTable({
  orders,
  me,
  token,
  client,
  book,
  posts,
  onPosted,
}: Posting & { orders: OrderView[] }) {
  const [amending, setAmending] = useState<string | undefined>(undefined);
  const base = useId();
  if (!me) return <Loading what="this household’s address" />;
  if (orders.length === 0)
    return <Empty>This household has no offers or orders in the book{client.canPost ? ' yet' : ''}.</Empty>;
  const columns = client.canPost ? 7 : 6;
  const amendId = (o: OrderView) => `${base}-amend-${o.id.slice(0, 12)}`;
  const actions = (o: OrderView) => {
    const post = latestFor(posts, o.id);
    return (
      <>
        {o.status === 'open' && (
          <div className="row-actions">
            <PostButton
              label={`Cancel ${describeOrder(o)}`}
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
              aria-controls={amendId(o)}
              aria-label={`Amend ${describeOrder(o)}`}
              onClick={() => setAmending((a) => (a === o.id ? undefined : o.id))}
            >
              Amend
            </button>
          </div>
        )}
        {post && <PostStatus post={post} book={book} />}
      </>
    );
  };
  return (
    <DataTable
      className="own-orders"
      scrollLabel="Your offers and orders, scrollable"
      caption="Your offers and orders, newest first"
      rows={orders}
      rowKey={(o) => o.id}
      rowAttrs={orderAttrs}
      columns={[
        { header: 'Side', cell: (o) => (o.side === 'sell' ? 'Sell' : 'Buy') },
        ...orderColumns(token, 'Price'),
        client.canPost && { header: 'Actions', cell: actions },
      ]}
      after={(o) =>
        client.canPost &&
        amending === o.id &&
        o.status === 'open' && (
          <tr className="amend-row" id={amendId(o)}>
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
        )
      }
    />
  );
}
