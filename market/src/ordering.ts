/**
 * The book's total order over messages: (timestampMs, author key, seq, message id), each ascending; strings
 * compare by UTF-16 code units (all four are decimal numbers or lowercase hex, so this is byte order).
 * Every field is signed content, so every household sorts the same set the same way whatever the arrival
 * order. An order's time priority is the key of the message that placed it (or of the amend that repriced
 * or enlarged it).
 */
export interface OrderKey {
  timestampMs: number;
  author: string;
  seq: number;
  id: string;
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareKeys(a: OrderKey, b: OrderKey): number {
  return (
    a.timestampMs - b.timestampMs ||
    compareStrings(a.author, b.author) ||
    a.seq - b.seq ||
    compareStrings(a.id, b.id)
  );
}

export function compareBigints(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
