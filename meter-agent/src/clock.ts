/** One timer set on a clock. */
export interface Timer {
  cancel(): void;
}

/**
 * Time as the agent sees it. Sampling is planned on the monotonic clock (it never steps), samples and
 * periods are stamped with the wall clock. Simulations and tests pass a faster or a manual clock.
 */
export interface Clock {
  /** Wall-clock time in ms since the Unix epoch. */
  nowMs(): number;
  /** Monotonic time in ms; only differences mean anything. */
  monoMs(): number;
  /** Calls `fn` once `delayMs` of this clock's time has passed. */
  setTimer(delayMs: number, fn: () => void): Timer;
}

function realTimer(delayMs: number, fn: () => void): Timer {
  const handle = setTimeout(fn, Math.max(0, delayMs));
  return { cancel: () => clearTimeout(handle) };
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monoMs: () => performance.now(),
  setTimer: realTimer,
};

/**
 * Time running `speed` times faster than real time, for simulations and the crash test. The wall clock
 * is anchored at `epochMs`: every process given the same anchor agrees on the time, so an agent
 * restarted on the same data dir sees time continue, not jump back.
 */
export function acceleratedClock(speed: number, epochMs: number): Clock {
  if (speed === 1) return systemClock;
  return {
    nowMs: () => Math.floor(epochMs + (Date.now() - epochMs) * speed),
    monoMs: () => performance.now() * speed,
    setTimer: (delayMs, fn) => realTimer(delayMs / speed, fn),
  };
}

interface ManualTimer {
  dueMonoMs: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that moves only when a test says so; timers fire in order, synchronously, inside `advance`. */
export class ManualClock implements Clock {
  #wallOffsetMs: number;
  #monoMs: number;
  #timers: ManualTimer[] = [];
  #order = 0;

  constructor(startWallMs = Date.UTC(2024, 5, 1, 12, 0, 0), startMonoMs = 1_000) {
    this.#monoMs = startMonoMs;
    this.#wallOffsetMs = startWallMs - startMonoMs;
  }

  nowMs(): number {
    return Math.floor(this.#wallOffsetMs + this.#monoMs);
  }

  monoMs(): number {
    return this.#monoMs;
  }

  setTimer(delayMs: number, fn: () => void): Timer {
    const timer: ManualTimer = {
      dueMonoMs: this.#monoMs + Math.max(0, delayMs),
      order: this.#order++,
      fn,
      cancelled: false,
    };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way at its own time. */
  advance(ms: number): void {
    const target = this.#monoMs + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      const due = this.#timers
        .filter((t) => t.dueMonoMs <= target)
        .sort((a, b) => a.dueMonoMs - b.dueMonoMs || a.order - b.order)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#monoMs = Math.max(this.#monoMs, due.dueMonoMs);
      due.fn();
    }
    this.#monoMs = Math.max(this.#monoMs, target);
  }

  /** Moves time on without firing timers, as a blocked event loop experiences it; they fire late on the next advance. */
  stall(ms: number): void {
    this.#monoMs += ms;
  }

  /** Steps the wall clock alone, as NTP does when it corrects a wrong clock. */
  stepWall(ms: number): void {
    this.#wallOffsetMs += ms;
  }

  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }
}
