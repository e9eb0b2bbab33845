// Test fixtures (not exported from the package): named households with deterministic keys, and a book
// builder with generous defaults.
import { type Book, type BookOptions, rebuildBook } from './book.js';
import { MarketAuthor, type SignedMessage, secretKeyFromPhrase } from './messages.js';
import type { MatchingRule } from './trades.js';
import type { Window } from './units.js';

export const MARKET = 'test-market';
export const T0 = Date.UTC(2024, 0, 1, 8);
export const HOUR = 3_600_000;
/** 09:00–10:00 and 10:00–11:00 on the test day. */
export const W1: Window = { startMs: T0 + HOUR, endMs: T0 + 2 * HOUR };
export const W2: Window = { startMs: T0 + 2 * HOUR, endMs: T0 + 3 * HOUR };

export function author(name: string, market = MARKET): MarketAuthor {
  return new MarketAuthor(secretKeyFromPhrase(`test/${name}`), name, market);
}

/** Seconds after T0. */
export const at = (seconds: number) => T0 + seconds * 1000;

export function book(
  messages: readonly unknown[],
  rule: MatchingRule = 'cda',
  overrides: Partial<BookOptions> = {},
): Book {
  return rebuildBook(messages, {
    market: MARKET,
    rule,
    nowMs: T0 + 30 * 60_000,
    capacityWh: () => 1_000_000,
    ...overrides,
  });
}

/** Trades as `seller→buyer energyWh@price`, easy to compare by eye with a hand-worked book. */
export function fills(b: Book): string[] {
  return b.trades.map((t) => `${t.seller}→${t.buyer} ${t.energyWh}@${t.priceUnitsPerWh}`);
}

export function remaining(b: Book): Record<string, number> {
  return Object.fromEntries(b.orders.map((o) => [`${o.owner}:${o.side}`, o.remainingWh]));
}

export function reasons(b: Book): string[] {
  return b.rejections.map((r) => r.reason);
}

/** Fisher–Yates with a seeded PRNG, so a failing shuffle can be replayed. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export type { SignedMessage };
