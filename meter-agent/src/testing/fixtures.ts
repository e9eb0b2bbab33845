// Test support: the household, loads and config the meter-agent's tests start from, written once.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentConfigInput } from '../config.js';
import { FakeIna219Bus } from '../hardware/fake-ina219-bus.js';
import { Ina219, type Ina219Options } from '../hardware/ina219.js';

export const PRODUCER = 'watt1qrufrjnxwx28lgd2wxnqdncq9gqd2689k5tu6zw8a0gndpp2rq6wuqvys9y';
export const CONSUMER = 'watt1qqpaqqxnul7x7cxf9x9dez6zlahpxr3ufqhsvcnsz7ex7qqrtjwp6qllr6x';

/** Noon UTC on 1 June 2024: where the manual-clock tests start. */
export const T0 = Date.UTC(2024, 5, 1, 12, 0, 0);

/** A wallet-service nobody listens on: tests that start agents in-process pass a fake client instead. */
export const UNUSED_WALLET_SERVICE = { url: 'http://127.0.0.1:8480', token: 'test-token-not-real' };

export type SensorInput = NonNullable<AgentConfigInput['sensors']>[number];
type RandomWalk = Extract<Extract<SensorInput, { kind: 'simulated' }>['profile'], { type: 'random-walk' }>;

/** A simulated sensor drawing a steady current at a steady voltage. */
export function constantLoad(busVoltageMV: number, currentMA: number, name = 'load'): SensorInput {
  return { name, kind: 'simulated', profile: { type: 'constant', busVoltageMV, currentMA } };
}

/** A simulated sensor whose current wanders, repeatably for its seed. */
export function wanderingLoad(walk: Omit<RandomWalk, 'type'>, name = 'load'): SensorInput {
  return { name, kind: 'simulated', profile: { type: 'random-walk', ...walk } };
}

/**
 * House 12, a consumer paying its producer for a 1 W load (5 V × 200 mA) in 60 s periods at 3600 units
 * per Wh, so a full period costs exactly 60 units; `extra` replaces whole keys.
 */
export function agentConfig(dataDir: string, extra: Partial<AgentConfigInput> = {}): AgentConfigInput {
  return {
    meterId: 'house-12',
    role: 'consumer',
    parties: { consumer: CONSUMER, producer: PRODUCER },
    sensors: [constantLoad(5000, 200)],
    period: { seconds: 60 },
    price: { unitsPerWh: '3600' },
    walletService: UNUSED_WALLET_SERVICE,
    dataDir,
    ...extra,
  };
}

/** A fresh directory under the system's temp dir. */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A data dir that does not exist yet, in a fresh temp dir: the agent makes it. */
export async function freshDataDir(prefix: string): Promise<string> {
  return join(await tempDir(prefix), 'data');
}

/** Writes `config` to <dir>/agent.json, for the real CLI's --config; returns the file's path. */
export async function writeConfigFile(dir: string, config: AgentConfigInput): Promise<string> {
  const file = join(dir, 'agent.json');
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

/** The INA219 of the datasheet example: 0.1 Ω shunt, 3.2 A, 32 V bus range, PGA /8, 12-bit ADCs. */
export const INA219_OPTIONS: Ina219Options = {
  name: 'load',
  address: 0x40,
  shuntOhms: 0.1,
  maxCurrentA: 3.2,
  busRangeV: 32,
  pga: 8,
  busAdc: '12bit',
  shuntAdc: '12bit',
};

/** An INA219 behind a 0.1 Ω shunt on a fake bus, opened with INA219_OPTIONS and `overrides`. */
export async function ina219OnFakeBus(overrides: Partial<Ina219Options> = {}) {
  const bus = new FakeIna219Bus();
  const chip = bus.addChip(0x40, 0.1);
  const sensor = await Ina219.open(bus, { ...INA219_OPTIONS, ...overrides });
  return { bus, chip, sensor };
}

/** GET `path` from the server at `url` with the given Host header (node:http, as fetch will not send a forged one). */
export function getWithHost(url: string, path: string, host: string, token?: string) {
  const { hostname, port } = new URL(url);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        path,
        headers: { host, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
