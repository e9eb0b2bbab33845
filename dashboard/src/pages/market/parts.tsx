import { useState } from 'react';
import { ApiError, describeError } from '../../api/http';
import type { MarketBook, MarketKind, MarketWindow, OrderView, Posted } from '../../api/market';
import { describeRejection } from '../../api/market';
import type { WalletClient } from '../../api/wallet';
import { AddressLink, IdLink } from '../../components/IdLink';
import type { TokenInfo } from '../../format/amount';
import { formatDateTime, formatTime, isoTime } from '../../format/time';
import { formatWh, outcomeOf, type PostRecord } from './model';

/** An identity (a wallet address), shortened and linked; "you" for the household's own. */
export function Owner({ address, me }: { address: string; me: string | undefined }) {
  const link = <AddressLink address={address} />;
  if (address !== me) return link;
  return (
    <>
      <strong className="you">you</strong> <span className="muted">({link})</span>
    </>
  );
}

/** A delivery window: start – end, the end's date only when it differs. */
export function WindowSpan({ window }: { window: MarketWindow }) {
  const sameDay = new Date(window.startMs).toDateString() === new Date(window.endMs).toDateString();
  return (
    <span className="window">
      <time dateTime={isoTime(window.startMs)}>{formatDateTime(window.startMs)}</time> –{' '}
      <time dateTime={isoTime(window.endMs)}>
        {sameDay ? formatTime(window.endMs) : formatDateTime(window.endMs)}
      </time>
    </span>
  );
}

/** An order's energy: what is left of the total, what is sold, and the smallest lot it sells. */
export function OrderEnergy({ order }: { order: OrderView }) {
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

/** When something was placed or matched, to the second. */
export function Placed({ ms }: { ms: number }) {
  return <time dateTime={isoTime(ms)}>{formatDateTime(ms)}</time>;
}

export const kindNames: Record<MarketKind, string> = {
  sell: 'Sell offer',
  buy: 'Buy order',
  cancel: 'Cancellation',
  amend: 'Amendment',
  ack: 'Acknowledgement',
};

/** What the tables that post market messages share: the household, its wallet, the book, the posts so far. */
export interface Posting {
  /** The household's address, once known. */
  me: string | undefined;
  token: TokenInfo;
  client: WalletClient;
  book: MarketBook | undefined;
  /** What this page posted, newest first. */
  posts: PostRecord[];
  onPosted: (post: PostRecord) => void;
}

/** The newest post this page made about an order or trade. */
export const latestFor = (posts: PostRecord[], target: string) => posts.find((p) => p.target === target);

/** What became of a message this page posted, from "posted, waiting for a milestone" to in the book. */
export function PostStatus({ post, book }: { post: PostRecord; book: MarketBook | undefined }) {
  const outcome = outcomeOf(book, post.messageId);
  const what = kindNames[post.kind];
  const block = <IdLink id={post.blockId} label="block" />;
  return (
    <p className={`post-status post-${outcome.state}`} role="status" data-message={post.messageId}>
      {outcome.state === 'waiting' && (
        <>
          {what} posted, waiting for a milestone · {block}
        </>
      )}
      {outcome.state === 'pending' && (
        <>
          {what} confirmed; the book takes it at the next milestone · {block}
        </>
      )}
      {outcome.state === 'accepted' && (
        <>
          <span aria-hidden="true">✓ </span>
          {what} is in the book · {block}
        </>
      )}
      {outcome.state === 'rejected' && (
        <>
          <span aria-hidden="true">✕ </span>
          {what} was rejected: {describeRejection(outcome.rejection.reason)}
          <span className="muted"> ({outcome.rejection.detail})</span> · {block}
        </>
      )}
    </p>
  );
}

/** Why a post failed, and what to do about it, in one sentence. */
export function postErrorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401)
      return 'The wallet-service refused this dashboard’s token (401): restart it with npm start so the page gets the current one.';
    if (error.kind === 'timeout')
      return 'The wallet-service did not answer in time. The message may still have been posted: check the book before posting again.';
    if (error.kind === 'network')
      return `Could not reach the wallet-service: ${error.message}. Is it running, and does it allow this page’s origin (CORS)?`;
    if (error.status === 429) return 'The wallet-service asks to slow down (429): try again in a moment.';
  }
  return `Could not post: ${describeError(error)}`;
}

/** A button that posts one market message (cancel, ack) and reports a failure beside itself. */
export function PostButton({
  children,
  label,
  run,
  onPosted,
  kind,
  target,
}: {
  children: string;
  /** The accessible name, saying what it acts on. */
  label: string;
  run: () => Promise<Posted>;
  onPosted: (post: PostRecord) => void;
  kind: MarketKind;
  target: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const click = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const posted = await run();
      onPosted({ kind, target, messageId: posted.messageId, blockId: posted.blockId, atMs: Date.now() });
    } catch (e) {
      setError(postErrorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="button-secondary" onClick={click} disabled={busy} aria-label={label}>
        {busy ? 'Posting…' : children}
      </button>
      {error && (
        <span className="field-error block" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
