import { describe, expect, it } from 'vitest';
import type { MeterAgentError } from '../errors.js';
import { INA219_OPTIONS, ina219OnFakeBus } from '../testing/fixtures.js';
import { FakeIna219Bus } from './fake-ina219-bus.js';
import {
  decodeBusVoltage,
  decodeConfiguration,
  decodeCurrentUA,
  decodePowerUW,
  decodeShuntVoltageUV,
  encodeConfiguration,
  INA219_DEFAULT_CONFIGURATION,
  INA219_REGISTER,
  Ina219,
  overRangeOf,
  swapBytes,
  toSigned16,
} from './ina219.js';
import { computeCalibration, correctedCalibration } from './ina219-settings.js';

const options = INA219_OPTIONS;

describe('INA219 calibration', () => {
  it('reproduces the datasheet example: 0.1 Ω, 3.2 A, Current_LSB chosen as 100 µA', () => {
    const cal = computeCalibration(0.1, 3.2, 100e-6);
    expect(cal.calibration).toBe(4096);
    expect(cal.currentLsbA).toBeCloseTo(100e-6, 12);
    expect(cal.powerLsbW).toBeCloseTo(2e-3, 12);
  });

  it('uses Imax / 2^15 when no LSB is chosen: 3.2 A gives Cal 4194, and the LSB that Cal gives', () => {
    const cal = computeCalibration(0.1, 3.2);
    expect(cal.calibration).toBe(4194);
    // trunc dropped 0.3 of 4194.3: the chip counts 0.04096 / (4194 × 0.1) A per bit, not 97.65625 µA.
    expect(cal.currentLsbA * 1e6).toBeCloseTo(97.663329, 6);
    expect(cal.powerLsbW).toBeCloseTo(20 * cal.currentLsbA, 15);
    expect(cal.maxCurrentA).toBeGreaterThanOrEqual(3.2);
  });

  it('programs an even calibration: bit 0 of the register is forced to zero by the chip', () => {
    // 0.1 Ω, 1 A: trunc(13421.77) = 13421 is odd, so 13420 is programmed and the LSB follows from it.
    const cal = computeCalibration(0.1, 1);
    expect(cal.calibration).toBe(13420);
    expect(cal.currentLsbA).toBeCloseTo(0.04096 / (13420 * 0.1), 15);
    expect(correctedCalibration(13420, 1.0, 0.9999)).toBe(13418); // trunc gives 13418.6 → 13418
    expect(correctedCalibration(4096, 1.0, 0.98)).toBe(4014);
  });

  it('reproduces the metering.md example: 0.1 Ω, Current_LSB 20 µA → Cal 20480, Power_LSB 0.4 mW', () => {
    const cal = computeCalibration(0.1, 20e-6 * 2 ** 15);
    expect(cal.currentLsbA * 1e6).toBeCloseTo(20, 9);
    expect(cal.calibration).toBe(20480);
    expect(cal.powerLsbW * 1e3).toBeCloseTo(0.4, 9);
  });

  it('refuses a calibration above 0xFFFE and names the fix', () => {
    expect(() => computeCalibration(0.01, 0.05)).toThrow(/exceeds 0xFFFE.*raise maxCurrentA to at least/);
    try {
      computeCalibration(0.01, 0.05);
    } catch (error) {
      expect((error as MeterAgentError).code).toBe('CALIBRATION_OUT_OF_RANGE');
    }
  });

  it('refuses a chosen LSB outside Imax/2^15 .. Imax/2^12', () => {
    expect(() => computeCalibration(0.1, 3.2, 50e-6)).toThrow(/outside/);
    expect(() => computeCalibration(0.1, 3.2, 1e-3)).toThrow(/outside/);
  });

  it('corrects a calibration against a reference meter', () => {
    // The INA219 says 1.000 A, the reference meter 0.980 A: the chip reads 2 % high.
    expect(correctedCalibration(4096, 1.0, 0.98)).toBe(4014);
    expect(() => correctedCalibration(4096, 0, 1)).toThrow(/non-zero/);
  });
});

describe('INA219 register decoding', () => {
  it('swaps SMBus little-endian words into the chip big-endian order', () => {
    expect(swapBytes(0x9f39)).toBe(0x399f);
    expect(swapBytes(swapBytes(0x1234))).toBe(0x1234);
  });

  it('reads signed registers as two-complement', () => {
    expect(toSigned16(0x7fff)).toBe(32767);
    expect(toSigned16(0x8000)).toBe(-32768);
    expect(toSigned16(0xffff)).toBe(-1);
  });

  it('decodes shunt voltage at 10 µV per bit, negative included (datasheet table 7)', () => {
    expect(decodeShuntVoltageUV(0x7d00)).toBe(320_000);
    expect(decodeShuntVoltageUV(0x8300)).toBe(-320_000);
    expect(decodeShuntVoltageUV(0xffff)).toBe(-10);
  });

  it('decodes bus voltage bits 15–3 at 4 mV with CNVR and OVF', () => {
    expect(decodeBusVoltage((3000 << 3) | 0b10)).toEqual({
      busVoltageMV: 12_000,
      conversionReady: true,
      overflow: false,
    });
    expect(decodeBusVoltage((3000 << 3) | 0b01)).toEqual({
      busVoltageMV: 12_000,
      conversionReady: false,
      overflow: true,
    });
  });

  it('decodes current as signed and power as unsigned', () => {
    expect(decodeCurrentUA(10_000, 100e-6)).toBe(1_000_000);
    expect(decodeCurrentUA(0x10000 - 10_000, 100e-6)).toBe(-1_000_000);
    expect(decodePowerUW(6000, 2e-3)).toBe(12_000_000);
  });

  it('encodes the power-on default configuration', () => {
    const settings = { busRangeV: 32, pga: 8, busAdc: '12bit', shuntAdc: '12bit' } as const;
    expect(encodeConfiguration(settings)).toBe(INA219_DEFAULT_CONFIGURATION);
    expect(decodeConfiguration(INA219_DEFAULT_CONFIGURATION)).toMatchObject(settings);
    const averaged = { busRangeV: 16, pga: 2, busAdc: '9bit', shuntAdc: 'avg128' } as const;
    expect(decodeConfiguration(encodeConfiguration(averaged))).toMatchObject({ ...averaged, mode: 0b111 });
  });
});

describe('Ina219 driver on the fake bus', () => {
  it('programs configuration and calibration, then reads the datasheet example', async () => {
    const { chip, sensor } = await ina219OnFakeBus();
    expect(chip.register(INA219_REGISTER.configuration)).toBe(encodeConfiguration(options));
    expect(chip.register(INA219_REGISTER.calibration)).toBe(4194);
    chip.measure({ currentA: 1.5, busVoltageV: 12 });
    const reading = await sensor.read();
    expect(reading.busVoltageMV).toBe(12_000);
    expect(reading.shuntVoltageUV).toBe(150_000);
    expect(reading.currentUA).toBeGreaterThan(1_499_000);
    expect(reading.currentUA).toBeLessThan(1_501_000);
    expect(reading.powerUW / 18_000_000).toBeCloseTo(1, 3);
    expect(reading.overflow).toBe(false);
    expect(reading.conversionReady).toBe(true);
  });

  it('reads negative current and gives signed power where the power register cannot', async () => {
    const bus = new FakeIna219Bus();
    const chip = bus.addChip(0x41, 0.1);
    const sensor = await Ina219.open(bus, { ...options, address: 0x41 });
    chip.measure({ currentA: -0.8, busVoltageV: 5 });
    const reading = await sensor.read();
    expect(reading.currentUA).toBeLessThan(-799_000);
    expect(reading.powerUW).toBeLessThan(-3_990_000);
    expect(reading.powerRegisterUW).toBeGreaterThan(3_990_000); // unsigned: direction lost
  });

  it('clears CNVR when power is read and sets it again on the next conversion', async () => {
    const { chip, sensor } = await ina219OnFakeBus();
    chip.measure({ currentA: 0.1, busVoltageV: 5 });
    expect((await sensor.read()).conversionReady).toBe(true);
    expect((await sensor.read()).conversionReady).toBe(false);
    chip.convert();
    expect((await sensor.read()).conversionReady).toBe(true);
  });

  it('marks a reading over range when the shunt clips at the PGA full scale, though the chip sets no OVF', async () => {
    // maxCurrentA × shuntOhms = 40 mV = the PGA /1 range: the current register tops out just below 2^15.
    const { chip, sensor } = await ina219OnFakeBus({ pga: 1, maxCurrentA: 0.4 });
    chip.measure({ currentA: 0.3, busVoltageV: 5 });
    expect((await sensor.read()).overflow).toBe(false);
    chip.measure({ currentA: 0.6, busVoltageV: 5 }); // 60 mV across the shunt, range ±40 mV
    expect(decodeBusVoltage(chip.register(INA219_REGISTER.busVoltage)).overflow).toBe(false);
    expect(toSigned16(chip.register(INA219_REGISTER.current))).toBe(32_767);
    const reading = await sensor.read();
    expect(reading.shuntVoltageUV).toBe(40_000);
    expect(reading.overflow).toBe(true);
    expect(reading.overRange).toBe('shunt-full-scale');
    chip.measure({ currentA: -0.6, busVoltageV: 5 });
    expect((await sensor.read()).overRange).toBe('shunt-full-scale');
  });

  it('marks a reading over range when the chip flags a current calculation overflow (OVF)', async () => {
    // PGA /8 holds 3.2 A, but the current register's full scale is 1 A.
    const { chip, sensor } = await ina219OnFakeBus({ pga: 8, maxCurrentA: 1 });
    chip.measure({ currentA: 0.9, busVoltageV: 12 });
    expect((await sensor.read()).overflow).toBe(false);
    chip.measure({ currentA: 2, busVoltageV: 12 });
    expect(decodeBusVoltage(chip.register(INA219_REGISTER.busVoltage)).overflow).toBe(true);
    const reading = await sensor.read();
    expect(reading.overflow).toBe(true);
    expect(reading.overRange).toBe('math-overflow');
  });

  it('treats a current register pinned at ±2^15 as over range', () => {
    expect(overRangeOf(false, 1000, 0x7fff, 8)).toBe('current-full-scale');
    expect(overRangeOf(false, 1000, 0x8000, 8)).toBe('current-full-scale');
    expect(overRangeOf(false, 1000, 0x7ffe, 8)).toBeUndefined();
    expect(overRangeOf(false, 0x10000 - 32_000, 0, 8)).toBe('shunt-full-scale');
    expect(overRangeOf(false, 31_999, 0, 8)).toBeUndefined();
  });

  it('reads within one count with an odd computed calibration (the chip keeps only the even part)', async () => {
    const { bus, chip, sensor } = await ina219OnFakeBus({ maxCurrentA: 1 }); // trunc gives 13421
    expect(chip.register(INA219_REGISTER.calibration)).toBe(13_420);
    chip.measure({ currentA: 0.5, busVoltageV: 12 });
    const reading = await sensor.read();
    expect(Math.abs(reading.currentUA - 500_000)).toBeLessThan(sensor.calibration.currentLsbA * 1e6);
    // A corrected calibration given odd is programmed even, its LSB scaled by what bit 0 dropped.
    const corrected = await Ina219.open(bus, { ...options, maxCurrentA: 1, calibration: 13_421 });
    expect(chip.register(INA219_REGISTER.calibration)).toBe(13_420);
    expect(corrected.calibration.currentLsbA).toBeCloseTo(
      (sensor.calibration.currentLsbA * 13_421) / 13_420,
      15,
    );
  });

  it('keeps several chips apart by address', async () => {
    const bus = new FakeIna219Bus();
    const panel = bus.addChip(0x40, 0.1);
    const load = bus.addChip(0x44, 0.1);
    const panelSensor = await Ina219.open(bus, { ...options, name: 'panel', address: 0x40 });
    const loadSensor = await Ina219.open(bus, { ...options, name: 'load', address: 0x44 });
    panel.measure({ currentA: 2, busVoltageV: 18 });
    load.measure({ currentA: 0.5, busVoltageV: 12 });
    expect((await panelSensor.read()).busVoltageMV).toBe(18_000);
    expect((await loadSensor.read()).busVoltageMV).toBe(12_000);
  });

  it('says clearly when no chip answers at the address', async () => {
    const bus = new FakeIna219Bus();
    await expect(Ina219.open(bus, options)).rejects.toThrow(
      /no INA219 answers at 0x40 on fake-i2c \(sensor "load"\): check wiring/,
    );
  });

  it('passes read errors up, and reprograms a chip that lost its calibration', async () => {
    const { chip, sensor } = await ina219OnFakeBus();
    chip.measure({ currentA: 1, busVoltageV: 12 });
    chip.failNextTransfers(1);
    await expect(sensor.read()).rejects.toThrow(/EIO/);
    expect((await sensor.read()).busVoltageMV).toBe(12_000);
    chip.powerCycle();
    await expect(sensor.read()).rejects.toThrow(/lost its calibration/);
    chip.measure({ currentA: 1, busVoltageV: 12 });
    expect((await sensor.read()).currentUA).toBeGreaterThan(999_000);
    expect(sensor.reprograms).toBe(1);
  });
});
