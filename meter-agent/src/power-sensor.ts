/** One reading of a power sensor, in integers with their units in their names. */
export interface PowerReading {
  busVoltageMV: number;
  /** Signed: negative when power flows the other way through the shunt. */
  currentUA: number;
  /** Signed power, current × bus voltage. */
  powerUW: number;
  /**
   * Out of range: the chip flagged its current or power calculation, or a register sat at its full scale
   * (a saturated reading under-counts by an unknown amount, so it is not integrated).
   */
  overflow: boolean;
  /** Which limit, when `overflow` (e.g. "shunt-full-scale"). */
  overRange?: string;
}

/** A source of power readings: an INA219 on I²C, or a simulation. */
export interface PowerSensor {
  readonly name: string;
  /** What it is, for logs and `status` (e.g. `ina219 0x40 on /dev/i2c-1`). */
  readonly description: string;
  read(): Promise<PowerReading>;
  close(): Promise<void>;
}

/** Signed power in µW from signed current and bus voltage: mV × µA = nW. */
export function powerUWFrom(busVoltageMV: number, currentUA: number): number {
  return Math.round((busVoltageMV * currentUA) / 1000);
}
