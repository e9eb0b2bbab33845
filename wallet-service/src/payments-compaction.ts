/**
 * Compaction of the payments journal: a shorter event list that replays to the same store. It only
 * drops or shortens what replay overwrites anyway, and keeps events in their order:
 * - a transaction made final (a later `included` or `conflicting`) loses its signed `payloadJson`
 *   (replay clears it there), so a final transaction costs a few hundred bytes instead of kilobytes;
 * - of a final transaction's `posted` events, the first (the block its payments name) and the last
 *   POSTED_KEPT - 1 stay: a transaction posted more often shows only those blocks afterwards;
 * - a `note` is dropped when a later `note` for the same payment replaces it.
 * Events of a type this module does not know are kept as they are, and a transaction such an event
 * names is left whole, so events added later survive compaction unchanged.
 */

/** Blocks kept per final transaction: the first and the last POSTED_KEPT - 1. */
export const POSTED_KEPT = 10;

type Known =
  | { t: 'requested' }
  | { t: 'signed'; txId: string; payloadJson: string }
  | { t: 'posted'; txId: string }
  | { t: 'included'; txId: string }
  | { t: 'conflicting'; txId: string }
  | { t: 'note'; key: string };

const KNOWN = new Set(['requested', 'signed', 'posted', 'included', 'conflicting', 'note']);

export function compactPaymentEvents<E extends { t: string }>(
  events: readonly E[],
): { events: E[]; changed: number } {
  const known = events as readonly unknown[] as readonly Known[];
  const lastSigned = new Map<string, number>();
  const lastNote = new Map<string, number>();
  const untouchable = new Set<string>();
  known.forEach((e, i) => {
    if (e.t === 'signed') lastSigned.set(e.txId, i);
    else if (e.t === 'note') lastNote.set(e.key, i);
    else if (!KNOWN.has(e.t)) {
      const txId = (e as { txId?: unknown }).txId;
      if (typeof txId === 'string') untouchable.add(txId);
    }
  });
  // Final: included or conflicting after the transaction's last signing.
  const final = new Set<string>();
  known.forEach((e, i) => {
    if ((e.t === 'included' || e.t === 'conflicting') && i > (lastSigned.get(e.txId) ?? i))
      if (!untouchable.has(e.txId)) final.add(e.txId);
  });
  // Positions of each final transaction's posted events after its last signing.
  const posts = new Map<string, number[]>();
  known.forEach((e, i) => {
    if (e.t === 'posted' && final.has(e.txId) && i > lastSigned.get(e.txId)!)
      posts.set(e.txId, [...(posts.get(e.txId) ?? []), i]);
  });
  const droppedPosts = new Set<number>();
  for (const at of posts.values())
    for (const i of at.slice(1, Math.max(1, at.length - (POSTED_KEPT - 1)))) droppedPosts.add(i);

  let changed = 0;
  const out: E[] = [];
  events.forEach((event, i) => {
    const e = known[i]!;
    if (droppedPosts.has(i) || (e.t === 'note' && lastNote.get(e.key) !== i)) {
      changed++;
      return;
    }
    if (e.t === 'signed' && final.has(e.txId) && i === lastSigned.get(e.txId) && e.payloadJson !== '') {
      changed++;
      out.push({ ...event, payloadJson: '' });
      return;
    }
    out.push(event);
  });
  return { events: out, changed };
}
