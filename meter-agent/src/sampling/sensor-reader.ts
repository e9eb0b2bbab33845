import type { SensorReadStats } from '@tanglewatt/contract';
import { MeterAgentError } from '../errors.js';
import type { PowerReading, PowerSensor } from '../power-sensor.js';

/** What one attempt to read a sensor gave. */
export type ReadOutcome =
  | { kind: 'reading'; reading: PowerReading }
  | { kind: 'failed'; error: unknown }
  /** The previous read's I/O has not finished: nothing was started on the chip. */
  | { kind: 'busy' };

/** Per-sensor counters since the agent started (shown in status). */
export type { SensorReadStats } from '@tanglewatt/contract';

/**
 * Reads one sensor under a deadline. A read that misses the deadline is reported as failed, but the
 * sensor stays busy until that read's I/O settles: an INA219 read is several transfers on the libuv thread
 * pool, and starting another sequence on the same chip meanwhile would interleave with it and could fill
 * the pool (which the journal's fsyncs need too).
 */
export class SensorReader {
  readonly stats: SensorReadStats = { reads: 0, failures: 0, timeouts: 0, skippedReads: 0, overRange: 0 };
  #inFlight: Promise<void> | undefined;

  constructor(readonly sensor: PowerSensor) {}

  get busy(): boolean {
    return this.#inFlight !== undefined;
  }

  /** Resolves once no read of this sensor is in flight. */
  async settled(): Promise<void> {
    while (this.#inFlight) await this.#inFlight;
  }

  async read(timeoutMs: number): Promise<ReadOutcome> {
    if (this.#inFlight) {
      this.stats.skippedReads++;
      return { kind: 'busy' };
    }
    let read: Promise<PowerReading>;
    try {
      read = this.sensor.read();
    } catch (error) {
      read = Promise.reject(error);
    }
    const settle = () => {
      if (this.#inFlight === inFlight) this.#inFlight = undefined;
    };
    const inFlight: Promise<void> = read.then(settle, settle);
    this.#inFlight = inFlight;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const result = await Promise.race([read, deadline]);
      if (result === 'timeout') {
        this.stats.timeouts++;
        this.stats.failures++;
        return {
          kind: 'failed',
          error: new MeterAgentError(
            'SENSOR_READ_FAILED',
            `${this.sensor.description} did not answer within ${timeoutMs} ms`,
          ),
        };
      }
      this.stats.reads++;
      if (result.overflow) this.stats.overRange++;
      return { kind: 'reading', reading: result };
    } catch (error) {
      this.stats.failures++;
      return { kind: 'failed', error };
    } finally {
      clearTimeout(timer);
    }
  }
}
