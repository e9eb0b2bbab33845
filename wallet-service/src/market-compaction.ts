/**
 * Compaction of the market journal: a shorter event list that replays to the same view. Every market
 * message read (`seen`) and every payment (`paid`) stays: the book is rebuilt from all of them. What
 * replay overwrites goes, keeping the order of the rest:
 * - `checkpoint` (one per milestone read): only the last, which is where reading resumes;
 * - `seq`: only the highest, the next sequence number to spend;
 * - `format`: only the first of the highest version;
 * - `outgoing` and `posted` of our own messages that a milestone has confirmed (a `seen` with their
 *   signature): they are no longer sent again. Messages still waiting keep all their events.
 * Events of a type this module does not know are kept as they are.
 */

type Known =
  | { t: 'seen'; message: unknown }
  | { t: 'checkpoint' }
  | { t: 'seq'; next: number }
  | { t: 'format'; v: number }
  | { t: 'outgoing'; message: { signature: string } }
  | { t: 'posted'; signature: string };

function signatureOf(message: unknown): string | undefined {
  const signature = (message as { signature?: unknown } | null)?.signature;
  return typeof signature === 'string' ? signature : undefined;
}

export function compactMarketEvents<E extends { t: string }>(
  events: readonly E[],
): { events: E[]; changed: number } {
  const known = events as readonly unknown[] as readonly Known[];
  const confirmed = new Set<string>();
  let lastCheckpoint = -1;
  let highestSeq = -1;
  let firstFormat = -1;
  known.forEach((e, i) => {
    if (e.t === 'seen') {
      const signature = signatureOf(e.message);
      if (signature !== undefined) confirmed.add(signature);
    } else if (e.t === 'checkpoint') lastCheckpoint = i;
    else if (e.t === 'seq') {
      const best = known[highestSeq] as { next: number } | undefined;
      if (!best || e.next >= best.next) highestSeq = i;
    } else if (e.t === 'format') {
      const best = known[firstFormat] as { v: number } | undefined;
      if (!best || e.v > best.v) firstFormat = i;
    }
  });
  const out = events.filter((_, i) => {
    const e = known[i]!;
    switch (e.t) {
      case 'checkpoint':
        return i === lastCheckpoint;
      case 'seq':
        return i === highestSeq;
      case 'format':
        return i === firstFormat;
      case 'outgoing':
        return !confirmed.has(e.message.signature);
      case 'posted':
        return !confirmed.has(e.signature);
      default:
        return true;
    }
  });
  return { events: out, changed: events.length - out.length };
}
