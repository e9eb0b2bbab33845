import { describe, expect, it } from 'vitest';
import { MeterAgentError } from '../errors.js';
import { openI2cBus } from './i2c.js';
import { FakeRelay, GpioRelay } from './relay.js';

// These run on the build machine, which has no I²C bus and no GPIO: they check the errors people see.
const onPi = process.arch === 'arm64' || process.arch === 'arm';

describe.skipIf(onPi)('hardware on a machine without it', () => {
  it('says what to do when there is no I²C bus', async () => {
    const error = await openI2cBus(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeterAgentError);
    expect((error as MeterAgentError).code).toBe('NO_I2C');
    expect((error as Error).message).toMatch(/use sensor\.kind "simulated"/);
    expect((error as Error).message).not.toContain('\n');
  });

  it('says what to do when there is no GPIO', async () => {
    const error = await GpioRelay.open({ line: { bcm: 17 }, activeLow: false }).catch((e: unknown) => e);
    expect((error as MeterAgentError).code).toBe('NO_GPIO');
    expect((error as Error).message).toMatch(/use prepaid\.relay\.kind "simulated"/);
  });
});

describe('FakeRelay', () => {
  it('records switches and can fail once', async () => {
    const relay = new FakeRelay();
    await relay.set(true);
    await relay.set(true);
    await relay.set(false);
    expect(relay.switches).toEqual([true, false]);
    relay.failNext = true;
    await expect(relay.set(true)).rejects.toThrow(/GPIO/);
    expect(relay.isOn).toBe(false);
  });
});
