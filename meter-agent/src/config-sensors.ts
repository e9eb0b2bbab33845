/**
 * The agent's sensors: INA219 chips on I²C or simulated profiles, and the checks that span a sensor and the
 * rest of the config (sample interval against conversion time, real time for a real chip).
 */
import { z } from 'zod';
import { errorMessage } from './errors.js';
import {
  ADC_SETTINGS,
  computeCalibration,
  conversionTimeUs,
  type PgaGain,
  pgaFor,
  pgaHolds,
  pgaRangeUV,
} from './hardware/ina219-settings.js';

export const sensorName = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9_-]{0,31}$/,
    'a name of up to 32 letters, digits, _ or -, starting with a letter',
  );

const i2cAddress = z
  .union([z.number().int(), z.string().regex(/^0x[0-9a-fA-F]{1,2}$/)], {
    error: 'an INA219 address from 0x40 to 0x4F, as a number (64) or a string ("0x40")',
  })
  .transform((v) => (typeof v === 'number' ? v : Number.parseInt(v, 16)))
  .refine((v) => v >= 0x40 && v <= 0x4f, 'an INA219 address from 0x40 to 0x4F (64 to 79)');

const pga = z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8)], {
  error: 'a PGA gain of 1, 2, 4 or 8 (±40, 80, 160 or 320 mV across the shunt)',
});

const adc = z.enum(ADC_SETTINGS, {
  error: `one of ${ADC_SETTINGS.map((s) => `"${s}"`).join(', ')}`,
});

const ina219Sensor = z.strictObject({
  name: sensorName,
  kind: z.literal('ina219'),
  /** /dev/i2c-<bus>; 1 on every Raspberry Pi since the model B rev 2. */
  bus: z.number().int().min(0).max(31).default(1),
  address: i2cAddress.default(0x40),
  shuntOhms: z.number().positive().max(100),
  maxCurrentA: z.number().positive().max(1000),
  busRangeV: z.union([z.literal(16), z.literal(32)], { error: '16 or 32 (volts)' }).default(32),
  /** Defaults to the smallest gain that holds maxCurrentA × shuntOhms. */
  pga: pga.optional(),
  busAdc: adc.default('avg128'),
  shuntAdc: adc.default('avg128'),
  /** A calibration register value from `meter-agent calibrate --reported … --reference …`. */
  calibration: z.number().int().min(1).max(0xfffe).optional(),
});

const millivolts = z.number().min(0).max(60_000);

const profile = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('constant'), busVoltageMV: millivolts, currentMA: z.number() }),
    z.strictObject({
      type: z.literal('solar'),
      busVoltageMV: millivolts,
      peakCurrentMA: z.number().min(0),
      dayLengthS: z.number().positive().default(86_400),
      sunriseHour: z.number().min(0).max(24).default(6),
      sunsetHour: z.number().min(0).max(24).default(18),
      utcOffsetHours: z.union([z.number().min(-14).max(14), z.literal('local')]).default(0),
      /** Delivered at every hour on top of the panel (a battery, a base generator); 0 keeps nights dark. */
      baseCurrentMA: z.number().min(0).default(0),
    }),
    z.strictObject({
      type: z.literal('random-walk'),
      seed: z.number().int().default(1),
      busVoltageMV: millivolts,
      startMA: z.number(),
      minMA: z.number(),
      maxMA: z.number(),
      stepMA: z.number().min(0),
    }),
    z.strictObject({ type: z.literal('replay'), file: z.string().min(1), loop: z.boolean().default(true) }),
  ],
  { error: 'a profile with type "constant", "solar", "random-walk" or "replay"' },
);

const simulatedSensor = z.strictObject({ name: sensorName, kind: z.literal('simulated'), profile });

export const sensor = z.discriminatedUnion('kind', [ina219Sensor, simulatedSensor], {
  error: 'a sensor with kind "ina219" or "simulated"',
});

/** A load wandering between 0.1 and 2 A at 12 V; never chosen instead of a configured INA219. */
export const DEFAULT_SENSORS: z.input<typeof sensor>[] = [
  {
    name: 'load',
    kind: 'simulated',
    profile: {
      type: 'random-walk',
      seed: 1,
      busVoltageMV: 12_000,
      startMA: 500,
      minMA: 100,
      maxMA: 2000,
      stepMA: 50,
    },
  },
];

type SensorConfig = z.output<typeof sensor>;
type Ina219SensorConfig = Extract<SensorConfig, { kind: 'ina219' }>;

/** The gain used for a sensor: as configured, or the smallest that holds its maximum current. */
export function effectivePga(s: Ina219SensorConfig): PgaGain {
  return s.pga ?? pgaFor(s.maxCurrentA * s.shuntOhms * 1e6) ?? 8;
}

/** Reports each sensor problem through `issue`; returns the sensor names. */
export function checkSensors(
  c: { sensors: SensorConfig[]; sampleIntervalMs: number; clock: { speed: number } },
  issue: (path: (string | number)[], message: string) => void,
): Set<string> {
  const names = new Set<string>();
  const addresses = new Set<string>();
  for (const [i, s] of c.sensors.entries()) {
    if (names.has(s.name))
      issue(['sensors', i, 'name'], `"${s.name}" is used twice: each sensor needs its own name`);
    names.add(s.name);
    if (s.kind !== 'ina219') continue;
    const where = `${s.bus}/${s.address}`;
    if (addresses.has(where))
      issue(['sensors', i, 'address'], `two sensors at 0x${s.address.toString(16)} on bus ${s.bus}`);
    addresses.add(where);
    try {
      computeCalibration(s.shuntOhms, s.maxCurrentA);
    } catch (error) {
      issue(['sensors', i, 'maxCurrentA'], errorMessage(error));
    }
    const shuntUV = s.maxCurrentA * s.shuntOhms * 1e6;
    if (s.pga !== undefined && !pgaHolds(s.pga, shuntUV))
      issue(
        ['sensors', i, 'pga'],
        `maxCurrentA × shuntOhms is ${(shuntUV / 1000).toFixed(1)} mV, beyond the ±${pgaRangeUV(s.pga) / 1000} mV of PGA /${s.pga}: use pga ${pgaFor(shuntUV) ?? 8} or leave it out`,
      );
    if (pgaFor(shuntUV) === undefined)
      issue(
        ['sensors', i, 'maxCurrentA'],
        `maxCurrentA × shuntOhms is ${(shuntUV / 1000).toFixed(1)} mV, beyond the INA219's ±320 mV: use a smaller shunt`,
      );
    if (c.clock.speed > 1)
      issue(['clock', 'speed'], '1 with an ina219 sensor: a real meter runs in real time');
    // Reading faster than the chip converts only repeats the last conversion.
    const conversionMs = conversionTimeUs(s) / 1000;
    if (c.sampleIntervalMs < conversionMs)
      issue(
        ['sampleIntervalMs'],
        `at least ${Math.ceil(conversionMs)} ms for sensor "${s.name}" (busAdc ${s.busAdc} + shuntAdc ${s.shuntAdc} convert in ${conversionMs.toFixed(2)} ms), or faster ADC settings`,
      );
  }
  return names;
}
