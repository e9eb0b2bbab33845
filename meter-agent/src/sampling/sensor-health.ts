/**
 * Reading every sensor for one sample, and keeping each sensor's runs of failed and out-of-range readings
 * so a run is reported once when it starts and once when it ends.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { SensorSample } from '../metering/records.js';
import type { SensorReader } from './sensor-reader.js';

export class SensorHealth {
  readonly #failing = new Map<string, number>();
  /** Sensors whose readings are out of range now, with how many in a row. */
  readonly #overRange = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    private readonly problem: (message: string) => void,
  ) {}

  failed(name: string, error: unknown): void {
    const failures = (this.#failing.get(name) ?? 0) + 1;
    this.#failing.set(name, failures);
    // The first failure of a run is worth a line; the rest are in the period's quality record.
    if (failures === 1) this.problem(`sensor ${name}: ${errorMessage(error)}`);
  }

  recovered(name: string): void {
    const failures = this.#failing.get(name);
    if (!failures) return;
    this.#failing.delete(name);
    this.log.info({ sensor: name, failedReads: failures }, 'sensor reads again');
  }

  /** Logs the first out-of-range reading of a run, and how many there were once readings are back in range. */
  overRange(name: string, why: string | undefined): void {
    const run = this.#overRange.get(name);
    if (why === undefined) {
      if (run === undefined) return;
      this.#overRange.delete(name);
      this.log.info({ sensor: name, overRangeReads: run }, 'sensor back in range');
      return;
    }
    this.#overRange.set(name, (run ?? 0) + 1);
    if (run === undefined)
      this.problem(
        `sensor ${name}: reading over range (${why}): not counted as energy until it is back in range; raise maxCurrentA or use a smaller shunt`,
      );
  }
}

/** Reads every sensor at once; a failed or busy sensor gives its error in place of a reading. */
export function readSensors(
  readers: readonly SensorReader[],
  timeoutMs: number,
  health: SensorHealth,
): Promise<SensorSample[]> {
  return Promise.all(
    readers.map(async (reader): Promise<SensorSample> => {
      const name = reader.sensor.name;
      const outcome = await reader.read(timeoutMs);
      if (outcome.kind === 'busy')
        return { sensor: name, error: 'skipped: the previous read is still on the bus' };
      if (outcome.kind === 'failed') {
        health.failed(name, outcome.error);
        return { sensor: name, error: errorMessage(outcome.error).slice(0, 200) };
      }
      const r = outcome.reading;
      health.recovered(name);
      health.overRange(name, r.overflow ? (r.overRange ?? 'overflow') : undefined);
      return {
        sensor: name,
        busVoltageMV: r.busVoltageMV,
        currentUA: r.currentUA,
        powerUW: r.powerUW,
        ...(r.overflow ? { overflow: true as const } : {}),
      };
    }),
  );
}
