/**
 * The simulated month's clock: from `startMs` to `endMs` of simulated time it runs `speed` times faster
 * than real time, then at real speed. So every period of the month closes within minutes, and once the month
 * is over nothing new closes for a whole period while the last payments reach the ledger (retries and
 * timeouts then take real seconds, as they would on a household's Pi).
 */
import type { Clock, Timer } from '@tanglewatt/meter-agent';

export interface MonthClock extends Clock {
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
  const realStart = realNowMs();
  const realEnd = realStart + (endMs - startMs) / speed;
  const simAt = (real: number) =>
    real <= realEnd ? startMs + (real - realStart) * speed : endMs + (real - realEnd);
  const realAt = (sim: number) =>
    sim <= endMs ? realStart + (sim - startMs) / speed : realEnd + (sim - endMs);
  return {
    nowMs: () => Math.floor(simAt(realNowMs())),
    monoMs: () => simAt(realNowMs()),
    setTimer(delayMs: number, fn: () => void): Timer {
      const real = realNowMs();
      const wait = realAt(simAt(real) + Math.max(0, delayMs)) - real;
      const handle = setTimeout(fn, Math.max(0, wait));
      return { cancel: () => clearTimeout(handle) };
    },
    realMsUntilEnd: () => Math.max(0, realEnd - realNowMs()),
  };
}
