// The meter the agent benchmarks run: a producer metering simulated random-walk sensors, paying no one.
import type { AgentConfigInput } from '@tanglewatt/meter-agent';

/** `count` simulated sensors between 0 and 2 A at 12 V, each on its own seed. */
export function simulatedSensors(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    name: `s${i}`,
    kind: 'simulated' as const,
    profile: {
      type: 'random-walk' as const,
      seed: i + 1,
      busVoltageMV: 12_000,
      startMA: 500,
      minMA: 0,
      maxMA: 2000,
      stepMA: 50,
    },
  }));
}

export function benchAgentConfig(options: {
  meterId: string;
  sensors: number;
  sampleIntervalMs: number;
  periodSeconds: number;
  dataDir: string;
}): AgentConfigInput {
  return {
    meterId: options.meterId,
    role: 'producer',
    parties: { consumer: 'bench-consumer', producer: 'bench-producer' },
    sensors: simulatedSensors(options.sensors),
    sampleIntervalMs: options.sampleIntervalMs,
    period: { seconds: options.periodSeconds },
    price: { unitsPerWh: '1' },
    dataDir: options.dataDir,
  };
}
