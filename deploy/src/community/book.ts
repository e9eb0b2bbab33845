/**
 * The market as the community's households see it: post a signed message through a household's
 * wallet-service, wait for the milestones to confirm it and for every household's book to hold it.
 */
import type { Book, SignedMessage } from '@tanglewatt/market';
import { type CommunityHousehold, householdCall, sleep, until } from './households.js';

export type MarketBook = Book & { ledgerIndex: number };

export interface Posted {
  messageId: string;
  blockId: string;
  message: SignedMessage;
}

/** Posts a market message; returns once the clock has moved past its timestamp, so the next one sorts later. */
export async function post(
  h: CommunityHousehold,
  kind: 'sell' | 'buy' | 'ack',
  body: unknown,
): Promise<Posted> {
  const posted = await householdCall<Posted>(h, 'POST', `/market/${kind}`, body);
  while (Date.now() <= posted.message.timestampMs) await sleep(1);
  return posted;
}

/** What every household must agree on: the orders, trades, acks and rejections (not the read position). */
export function bookDigest(book: Book): string {
  return JSON.stringify({
    orders: book.orders,
    trades: book.trades,
    acks: book.acks,
    accepted: book.accepted,
    rejections: book.rejections.map((r) => [r.messageId, r.reason]),
  });
}

/** Whether a household's book has taken (accepted or rejected) every one of the messages. */
export function holdsAll(book: Book, messageIds: readonly string[]): boolean {
  const seen = new Set([...book.accepted, ...book.rejections.map((r) => r.messageId)]);
  return messageIds.every((id) => seen.has(id));
}

/**
 * Waits until the milestones have referenced every block and every household's book has read past them
 * and holds every message; returns the books, in household order.
 */
export async function booksWithAll(
  households: readonly CommunityHousehold[],
  posted: readonly Posted[],
  timeoutMs: number,
): Promise<MarketBook[]> {
  const target = Math.max(...(await Promise.all(posted.map((p) => referenced(households, p, timeoutMs)))));
  const ids = posted.map((p) => p.messageId);
  return Promise.all(
    households.map((h) =>
      until(`${h.name}'s book past milestone ${target}`, timeoutMs, async () => {
        const book = await householdCall<MarketBook>(h, 'GET', '/market');
        return book.ledgerIndex >= target && holdsAll(book, ids) ? book : undefined;
      }),
    ),
  );
}

/**
 * Waits for a milestone to confirm a market message; returns its index. Any household's view tells: they
 * all read the same milestones. Under a burst a block can be left behind; its wallet-service promotes it or
 * posts the same message again, so this waits for the message, not for its first block.
 */
export async function referenced(
  households: readonly CommunityHousehold[],
  posted: Posted,
  timeoutMs: number,
): Promise<number> {
  const observer = households[0]!.service.market!;
  return until(`message ${posted.messageId} confirmed`, timeoutMs, async () =>
    observer.confirmedAt(posted.message.signature),
  );
}

/** Blocks the wallet-services promoted or posted again because no milestone had picked them up. */
export interface Nudges {
  promoted: number;
  reposted: number;
}

export function nudgesOf(households: readonly CommunityHousehold[]): Nudges {
  const total: Nudges = { promoted: 0, reposted: 0 };
  for (const h of households) {
    total.promoted += h.service.market?.resends.promoted ?? 0;
    total.reposted += h.service.market?.resends.reposted ?? 0;
  }
  return total;
}

/** A one-hour delivery window starting at the next full minute after the trading. */
export function deliveryWindow(nowMs: number) {
  const startMs = Math.ceil(nowMs / 60_000) * 60_000 + 60_000;
  return { startMs, endMs: startMs + 3_600_000 };
}
