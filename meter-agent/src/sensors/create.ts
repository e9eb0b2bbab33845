import type { Clock } from '../clock.js';
import { type AgentConfig, effectivePga, type SensorConfig } from '../config.js';
import type { SysfsFiles } from '../hardware/gpio-sysfs.js';
import { type I2cBus, openI2cBus } from '../hardware/i2c.js';
import { Ina219 } from '../hardware/ina219.js';
import { FakeRelay, type GpioRelayOptions, openGpioRelayOff, type Relay } from '../hardware/relay.js';
import type { PowerSensor } from '../power-sensor.js';
import {
  constantProfile,
  loadTrace,
  type Profile,
  randomWalkProfile,
  replayProfile,
  SimulatedSensor,
  solarProfile,
} from './simulated.js';

type SimulatedConfig = Extract<SensorConfig, { kind: 'simulated' }>;

/** Replayed traces start at UTC midnight, so every restart replays the same point at the same time. */
function profileOf(s: SimulatedConfig, clock: Clock): Profile {
  const p = s.profile;
  switch (p.type) {
    case 'constant':
      return constantProfile(p.busVoltageMV, p.currentMA);
    case 'solar':
      return solarProfile(p);
    case 'random-walk':
      return randomWalkProfile(p);
    case 'replay': {
      const midnight = Math.floor(clock.nowMs() / 86_400_000) * 86_400_000;
      return replayProfile(loadTrace(p.file), midnight, p.loop);
    }
  }
}

export function createSimulatedSensor(s: SimulatedConfig, clock: Clock): PowerSensor {
  return new SimulatedSensor(s.name, profileOf(s, clock), clock, `simulated ${s.profile.type}`);
}

export interface SensorSet {
  sensors: PowerSensor[];
  close(): Promise<void>;
}

/**
 * Opens every configured sensor. INA219s on the same bus share one bus handle. `openBus` is where
 * tests put a fake bus.
 */
export async function createSensors(
  config: AgentConfig,
  clock: Clock,
  openBus: (busNumber: number) => Promise<I2cBus> = openI2cBus,
): Promise<SensorSet> {
  const buses = new Map<number, I2cBus>();
  const closeAll = async () => {
    for (const bus of buses.values()) await bus.close().catch(() => undefined);
  };
  const sensors: PowerSensor[] = [];
  try {
    for (const s of config.sensors) {
      if (s.kind === 'simulated') {
        sensors.push(createSimulatedSensor(s, clock));
        continue;
      }
      let bus = buses.get(s.bus);
      if (!bus) {
        bus = await openBus(s.bus);
        buses.set(s.bus, bus);
      }
      sensors.push(
        await Ina219.open(bus, {
          name: s.name,
          address: s.address,
          shuntOhms: s.shuntOhms,
          maxCurrentA: s.maxCurrentA,
          busRangeV: s.busRangeV,
          pga: effectivePga(s),
          busAdc: s.busAdc,
          shuntAdc: s.shuntAdc,
          ...(s.calibration !== undefined ? { calibration: s.calibration } : {}),
        }),
      );
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  return { sensors, close: closeAll };
}

/** The relay's GPIO options from the config (also for `meter-agent relay-off`). */
export function gpioRelayOptions(config: AgentConfig, files?: SysfsFiles): GpioRelayOptions | undefined {
  const relay = config.prepaid.relay;
  if (relay?.kind !== 'gpio') return undefined;
  return {
    line: relay.bcm !== undefined ? { bcm: relay.bcm } : { pin: relay.pin! },
    activeLow: relay.activeLow,
    gpioRoot: relay.gpioRoot,
    ...(files ? { files } : {}),
  };
}

/** The prepaid relay, when prepaid delivery is enabled: a GPIO relay is physically off once this returns. */
export async function createRelay(config: AgentConfig, files?: SysfsFiles): Promise<Relay | undefined> {
  if (!config.prepaid.enabled || !config.prepaid.relay) return undefined;
  const gpio = gpioRelayOptions(config, files);
  return gpio ? openGpioRelayOff(gpio) : new FakeRelay();
}
