/**
 * When the next milestone is due, learned from when confirmed milestones arrived. A transaction is
 * included at a milestone at the earliest, so one posted a little before the next milestone is included as
 * soon as one posted at once: payments may wait for company until then (the cutoff) at no cost in latency,
 * in fewer transactions, and without using up the room for transactions in flight early in the interval
 * (which would leave later payments to be posted only after the milestone, a whole interval later).
 */

/** Milestone arrivals remembered: enough for a median interval that one late arrival does not move. */
const REMEMBERED = 6;
/** An interval this far from the median (as a share of it) means the rhythm is not steady: no prediction. */
const UNSTEADY = 0.25;

/**
 * The time (on the arrivals' clock) before which a transaction should be posted to be included by the next
 * milestone, if the last milestones arrived at a steady rhythm and that time is still ahead; otherwise
 * undefined (starting up, catching up, a stalled or irregular coordinator): then payments go by the linger
 * rules alone. The margin before the predicted arrival covers signing, posting and the node's confirmation:
 * a quarter of the interval, at least 150 ms and at most 2 s.
 */
export function milestoneCutoff(arrivalsMs: readonly number[], nowMs: number): number | undefined {
  if (arrivalsMs.length < 4) return undefined;
  const recent = arrivalsMs.slice(-REMEMBERED);
  const intervals = recent.slice(1).map((t, i) => t - recent[i]!);
  const sorted = [...intervals].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  if (median <= 0) return undefined;
  if (intervals.slice(-3).some((d) => Math.abs(d - median) > UNSTEADY * median)) return undefined;
  const next = recent[recent.length - 1]! + median;
  const cutoff = next - Math.min(2_000, Math.max(150, median / 4));
  return nowMs < cutoff ? cutoff : undefined;
}

/** Notes milestone arrivals on a monotonic clock and answers how long until the next cutoff. */
export class MilestoneClock {
  private readonly arrivals: number[] = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  noteArrival(): void {
    this.arrivals.push(this.now());
    if (this.arrivals.length > REMEMBERED) this.arrivals.shift();
  }

  /** Milliseconds until the cutoff for the next milestone, when one can be predicted (see milestoneCutoff). */
  msToCutoff(): number | undefined {
    const now = this.now();
    const cutoff = milestoneCutoff(this.arrivals, now);
    return cutoff === undefined ? undefined : cutoff - now;
  }
}
