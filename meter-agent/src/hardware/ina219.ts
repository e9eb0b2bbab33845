import { errorMessage, MeterAgentError } from '../errors.js';
import { type PowerReading, type PowerSensor, powerUWFrom } from '../power-sensor.js';
import { type I2cBus, isNoDeviceError } from './i2c.js';
import {
  ADC_SETTINGS,
  type AdcSetting,
  type BusRangeV,
  type Calibration,
  computeCalibration,
  correctedCalibrationOf,
  PGA_GAINS,
  type PgaGain,
  pgaRangeUV,
} from './ina219-settings.js';

/** INA219 register addresses (TI SBOS448). Every register is a 16-bit big-endian word. */
export const INA219_REGISTER = {
  configuration: 0x00,
  shuntVoltage: 0x01,
  busVoltage: 0x02,
  power: 0x03,
  current: 0x04,
  calibration: 0x05,
} as const;

export const INA219_DEFAULT_CONFIGURATION = 0x399f;

const ADC_BITS: Record<AdcSetting, number> = {
  '9bit': 0b0000,
  '10bit': 0b0001,
  '11bit': 0b0010,
  '12bit': 0b0011,
  avg2: 0b1001,
  avg4: 0b1010,
  avg8: 0b1011,
  avg16: 0b1100,
  avg32: 0b1101,
  avg64: 0b1110,
  avg128: 0b1111,
};

/** Conversion time per channel in µs (datasheet table 5). */
const MODE_SHUNT_AND_BUS_CONTINUOUS = 0b111;
const RESET_BIT = 0x8000;

export interface Ina219Settings {
  busRangeV: BusRangeV;
  pga: PgaGain;
  busAdc: AdcSetting;
  shuntAdc: AdcSetting;
}

export function encodeConfiguration(settings: Ina219Settings): number {
  return (
    ((settings.busRangeV === 32 ? 1 : 0) << 13) |
    (PGA_GAINS.indexOf(settings.pga) << 11) |
    (ADC_BITS[settings.busAdc] << 7) |
    (ADC_BITS[settings.shuntAdc] << 3) |
    MODE_SHUNT_AND_BUS_CONTINUOUS
  );
}

function adcFromBits(bits: number): AdcSetting {
  // 0b1000 is 12-bit too; 0b01xx repeat 0b00xx.
  const normal = bits & 0b1000 ? bits : bits & 0b0011;
  if (normal === 0b1000) return '12bit';
  const found = ADC_SETTINGS.find((s) => ADC_BITS[s] === normal);
  return found ?? '12bit';
}

export function decodeConfiguration(word: number): Ina219Settings & { mode: number } {
  return {
    busRangeV: word & (1 << 13) ? 32 : 16,
    pga: PGA_GAINS[(word >> 11) & 0b11] ?? 8,
    busAdc: adcFromBits((word >> 7) & 0b1111),
    shuntAdc: adcFromBits((word >> 3) & 0b1111),
    mode: word & 0b111,
  };
}

/** SMBus delivers the first byte on the wire in the low byte; INA219 sends its MSB first. */
export function swapBytes(word: number): number {
  return ((word & 0xff) << 8) | ((word >> 8) & 0xff);
}

export function toSigned16(word: number): number {
  return word & 0x8000 ? word - 0x1_0000 : word;
}

export interface BusVoltage {
  busVoltageMV: number;
  /** CNVR: a conversion finished since the power register was last read. */
  conversionReady: boolean;
  /** OVF: the current or power calculation overflowed (not a bus over-voltage). */
  overflow: boolean;
}

export function decodeBusVoltage(word: number): BusVoltage {
  return {
    busVoltageMV: (word >> 3) * 4,
    conversionReady: (word & 0b10) !== 0,
    overflow: (word & 0b1) !== 0,
  };
}

/** Shunt voltage register: signed, 10 µV per bit. */
export function decodeShuntVoltageUV(word: number): number {
  return toSigned16(word) * 10;
}

/** Why a reading cannot be trusted: what the chip flagged, or a register pinned at its full scale. */
export type OverRange = 'math-overflow' | 'shunt-full-scale' | 'current-full-scale';

/** Shunt register counts at a PGA range's full scale (10 µV each): the ADC clips there, without OVF. */
export function shuntFullScaleCounts(pga: PgaGain): number {
  return pgaRangeUV(pga) / 10;
}

/**
 * OVF only flags the chip's current or power arithmetic overflowing. A shunt voltage beyond the PGA
 * range clips the shunt register at full scale, and when maxCurrentA × shuntOhms equals the range the
 * current register then sits at about ±32767 without OVF: both mean the true current is unknown.
 */
export function overRangeOf(
  overflowFlag: boolean,
  shuntRegister: number,
  currentRegister: number,
  pga: PgaGain,
): OverRange | undefined {
  if (overflowFlag) return 'math-overflow';
  if (Math.abs(toSigned16(shuntRegister)) >= shuntFullScaleCounts(pga)) return 'shunt-full-scale';
  const current = toSigned16(currentRegister);
  if (current >= 0x7fff || current <= -0x8000) return 'current-full-scale';
  return undefined;
}

/** Current register: signed, Current_LSB per bit. */
export function decodeCurrentUA(word: number, currentLsbA: number): number {
  return Math.round(toSigned16(word) * currentLsbA * 1e6);
}

/** Power register: unsigned (|I| × V), Power_LSB per bit. Direction comes from the current register. */
export function decodePowerUW(word: number, powerLsbW: number): number {
  return Math.round(word * powerLsbW * 1e6);
}

export interface Ina219Options extends Ina219Settings {
  name: string;
  address: number;
  shuntOhms: number;
  maxCurrentA: number;
  /** A calibration register value corrected against a reference meter (`meter-agent calibrate`). */
  calibration?: number;
}

export interface Ina219Reading extends PowerReading {
  shuntVoltageUV: number;
  conversionReady: boolean;
  /** What the chip's unsigned power register says, for comparison with the signed `powerUW`. */
  powerRegisterUW: number;
  /** Set when `overflow` is: which limit the reading hit. */
  overRange?: OverRange;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

/** Our own INA219 driver over an `I2cBus`; one instance per chip address. */
export class Ina219 implements PowerSensor {
  readonly description: string;
  readonly calibration: Calibration;
  readonly #configuration: number;
  #reprograms = 0;

  private constructor(
    readonly name: string,
    readonly bus: I2cBus,
    readonly address: number,
    readonly options: Ina219Options,
  ) {
    const base = computeCalibration(options.shuntOhms, options.maxCurrentA);
    this.calibration =
      options.calibration !== undefined ? correctedCalibrationOf(base, options.calibration) : base;
    this.#configuration = encodeConfiguration(options);
    this.description = `ina219 ${hex(address)} on ${bus.name}`;
  }

  /** Configures and calibrates the chip; fails with SENSOR_MISSING when nothing answers at the address. */
  static async open(bus: I2cBus, options: Ina219Options): Promise<Ina219> {
    const chip = new Ina219(options.name, bus, options.address, options);
    await chip.program();
    return chip;
  }

  /** How often the chip was found without its calibration (power glitch) and reprogrammed. */
  get reprograms(): number {
    return this.#reprograms;
  }

  private async program(): Promise<void> {
    try {
      await this.write(INA219_REGISTER.configuration, RESET_BIT);
      await this.write(INA219_REGISTER.configuration, this.#configuration);
      await this.write(INA219_REGISTER.calibration, this.calibration.calibration);
      const readBack = await this.readRegister(INA219_REGISTER.configuration);
      if (readBack !== this.#configuration)
        throw new MeterAgentError(
          'SENSOR_MISSING',
          `the device at ${hex(this.address)} on ${this.bus.name} is not an INA219 (configuration read back as 0x${readBack.toString(16)}, wrote 0x${this.#configuration.toString(16)})`,
        );
    } catch (error) {
      if (error instanceof MeterAgentError) throw error;
      if (isNoDeviceError(error))
        throw new MeterAgentError(
          'SENSOR_MISSING',
          `no INA219 answers at ${hex(this.address)} on ${this.bus.name} (sensor "${this.name}"): check wiring, power and the A0/A1 address jumpers (i2cdetect -y <bus> lists what answers)`,
          { cause: error },
        );
      throw new MeterAgentError(
        'SENSOR_READ_FAILED',
        `cannot program the INA219 at ${hex(this.address)} on ${this.bus.name}: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }

  private async readRegister(register: number): Promise<number> {
    return swapBytes(await this.bus.readWord(this.address, register));
  }

  private write(register: number, word: number): Promise<void> {
    return this.bus.writeWord(this.address, register, swapBytes(word));
  }

  async read(): Promise<Ina219Reading> {
    // A brown-out resets the chip to calibration 0, after which current and power read 0 forever.
    const calibration = await this.readRegister(INA219_REGISTER.calibration);
    if (calibration !== this.calibration.calibration) {
      this.#reprograms++;
      await this.program();
      throw new MeterAgentError(
        'SENSOR_READ_FAILED',
        `INA219 ${hex(this.address)} had lost its calibration (power glitch?); reprogrammed it`,
      );
    }
    const bus = decodeBusVoltage(await this.readRegister(INA219_REGISTER.busVoltage));
    const shuntRegister = await this.readRegister(INA219_REGISTER.shuntVoltage);
    const currentRegister = await this.readRegister(INA219_REGISTER.current);
    const currentUA = decodeCurrentUA(currentRegister, this.calibration.currentLsbA);
    // Read last: reading power clears CNVR, so the next CNVR means a fresh conversion.
    const powerRegisterUW = decodePowerUW(
      await this.readRegister(INA219_REGISTER.power),
      this.calibration.powerLsbW,
    );
    const overRange = overRangeOf(bus.overflow, shuntRegister, currentRegister, this.options.pga);
    return {
      busVoltageMV: bus.busVoltageMV,
      currentUA,
      powerUW: powerUWFrom(bus.busVoltageMV, currentUA),
      overflow: overRange !== undefined,
      shuntVoltageUV: decodeShuntVoltageUV(shuntRegister),
      conversionReady: bus.conversionReady,
      powerRegisterUW,
      ...(overRange ? { overRange } : {}),
    };
  }

  async close(): Promise<void> {
    // The bus is shared by every chip on it; its owner closes it.
  }
}
