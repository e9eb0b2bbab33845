import type { AgentConfigInput } from '@tanglewatt/meter-agent';

type SensorInput = NonNullable<AgentConfigInput['sensors']>[number];

/**
 * The demo producer's panel: a solar curve on the machine's own clock (noon is noon where the demo runs)
 * over a 600 mA battery, so it delivers at any hour and the consumer never pays a meter that reads 0 W.
 * For a realistic day (nothing at night) leave out baseCurrentMA and set utcOffsetHours to the site's.
 */
export const DEMO_PRODUCER_SENSOR = {
  name: 'panel',
  kind: 'simulated',
  profile: {
    type: 'solar',
    busVoltageMV: 18_000,
    peakCurrentMA: 2_500,
    sunriseHour: 6,
    sunsetHour: 20,
    utcOffsetHours: 'local',
    baseCurrentMA: 600,
  },
} as const satisfies SensorInput;

/** The demo consumer's load: a random walk between 50 mA and 1.5 A at 12 V. */
export const DEMO_CONSUMER_SENSOR = {
  name: 'load',
  kind: 'simulated',
  profile: {
    type: 'random-walk',
    seed: 12,
    busVoltageMV: 12_000,
    startMA: 400,
    minMA: 50,
    maxMA: 1_500,
    stepMA: 40,
  },
} as const satisfies SensorInput;
