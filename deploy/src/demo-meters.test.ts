import { createSimulatedSensor, ManualClock, parseConfig } from '@tanglewatt/meter-agent';
import { describe, expect, it } from 'vitest';
import { DEMO_PRODUCER_SENSOR } from './demo-meters.js';

/** The demo producer's sensor as the agent builds it from its config, read at `wallMs`. */
async function powerAt(wallMs: number): Promise<number> {
  const config = parseConfig({
    meterId: 'producer-meter',
    role: 'producer',
    parties: { consumer: 'watt1consumer', producer: 'watt1producer' },
    sensors: [DEMO_PRODUCER_SENSOR],
    price: { unitsPerWh: '250' },
  });
  const [sensor] = config.sensors;
  if (sensor?.kind !== 'simulated') throw new Error('the demo producer has a simulated sensor');
  return (await createSimulatedSensor(sensor, new ManualClock(wallMs)).read()).powerUW;
}

describe('the demo producer', () => {
  it('delivers power at 02:00 UTC, in the dark in most zones', async () => {
    // 600 mA at 18 V: 10.8 W from the battery, plus whatever sun the machine's zone has then.
    expect(await powerAt(Date.UTC(2026, 11, 2, 2, 0, 0))).toBeGreaterThanOrEqual(10_800_000);
  });

  it('delivers power at every hour of the day, whatever zone the machine is in', async () => {
    for (let hour = 0; hour < 24; hour++)
      expect(await powerAt(Date.UTC(2026, 5, 21, hour, 30, 0)), `${hour}:30 UTC`).toBeGreaterThan(0);
  });
});
