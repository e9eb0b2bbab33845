/**
 * Waits that follow progress instead of a wall-clock budget: under load a tangle, a node or a service may
 * move slowly, and that is not a failure; standing still is.
 */

export interface ProgressClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: ProgressClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface ProgressWait<T> {
  /** What is awaited, named in the failure: e.g. "hornet-2 syncing", "50 payments included". */
  what: string;
  /** Reads the current value. A throw counts as no reading; its message appears in a failure. */
  probe: () => T | Promise<T>;
  /** The value the wait is for. */
  done: (value: NoInfer<T>) => boolean;
  /**
   * Whether `now` moved on from `before` (the value at the last progress). Default: a number or bigint
   * rose; any other value changed (compared as JSON).
   */
  progressed?: (before: NoInfer<T>, now: NoInfer<T>) => boolean;
  /** Fail when nothing moved for this long. */
  stallMs: number;
  /** Fail after this long even while moving: a generous bound for a slow but live system. */
  ceilingMs: number;
  /** Pause between probes; default 250 ms. */
  intervalMs?: number;
  /** How a value reads in a failure; default JSON. */
  show?: (value: NoInfer<T>) => string;
  clock?: ProgressClock;
}

export type ProgressFailure = 'STALLED' | 'CEILING';

export class ProgressError extends Error {
  override readonly name = 'ProgressError';
  constructor(
    readonly code: ProgressFailure,
    message: string,
    readonly last: unknown,
  ) {
    super(message);
  }
}

export function defaultProgressed(before: unknown, now: unknown): boolean {
  if (typeof before === 'number' && typeof now === 'number') return now > before;
  if (typeof before === 'bigint' && typeof now === 'bigint') return now > before;
  return json(now) !== json(before);
}

/** For a record of counters (periods closed, payments included, milestone seen…): progress is any of them rising. */
export function anyRose<K extends string>(before: Record<K, number>, now: Record<K, number>): boolean {
  return (Object.keys(now) as K[]).some((k) => now[k] > before[k]);
}

function json(value: unknown): string {
  return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/**
 * Probes until `done`, for as long as the value keeps moving: fails with what stalled and its last value
 * when nothing moved for `stallMs`, or when `ceilingMs` has passed. Resolves with the final value.
 */
export async function waitForProgress<T>(wait: ProgressWait<T>): Promise<T> {
  const clock = wait.clock ?? realClock;
  const progressed = wait.progressed ?? defaultProgressed;
  const show = wait.show ?? json;
  const started = clock.now();
  let lastMove = started;
  let reference: { value: T } | undefined;
  let lastError: string | undefined;
  for (;;) {
    let reading: { value: T } | undefined;
    try {
      reading = { value: await wait.probe() };
      lastError = undefined;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    const now = clock.now();
    if (reading) {
      if (wait.done(reading.value)) return reading.value;
      if (!reference || progressed(reference.value, reading.value)) {
        reference = reading;
        lastMove = now;
      }
    }
    const last = `${reference ? show(reference.value) : 'none'}${lastError ? `; last probe failed: ${lastError}` : ''}`;
    if (now - lastMove >= wait.stallMs)
      throw new ProgressError(
        'STALLED',
        `${wait.what}: no progress for ${seconds(now - lastMove)} (after ${seconds(now - started)}; last value ${last})`,
        reference?.value,
      );
    if (now - started >= wait.ceilingMs)
      throw new ProgressError(
        'CEILING',
        `${wait.what}: not done within the ${seconds(wait.ceilingMs)} ceiling though still moving (last value ${last})`,
        reference?.value,
      );
    await clock.sleep(wait.intervalMs ?? 250);
  }
}
