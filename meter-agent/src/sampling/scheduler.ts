import type { Clock, Timer } from '../clock.js';

export interface Tick {
  index: number;
  /** When the tick should have run: start + index × interval, on the monotonic clock. */
  targetMonoMs: number;
  actualMonoMs: number;
  /** actual − target: the timer's jitter. */
  lateMs: number;
  /** Ticks skipped just before this one because the timer came too late for them. */
  missedTicks: number;
  /** Wall-clock time when the tick ran. */
  wallMs: number;
}

/**
 * The tick to run at `nowMonoMs`: the latest whose target has passed, but never one already run.
 * Targets are start + n × interval, so a late tick does not shift later ones, and ticks the timer was
 * too late for are skipped (and counted), not run in a burst.
 */
export function dueTick(
  startMonoMs: number,
  intervalMs: number,
  lastIndex: number,
  nowMonoMs: number,
): { index: number; missedTicks: number } {
  const reached = Math.floor((nowMonoMs - startMonoMs) / intervalMs);
  const index = Math.max(lastIndex + 1, reached);
  return { index, missedTicks: index - lastIndex - 1 };
}

/** Runs `onTick` once per interval on a drift-free schedule. `onTick` must not block; it is not awaited. */
export class TickScheduler {
  #startMonoMs = 0;
  #lastIndex = -1;
  #timer: Timer | undefined;
  #running = false;

  constructor(
    private readonly clock: Clock,
    readonly intervalMs: number,
    private readonly onTick: (tick: Tick) => void,
  ) {}

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#startMonoMs = this.clock.monoMs();
    this.#lastIndex = -1;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #schedule(): void {
    const target = this.#startMonoMs + (this.#lastIndex + 1) * this.intervalMs;
    this.#timer = this.clock.setTimer(target - this.clock.monoMs(), () => this.#fire());
  }

  #fire(): void {
    if (!this.#running) return;
    const now = this.clock.monoMs();
    const { index, missedTicks } = dueTick(this.#startMonoMs, this.intervalMs, this.#lastIndex, now);
    this.#lastIndex = index;
    const targetMonoMs = this.#startMonoMs + index * this.intervalMs;
    // Schedule the next tick before running this one, so a slow handler cannot delay it.
    this.#schedule();
    this.onTick({
      index,
      targetMonoMs,
      actualMonoMs: now,
      lateMs: now - targetMonoMs,
      missedTicks,
      wallMs: this.clock.nowMs(),
    });
  }
}
