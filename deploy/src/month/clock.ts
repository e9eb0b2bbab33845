/**
 * The simulated month's clock: from `startMs` to `endMs` of simulated time it runs `speed` times faster
 * than real time, then at real speed. So every period of the month closes within minutes, and once the month
 * is over nothing new closes for a whole period while the last payments reach the ledger (retries and
 * timeouts then take real seconds, as they would on a household's Pi).
 */
import type { Clock, Timer } from '@tanglewatt/meter-agent';

export interface MonthClock extends Clock {
  /** Lets time run: until then it stands at the start, so every agent started before meters the whole month. */
  begin(): void;
  /** Real ms (from now) until the simulated end. */
  realMsUntilEnd(): number;
}

export function monthClock(
  options: { startMs: number; endMs: number; speed: number },
  realNowMs: () => number = () => performance.timeOrigin + performance.now(),
): MonthClock {
  const { startMs, endMs, speed } = options;
  if (!(speed >= 1)) throw new Error('speed: at least 1');
  if (!(endMs > startMs)) throw new Error('endMs: after startMs');
  let realStart: number | undefined;
  const realEnd = () => realStart! + (endMs - startMs) / speed;
  const simAt = (real: number) => {
    if (realStart === undefined) return startMs;
    return real <= realEnd() ? startMs + (real - realStart) * speed : endMs + (real - realEnd());
  };
  const realAt = (sim: number) =>
    sim <= endMs ? realStart! + (sim - startMs) / speed : realEnd() + (sim - endMs);
  /** Timers set before begin(): armed when time starts. */
  const waiting: { delayMs: number; arm: () => void }[] = [];
  const schedule = (delayMs: number, fn: () => void) => {
    const real = realNowMs();
    const wait = realAt(simAt(real) + Math.max(0, delayMs)) - real;
    return setTimeout(fn, Math.max(0, wait));
  };
  return {
    nowMs: () => Math.floor(simAt(realNowMs())),
    monoMs: () => simAt(realNowMs()),
    setTimer(delayMs: number, fn: () => void): Timer {
      let handle: ReturnType<typeof setTimeout> | undefined;
      let cancelled = false;
      const arm = () => {
        if (!cancelled) handle = schedule(delayMs, fn);
      };
      if (realStart === undefined) waiting.push({ delayMs, arm });
      else arm();
      return {
        cancel: () => {
          cancelled = true;
          if (handle !== undefined) clearTimeout(handle);
        },
      };
    },
    begin() {
      if (realStart !== undefined) return;
      realStart = realNowMs();
      for (const w of waiting.splice(0)) w.arm();
    },
    realMsUntilEnd: () =>
      realStart === undefined ? Number.POSITIVE_INFINITY : Math.max(0, realEnd() - realNowMs()),
  };
}
