import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type AgentConfigInput,
  effectivePga,
  gapThresholdMs,
  loadConfig,
  parseConfig,
  resolveToken,
} from './config.js';

const PRODUCER = 'watt1qrufrjnxwx28lgd2wxnqdncq9gqd2689k5tu6zw8a0gndpp2rq6wuqvys9y';

function base(extra: Record<string, unknown> = {}): AgentConfigInput {
  return {
    meterId: 'm1',
    role: 'consumer',
    parties: { consumer: 'house-12', producer: PRODUCER },
    sensors: [{ name: 'load', kind: 'ina219', address: '0x41', shuntOhms: 0.1, maxCurrentA: 3.2 }],
    price: { unitsPerWh: '0.25' },
    walletService: { url: 'http://127.0.0.1:8480' },
    dataDir: '/tmp/x',
    ...extra,
  } as AgentConfigInput;
}

function errorOf(raw: unknown): string {
  try {
    parseConfig(raw, 'agent.json');
  } catch (error) {
    return (error as Error).message;
  }
  return 'valid';
}

describe('config', () => {
  it('fills defaults: 1 s samples, hourly periods, carry, gap threshold 3 × interval', () => {
    const c = parseConfig(base());
    expect(c.sampleIntervalMs).toBe(1000);
    expect(c.period).toEqual({ seconds: 3600 });
    expect(c.pricing).toBe('carry');
    expect(gapThresholdMs(c)).toBe(3000);
    const sensor = c.sensors[0]!;
    expect(sensor.kind === 'ina219' && sensor.address).toBe(0x41);
    expect(sensor.kind === 'ina219' && effectivePga(sensor)).toBe(8);
    expect(c.prepaid.enabled).toBe(false);
    expect(c.payments.backoffCapMs).toBe(300_000);
    expect(parseConfig(c)).toEqual(c); // validating twice changes nothing
  });

  it('accepts the shipped example', async () => {
    const file = new URL('../config.example.json', import.meta.url).pathname;
    const c = await loadConfig(file);
    expect(c.role).toBe('consumer');
    expect(c.walletService?.url).toBe('http://127.0.0.1:8480');
    expect(c.sensors.every((s) => s.kind === 'simulated')).toBe(true);
  });

  it.each([
    [
      { sensors: [{ name: 'load', kind: 'ina219', address: 0x30, shuntOhms: 0.1, maxCurrentA: 1 }] },
      /^agent\.json: sensors\.0\.address: an INA219 address from 0x40/,
    ],
    [
      { sensors: [{ name: 'load', kind: 'ina219', shuntOhms: 0.01, maxCurrentA: 0.05 }] },
      /^agent\.json: sensors\.0\.maxCurrentA: calibration \d+ exceeds 0xFFFE/,
    ],
    [
      { sensors: [{ name: 'load', kind: 'ina219', shuntOhms: 0.1, maxCurrentA: 1, pga: 2 }] },
      /sensors\.0\.pga: .*100\.0 mV, beyond the ±80 mV of PGA \/2: use pga 4/,
    ],
    [
      { sensors: [{ name: 'load', kind: 'ina219', shuntOhms: 0.1, maxCurrentA: 4 }] },
      /sensors\.0\.maxCurrentA: .*beyond the INA219's ±320 mV/,
    ],
    [
      { sensors: [{ name: 'load', kind: 'thermo' }] },
      /sensors\.0\.kind: a sensor with kind "ina219" or "simulated"/,
    ],
    [{ price: { unitsPerWh: 0.25 } }, /price: \{"unitsPerWh": "<decimal>"\} or/],
    [{ price: { unitsPerWh: '1e3' } }, /price\.unitsPerWh: a non-negative decimal string/],
    [{ period: { cron: 'every hour' } }, /period\.cron: a node-cron expression/],
    [{ pricing: 'round' }, /pricing: "carry" \(fractions carry over\) or "truncate"/],
    [{ role: 'consumer', walletService: undefined }, /walletService: required for role "consumer"/],
    [
      { parties: { consumer: 'a', producer: 'bob' } },
      /parties\.producer: the bech32 address the consumer pays/,
    ],
    [{ meteredSensor: 'panel' }, /meteredSensor: one of the sensor names \(load\)/],
    [{ colour: 'blue' }, /^agent\.json: colour: not a known key/],
    [{ prepaid: { enabled: true } }, /prepaid\.relay: required when prepaid is enabled/],
    [
      { prepaid: { enabled: true, relay: { kind: 'gpio' } } },
      /prepaid\.relay\.bcm: the BCM GPIO number \(e\.g\. 17\), or instead pin with the sysfs number: one of the two/,
    ],
    [
      { prepaid: { enabled: true, relay: { kind: 'gpio', bcm: 17, pin: 529 } } },
      /prepaid\.relay\.bcm: .*one of the two/,
    ],
    [
      { prepaid: { enabled: true, relay: { kind: 'gpio', bcm: 60 } } },
      /prepaid\.relay\.bcm: a header GPIO, BCM 0–27/,
    ],
    [{ clock: { speed: 10, epochMs: 1 } }, /clock\.speed: 1 with an ina219 sensor/],
    [{ sampleIntervalMs: 1000, period: { seconds: 1 } }, /period\.seconds: at least two sample intervals/],
    [
      { period: { seconds: 60, offsetSeconds: 60 } },
      /period\.offsetSeconds: a whole number of seconds from 0 to 59 \(less than the period\)/,
    ],
    [{ period: { seconds: 60, offsetSeconds: -1 } }, /period\.offsetSeconds/],
    [{ market: {} }, /prepaid\.enabled: true with market: trades are delivered through the relay/],
    [
      { role: 'producer', market: {}, prepaid: { enabled: true, relay: { kind: 'simulated' } } },
      /market: only for role "consumer"/,
    ],
    [{ market: { pollSeconds: 0 } }, /market\.pollSeconds: /],
    [
      { sampleIntervalMs: 100 },
      /^agent\.json: sampleIntervalMs: at least 137 ms for sensor "load" \(busAdc avg128 \+ shuntAdc avg128 convert in 136\.20 ms\)/,
    ],
  ])('refuses %j with one line naming the key', (extra, message) => {
    const text = errorOf(base(extra));
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });

  it('accepts a sample interval as short as the configured ADC modes convert', () => {
    expect(parseConfig(base({ sampleIntervalMs: 137 })).sampleIntervalMs).toBe(137);
    const fast = {
      name: 'load',
      kind: 'ina219',
      shuntOhms: 0.1,
      maxCurrentA: 3.2,
      busAdc: '12bit',
      shuntAdc: '12bit',
    };
    expect(parseConfig(base({ sensors: [fast], sampleIntervalMs: 50 })).sampleIntervalMs).toBe(50);
  });

  it('accepts the Pi template the install script puts in /etc/tanglewatt, with its data under /var/lib', async () => {
    const file = new URL('../../deploy/pi/meter-agent.pi.json', import.meta.url).pathname;
    const c = await loadConfig(file);
    expect(c.dataDir).toBe('/var/lib/tanglewatt/meter-agent');
    expect(c.sensors[0]).toMatchObject({ kind: 'ina219', address: 0x40 });
    expect(c.durability).toEqual({ everySeconds: 60 });
  });

  it('meters a simulated load when no sensors are configured (never instead of a configured INA219)', () => {
    const c = parseConfig(base({ sensors: undefined }));
    expect(c.sensors).toEqual([expect.objectContaining({ name: 'load', kind: 'simulated' })]);
  });

  it('accepts a cron period and a producer without a wallet-service', () => {
    const c = parseConfig(
      base({
        role: 'producer',
        walletService: undefined,
        period: { cron: '*/15 * * * *' },
        parties: { consumer: 'a', producer: 'b' },
      }),
    );
    expect(c.period).toEqual({ cron: '*/15 * * * *' });
  });

  it('resolves relative paths against the config file, and reads the token from env or a 0600 file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meter-config-'));
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'file-token\n');
    await chmod(tokenFile, 0o644);
    const file = join(dir, 'agent.json');
    await writeFile(
      file,
      JSON.stringify(
        base({ dataDir: 'data', walletService: { url: 'http://127.0.0.1:8480', tokenFile: 'token' } }),
      ),
    );
    const c = await loadConfig(file);
    expect(c.dataDir).toBe(join(dir, 'data'));
    await expect(resolveToken(c, {})).rejects.toThrow(/readable by others \(mode 644\): chmod 600/);
    await chmod(tokenFile, 0o600);
    expect(await resolveToken(c, {})).toBe('file-token');
    expect(await resolveToken(c, { METER_AGENT_TOKEN: 'env-token' })).toBe('env-token');
    expect(await readFile(file, 'utf8')).not.toContain('file-token');
  });

  it('reports unreadable and malformed files in one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meter-config-'));
    await expect(loadConfig(join(dir, 'missing.json'))).rejects.toThrow(
      /missing\.json: \(file\): cannot be read/,
    );
    await writeFile(join(dir, 'bad.json'), '{ "meterId": ');
    await expect(loadConfig(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json: \(file\): not valid JSON/);
  });
});
