import type { Clock } from '../clock.js';
import { type AgentConfig, effectivePga, type SensorConfig } from '../config.js';
import { type I2cBus, openI2cBus } from '../hardware/i2c.js';
import { Ina219 } from '../hardware/ina219.js';
import { FakeRelay, GpioRelay, type Relay } from '../hardware/relay.js';
import {
  constantProfile,
  loadTrace,
  type Profile,
  randomWalkProfile,
  replayProfile,
  SimulatedSensor,
  solarProfile,
} from './simulated.js';
import type { PowerSensor } from './types.js';

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

/** The prepaid relay, when prepaid delivery is enabled. */
export function createRelay(config: AgentConfig): Relay | undefined {
  const relay = config.prepaid.enabled ? config.prepaid.relay : undefined;
  if (!relay) return undefined;
  return relay.kind === 'simulated' ? new FakeRelay() : GpioRelay.open(relay);
}
