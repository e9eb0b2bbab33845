import { errorMessage, MeterAgentError } from '../errors.js';
import { type PowerReading, type PowerSensor, powerUWFrom } from '../sensors/types.js';
import { type I2cBus, isNoDeviceError } from './i2c.js';

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

export const BUS_RANGES_V = [16, 32] as const;
export type BusRangeV = (typeof BUS_RANGES_V)[number];
export const PGA_GAINS = [1, 2, 4, 8] as const;
export type PgaGain = (typeof PGA_GAINS)[number];

/** ADC setting per channel: a resolution (one conversion) or 12-bit samples averaged. */
export const ADC_SETTINGS = [
  '9bit',
  '10bit',
  '11bit',
  '12bit',
  'avg2',
  'avg4',
  'avg8',
  'avg16',
  'avg32',
  'avg64',
  'avg128',
] as const;
export type AdcSetting = (typeof ADC_SETTINGS)[number];

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
export const ADC_CONVERSION_US: Record<AdcSetting, number> = {
  '9bit': 84,
  '10bit': 148,
  '11bit': 276,
  '12bit': 532,
  avg2: 1_060,
  avg4: 2_130,
  avg8: 4_260,
  avg16: 8_510,
  avg32: 17_020,
  avg64: 34_050,
  avg128: 68_100,
};

/**
 * Time for one fresh pair of readings: continuous mode converts the shunt, then the bus, so a new current
 * and bus voltage come every shunt + bus conversion time (136.2 ms with avg128 on both).
 */
export function conversionTimeUs(settings: { busAdc: AdcSetting; shuntAdc: AdcSetting }): number {
  return ADC_CONVERSION_US[settings.busAdc] + ADC_CONVERSION_US[settings.shuntAdc];
}

const MODE_SHUNT_AND_BUS_CONTINUOUS = 0b111;
const RESET_BIT = 0x8000;

/** Full-scale shunt voltage of each PGA setting: 40 mV per step. */
export function pgaRangeUV(pga: PgaGain): number {
  return 40_000 * pga;
}

/** The smallest PGA gain whose range holds `shuntVoltageUV`, or undefined when none does. */
export function pgaFor(shuntVoltageUV: number): PgaGain | undefined {
  return PGA_GAINS.find((g) => pgaHolds(g, shuntVoltageUV));
}

/** Whether a gain's range holds a shunt voltage (3.2 A × 0.1 Ω is 320 mV, not 320.00000000000006). */
export function pgaHolds(pga: PgaGain, shuntVoltageUV: number): boolean {
  return Math.abs(shuntVoltageUV) <= pgaRangeUV(pga) * (1 + 1e-9);
}

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

export interface Calibration {
  /** Value for the calibration register: always even, as the chip forces bit 0 to zero. */
  calibration: number;
  /** Current per count of the current register with `calibration` programmed. */
  currentLsbA: number;
  powerLsbW: number;
  /** The current at which the current register reaches full scale (2^15 LSB). */
  maxCurrentA: number;
}

/** Float errors must not turn 20480 into 20479 under trunc. */
function truncTolerant(x: number): number {
  return Math.trunc(x * (1 + 1e-12));
}

/** The chip ignores calibration bit 0 (it reads back 0): an odd value would read low by 1/Cal. */
export function evenCalibration(calibration: number): number {
  return calibration - (calibration % 2);
}

/** Current_LSB with `calibration` programmed: current counts = shunt counts × Cal / 4096 (datasheet 8.5.1). */
export function currentLsbFor(calibration: number, shuntOhms: number): number {
  return 0.04096 / (calibration * shuntOhms);
}

function calibrationOf(calibration: number, currentLsbA: number): Calibration {
  return { calibration, currentLsbA, powerLsbW: 20 * currentLsbA, maxCurrentA: currentLsbA * 2 ** 15 };
}

/**
 * Datasheet calibration: Current_LSB = Imax / 2^15 (or a rounder value the caller picks between
 * Imax/2^15 and Imax/2^12), Cal = trunc(0.04096 / (Current_LSB × Rshunt)), rounded down to even; the
 * Current_LSB used for reading is the one the programmed Cal gives (slightly above the chosen one when
 * trunc or the even rounding dropped something), Power_LSB = 20 × Current_LSB.
 */
export function computeCalibration(
  shuntOhms: number,
  maxCurrentA: number,
  currentLsbA?: number,
): Calibration {
  if (!(shuntOhms > 0) || !(maxCurrentA > 0))
    throw new MeterAgentError(
      'CALIBRATION_OUT_OF_RANGE',
      'shunt ohms and max current must both be more than 0',
    );
  const minLsbA = maxCurrentA / 2 ** 15;
  const lsbA = currentLsbA ?? minLsbA;
  if (lsbA < minLsbA * (1 - 1e-9) || lsbA > (maxCurrentA / 2 ** 12) * (1 + 1e-9))
    throw new MeterAgentError(
      'CALIBRATION_OUT_OF_RANGE',
      `current LSB ${lsbA} A is outside ${minLsbA} A (Imax/2^15) to ${maxCurrentA / 2 ** 12} A (Imax/2^12)`,
    );
  const calibration = evenCalibration(truncTolerant(0.04096 / (lsbA * shuntOhms)));
  if (calibration > 0xfffe) {
    const neededA = (0.04096 / (0xfffe * shuntOhms)) * 2 ** 15;
    throw new MeterAgentError(
      'CALIBRATION_OUT_OF_RANGE',
      `calibration ${calibration} exceeds 0xFFFE (65534) for ${shuntOhms} Ω and ${maxCurrentA} A: raise maxCurrentA to at least ${neededA.toPrecision(3)} A or use a larger shunt`,
    );
  }
  if (calibration < 2)
    throw new MeterAgentError(
      'CALIBRATION_OUT_OF_RANGE',
      `calibration rounds to 0 for ${shuntOhms} Ω and ${maxCurrentA} A: lower maxCurrentA or use a smaller shunt`,
    );
  return calibrationOf(calibration, currentLsbFor(calibration, shuntOhms));
}

/**
 * A calibration corrected against a reference meter keeps the computed Current_LSB (that is what the
 * correction is for); when it is odd, the even value is programmed and the LSB scaled by what was dropped.
 */
export function correctedCalibrationOf(base: Calibration, requested: number): Calibration {
  const calibration = evenCalibration(requested);
  if (calibration < 2 || calibration > 0xfffe)
    throw new MeterAgentError(
      'CALIBRATION_OUT_OF_RANGE',
      `calibration ${requested} is outside 2..65534: run meter-agent calibrate again`,
    );
  // The chip counts calibration/requested of what the requested value would have counted.
  return calibrationOf(calibration, (base.currentLsbA * requested) / calibration);
}

/**
 * Corrects a calibration against a reference meter (datasheet 8.5.2):
 * Cal' = trunc(Cal × reference current / current the INA219 reported), rounded down to even.
 */
export function correctedCalibration(calibration: number, reportedA: number, referenceA: number): number {
  if (!(reportedA !== 0) || !Number.isFinite(referenceA / reportedA) || referenceA / reportedA <= 0)
    throw new MeterAgentError(
      'CALIBRATION_OUT_OF_RANGE',
      'the reported and reference currents must be non-zero and of the same sign',
    );
  const corrected = evenCalibration(truncTolerant((calibration * referenceA) / reportedA));
  if (corrected < 2 || corrected > 0xfffe)
    throw new MeterAgentError(
      'CALIBRATION_OUT_OF_RANGE',
      `corrected calibration ${corrected} is outside 2..65534: check both readings, the shunt value and maxCurrentA`,
    );
  return corrected;
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
