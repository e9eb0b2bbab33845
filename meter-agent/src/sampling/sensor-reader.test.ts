import { describe, expect, it } from 'vitest';
import { ina219OnFakeBus } from '../testing/fixtures.js';
import { SensorReader } from './sensor-reader.js';

async function chipOnBus() {
  const { bus, chip, sensor } = await ina219OnFakeBus();
  chip.measure({ currentA: 1, busVoltageV: 12 });
  return { bus, chip, reader: new SensorReader(sensor) };
}

describe('SensorReader', () => {
  it('keeps a sensor busy after a timed-out read until its transfers finish, and starts nothing meanwhile', async () => {
    const { bus, chip, reader } = await chipOnBus();
    const release = bus.hold();
    const transfersBefore = bus.transfers;
    const first = await reader.read(20);
    expect(first.kind).toBe('failed');
    expect(String((first as { error: unknown }).error)).toMatch(/did not answer within 20 ms/);
    expect(reader.busy).toBe(true);
    expect(bus.transfers).toBe(transfersBefore + 1); // the first register read is stuck in the "kernel"

    expect(await reader.read(20)).toEqual({ kind: 'busy' });
    expect(await reader.read(20)).toEqual({ kind: 'busy' });
    expect(bus.transfers).toBe(transfersBefore + 1); // no second sequence on the chip
    expect(reader.stats).toMatchObject({ timeouts: 1, failures: 1, skippedReads: 2, reads: 0 });

    const logBefore = chip.log.length;
    release();
    await reader.settled();
    expect(reader.busy).toBe(false);
    // The abandoned read ran to its end as one sequence: calibration, bus, shunt, current, power.
    expect(chip.log.slice(logBefore).map((e) => e.register)).toEqual([5, 2, 1, 4, 3]);

    const next = await reader.read(1000);
    expect(next.kind).toBe('reading');
    expect(reader.stats).toMatchObject({ reads: 1, skippedReads: 2 });
  });

  it('counts over-range readings and read errors', async () => {
    const { chip, reader } = await chipOnBus();
    chip.measure({ currentA: 3.5, busVoltageV: 12 }); // 350 mV: beyond PGA /8
    const outcome = await reader.read(1000);
    expect(outcome.kind === 'reading' && outcome.reading.overflow).toBe(true);
    chip.failNextTransfers(1);
    expect((await reader.read(1000)).kind).toBe('failed');
    expect(reader.stats).toMatchObject({ reads: 1, overRange: 1, failures: 1, timeouts: 0 });
  });
});
