import { MeterAgentError } from '../errors.js';

// The INA219's settings and calibration arithmetic (TI SBOS448) with no bus attached: what validating a
// config and driving the chip both need.

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
