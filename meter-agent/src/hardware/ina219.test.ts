import { describe, expect, it } from 'vitest';
import type { MeterAgentError } from '../errors.js';
import { FakeIna219Bus } from './fake-ina219-bus.js';
import {
  computeCalibration,
  correctedCalibration,
  decodeBusVoltage,
  decodeConfiguration,
  decodeCurrentUA,
  decodePowerUW,
  decodeShuntVoltageUV,
  encodeConfiguration,
  INA219_DEFAULT_CONFIGURATION,
  INA219_REGISTER,
  Ina219,
  type Ina219Options,
  swapBytes,
  toSigned16,
} from './ina219.js';

const options: Ina219Options = {
  name: 'load',
  address: 0x40,
  shuntOhms: 0.1,
  maxCurrentA: 3.2,
  busRangeV: 32,
  pga: 8,
  busAdc: '12bit',
  shuntAdc: '12bit',
};

describe('INA219 calibration', () => {
  it('reproduces the datasheet example: 0.1 Ω, 3.2 A, Current_LSB chosen as 100 µA', () => {
    const cal = computeCalibration(0.1, 3.2, 100e-6);
    expect(cal.calibration).toBe(4096);
    expect(cal.currentLsbA).toBeCloseTo(100e-6, 12);
    expect(cal.powerLsbW).toBeCloseTo(2e-3, 12);
  });

  it('uses Imax / 2^15 when no LSB is chosen: 3.2 A gives 97.656 µA and Cal 4194', () => {
    const cal = computeCalibration(0.1, 3.2);
    expect(cal.currentLsbA * 1e6).toBeCloseTo(97.65625, 9);
    expect(cal.calibration).toBe(4194);
    expect(cal.powerLsbW * 1e3).toBeCloseTo(1.953125, 9);
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
    const bus = new FakeIna219Bus();
    const chip = bus.addChip(0x40, 0.1);
    const sensor = await Ina219.open(bus, options);
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
    const bus = new FakeIna219Bus();
    const chip = bus.addChip(0x40, 0.1);
    const sensor = await Ina219.open(bus, options);
    chip.measure({ currentA: 0.1, busVoltageV: 5 });
    expect((await sensor.read()).conversionReady).toBe(true);
    expect((await sensor.read()).conversionReady).toBe(false);
    chip.convert();
    expect((await sensor.read()).conversionReady).toBe(true);
  });

  it('flags overflow when the current exceeds the PGA range', async () => {
    const bus = new FakeIna219Bus();
    const chip = bus.addChip(0x40, 0.1);
    const sensor = await Ina219.open(bus, { ...options, pga: 1, maxCurrentA: 0.4 });
    chip.measure({ currentA: 0.3, busVoltageV: 5 });
    expect((await sensor.read()).overflow).toBe(false);
    chip.measure({ currentA: 0.6, busVoltageV: 5 }); // 60 mV across the shunt, range ±40 mV
    const reading = await sensor.read();
    expect(reading.overflow).toBe(true);
    expect(reading.shuntVoltageUV).toBe(40_000);
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
    const bus = new FakeIna219Bus();
    const chip = bus.addChip(0x40, 0.1);
    const sensor = await Ina219.open(bus, options);
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
