import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import cron from 'node-cron';
import { z } from 'zod';
import { checkSensors, DEFAULT_SENSORS, sensor, sensorName } from './config-sensors.js';
import { resolveTariff, tariffConfigSchema } from './config-tariff.js';
import { AgentConfigError, errorMessage, MeterAgentError } from './errors.js';
import { isDecimal } from './money/rational.js';

const decimal = z
  .string()
  .refine(isDecimal, 'a non-negative decimal string with up to 18 fraction digits, e.g. "12" or "0.25"');

const BECH32 = /^[a-z]{1,83}1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{6,}$/;

const relay = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('gpio'),
      /** The BCM GPIO number on the 40-pin header (GPIO17 is pin 11); found on every Pi model's header chip. */
      bcm: z.number().int().min(0).max(57, 'a header GPIO, BCM 0–27').optional(),
      /** The kernel's sysfs number, for boards other than a Raspberry Pi; either bcm or pin. */
      pin: z.number().int().min(0).max(4095).optional(),
      activeLow: z.boolean().default(false),
      /** The kernel's GPIO sysfs directory (a fixture tree in tests). */
      gpioRoot: z.string().min(1).default('/sys/class/gpio'),
    }),
    z.strictObject({ kind: z.literal('simulated') }),
  ],
  { error: 'a relay with kind "gpio" (and bcm) or "simulated"' },
);

const x25519Hex = z
  .string()
  .regex(/^(0x)?[0-9a-fA-F]{64}$/, 'an X25519 public key as 64 hex digits')
  .transform((k) => k.toLowerCase().replace(/^0x/, ''));

/** Publishing the readings on the meter's channel (tagged-data blocks; off unless set). */
const channel = z.strictObject({
  /** The node the messages are posted to (HORNET's REST API). */
  nodeUrl: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL of a node' }),
  mode: z
    .enum(['public', 'restricted'], {
      error: '"restricted" (readable by the readers named) or "public" (readable by anyone)',
    })
    .default('restricted'),
  /** Restricted mode: X25519 public keys (hex) of who may read; at most 255. */
  readers: z.array(x25519Hex).max(255, 'at most 255 readers').default([]),
  /** Seconds between messages (the readings of a period end with its last message in any case). */
  batchSeconds: z.number().int().min(1).max(3600).default(60),
  /** The meter's Ed25519 signing key (hex, mode 0600); made on first start. Default <dataDir>/channel/signing.key. */
  keyFile: z.string().min(1).optional(),
  /** The meter's DID listing that key (see channels/README.md), named in each payment for verifiers. */
  did: z
    .strictObject({
      id: z
        .string()
        .regex(/^did:iota:([a-z0-9]{1,6}:)?0x[0-9a-f]{64}$/, 'an IOTA DID, e.g. did:iota:tst:0x…'),
      /** The output that created the DID's alias: readers resolve the DID without an indexer from it. */
      originOutputId: z.string().regex(/^0x[0-9a-f]{68}$/, 'an output id: 0x and 68 hex digits'),
    })
    .optional(),
});

export const configSchema = z
  .strictObject({
    /** Names the meter in period ids and payment keys. */
    meterId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, '1 to 64 letters, digits, ".", "_" or "-"'),
    role: z.enum(['consumer', 'producer'], {
      error: '"consumer" (pays its producer) or "producer" (records)',
    }),
    parties: z.strictObject({
      consumer: z.string().min(1).max(100),
      producer: z.string().min(1).max(100),
    }),
    /** Without sensors the agent meters a simulated load: what a machine without I²C gets by default. */
    sensors: z.array(sensor).min(1, 'at least one sensor').max(16).prefault(DEFAULT_SENSORS),
    /** The sensor whose power is billed; the first sensor if not given. */
    meteredSensor: sensorName.optional(),
    sampleIntervalMs: z.number().int().min(50).max(60_000).default(1000),
    /** Longer gaps between valid samples are recorded and not integrated across; default 3 × interval. */
    gapThresholdMs: z.number().int().positive().optional(),
    period: z
      .union(
        [
          z.strictObject({
            seconds: z
              .number()
              .int()
              .min(1)
              .max(31 * 86_400),
            /** Boundaries this many seconds after the epoch's multiples of the length (less than it). */
            offsetSeconds: z.number().int().min(0).optional(),
          }),
          z.strictObject({
            cron: z.string().refine((c) => cron.validate(c), 'a node-cron expression, e.g. "0 * * * *"'),
          }),
        ],
        { error: '{"seconds": 3600} or {"cron": "0 * * * *"}' },
      )
      .default({ seconds: 3600 }),
    price: z.union([z.strictObject({ unitsPerWh: decimal }), z.strictObject({ unitsPerMWs: decimal })], {
      error: '{"unitsPerWh": "<decimal>"} or {"unitsPerMWs": "<decimal>"} (base units, as a string)',
    }),
    pricing: z
      .enum(['carry', 'truncate'], { error: '"carry" (fractions carry over) or "truncate" (dropped)' })
      .default('carry'),
    walletService: z
      .strictObject({
        url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
        /** Prefer METER_AGENT_TOKEN or tokenFile: a token here lives in a file people share. */
        token: z.string().min(1).optional(),
        /** A file holding the token; must not be readable by group or others (chmod 600). */
        tokenFile: z.string().min(1).optional(),
        timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
      })
      .optional(),
    payments: z
      .strictObject({
        backoffBaseMs: z.number().int().min(10).max(600_000).default(1000),
        backoffCapMs: z.number().int().min(100).max(3_600_000).default(300_000),
      })
      .prefault({}),
    dataDir: z.string().min(1).default('/var/lib/tanglewatt/meter-agent'),
    /**
     * When samples reach the disk: "every-sample" (an fdatasync per sample) or {"everySeconds": N} (one
     * grouped write and fdatasync at most every N s; a power cut loses at most the last N s of samples).
     * Periods, payments and purchases are synced when recorded either way.
     */
    durability: z
      .union(
        [z.literal('every-sample'), z.strictObject({ everySeconds: z.number().int().min(1).max(3600) })],
        { error: '"every-sample" or {"everySeconds": N} with N from 1 to 3600' },
      )
      .default({ everySeconds: 60 }),
    /** Days of sample files kept; period records are kept regardless. */
    retentionDays: z.number().int().min(1).max(3650).default(14),
    prepaid: z
      .strictObject({
        enabled: z.boolean().default(false),
        relay: relay.optional(),
      })
      .prefault({}),
    /** The read-only HTTP API for the dashboard (GET /status, /periods, /events); off unless set. */
    http: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(8490),
        /** Browser origins allowed to read it, e.g. the dashboard's "http://127.0.0.1:5173". */
        corsOrigins: z.array(z.string().min(1)).default([]),
        /** Host names answered besides localhost, 127.0.0.1, [::1] and `host` with the port: "name" or "name:port". */
        allowedHosts: z.array(z.string().min(1).max(260)).default([]),
      })
      .optional(),
    channel: channel.optional(),
    /** Prices each period slot by slot under a tariff, paying operator and grid fees in the same transaction. */
    tariff: tariffConfigSchema.optional(),
    /**
     * Runs this household's market trades (it is the buyer): prepaid delivery of the traded energy inside
     * the trade's window, paid to the seller at the trade's price through the wallet-service.
     */
    market: z
      .strictObject({
        /** How often the wallet-service's book is read for new trades. */
        pollSeconds: z.number().int().min(1).max(3600).default(5),
        /** Acknowledge each trade on the market when taking it. */
        ack: z.boolean().default(true),
        /** The household's market identity (its DID, if it trades as one); default parties.consumer. */
        identity: z.string().min(1).max(128).optional(),
      })
      .optional(),
    /** For simulations and tests only: time runs `speed` times faster, anchored at epochMs. */
    clock: z
      .strictObject({
        speed: z.number().min(1).max(1000).default(1),
        epochMs: z.number().int().positive().optional(),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message, input: c });
    const names = checkSensors(c, issue);
    if (c.meteredSensor !== undefined && !names.has(c.meteredSensor))
      issue(['meteredSensor'], `one of the sensor names (${[...names].join(', ')})`);
    if (c.gapThresholdMs !== undefined && c.gapThresholdMs < c.sampleIntervalMs)
      issue(['gapThresholdMs'], `at least sampleIntervalMs (${c.sampleIntervalMs})`);
    if ('seconds' in c.period && (c.period.offsetSeconds ?? 0) >= c.period.seconds)
      issue(
        ['period', 'offsetSeconds'],
        `a whole number of seconds from 0 to ${c.period.seconds - 1} (less than the period)`,
      );
    if ('seconds' in c.period && c.period.seconds * 1000 < 2 * c.sampleIntervalMs)
      issue(['period', 'seconds'], `at least two sample intervals (${(2 * c.sampleIntervalMs) / 1000} s)`);
    if (c.parties.consumer === c.parties.producer)
      issue(['parties', 'producer'], 'a party other than the consumer');
    if (c.role === 'consumer') {
      if (!c.walletService)
        issue(['walletService'], 'required for role "consumer": {"url": "http://127.0.0.1:8480"}');
      if (!BECH32.test(c.parties.producer))
        issue(['parties', 'producer'], 'the bech32 address the consumer pays, e.g. "watt1q…"');
    }
    if (c.walletService?.token && c.walletService.tokenFile)
      issue(['walletService', 'tokenFile'], 'either token or tokenFile, not both');
    if (c.prepaid.enabled && !c.prepaid.relay)
      issue(
        ['prepaid', 'relay'],
        'required when prepaid is enabled: {"kind": "gpio", "bcm": 17} or {"kind": "simulated"}',
      );
    const gpio = c.prepaid.relay?.kind === 'gpio' ? c.prepaid.relay : undefined;
    if (gpio && (gpio.bcm === undefined) === (gpio.pin === undefined))
      issue(
        ['prepaid', 'relay', 'bcm'],
        'the BCM GPIO number (e.g. 17), or instead pin with the sysfs number: one of the two',
      );
    if (c.market) {
      if (c.role !== 'consumer') issue(['market'], 'only for role "consumer": the buyer runs its trades');
      if (!c.prepaid.enabled)
        issue(['prepaid', 'enabled'], 'true with market: trades are delivered through the relay');
      if (c.clock.speed > 1)
        issue(['clock', 'speed'], "1 with market: trade windows are in the network's time");
    }
    if (c.tariff && c.market)
      issue(['tariff'], 'not with market: traded energy is paid per trade at the trade’s price');
    if (c.channel?.mode === 'restricted' && c.channel.readers.length === 0)
      issue(
        ['channel', 'readers'],
        'at least one X25519 public key (64 hex digits) for a restricted channel, or mode "public"',
      );
    if (c.channel?.mode === 'public' && c.channel.readers.length > 0)
      issue(
        ['channel', 'readers'],
        'a public channel has no readers: leave readers out or use mode "restricted"',
      );
    if (c.channel && new Set(c.channel.readers).size !== c.channel.readers.length)
      issue(['channel', 'readers'], 'each reader key once');
    if (c.clock.speed > 1 && c.clock.epochMs === undefined)
      issue(
        ['clock', 'epochMs'],
        'required when speed > 1, so restarts agree on the time (ms since the epoch)',
      );
  });

export type AgentConfigInput = z.input<typeof configSchema>;
export type AgentConfig = z.output<typeof configSchema>;
export type SensorConfig = AgentConfig['sensors'][number];
export type ChannelConfig = NonNullable<AgentConfig['channel']>;
/** A channel config with its key file resolved (parseConfig does this). */
export type ResolvedChannelConfig = ChannelConfig & { keyFile: string };
export type Ina219SensorConfig = Extract<SensorConfig, { kind: 'ina219' }>;
export { DEFAULT_SENSORS, effectivePga } from './config-sensors.js';

export function meteredSensorName(config: AgentConfig): string {
  return config.meteredSensor ?? config.sensors[0]!.name;
}

export function gapThresholdMs(config: AgentConfig): number {
  return config.gapThresholdMs ?? 3 * config.sampleIntervalMs;
}

function firstIssue(file: string, error: z.ZodError): AgentConfigError {
  const issue = error.issues[0];
  if (!issue) return new AgentConfigError(file, '(root)', 'invalid');
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '?';
    return new AgentConfigError(file, [...path, key].join('.'), 'not a known key (check its spelling)');
  }
  return new AgentConfigError(file, path.length ? path.join('.') : '(root)', issue.message);
}

/** Validates a config object; relative paths in it are taken relative to `baseDir`. */
export function parseConfig(raw: unknown, source = 'config', baseDir = process.cwd()): AgentConfig {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw firstIssue(source, parsed.error);
  const config = parsed.data;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    ...config,
    dataDir: abs(config.dataDir),
    sensors: config.sensors.map((s) =>
      s.kind === 'simulated' && s.profile.type === 'replay'
        ? { ...s, profile: { ...s.profile, file: abs(s.profile.file) } }
        : s,
    ),
    ...(config.tariff ? { tariff: resolveTariff(config.tariff, source, abs) } : {}),
    ...(config.walletService?.tokenFile
      ? { walletService: { ...config.walletService, tokenFile: abs(config.walletService.tokenFile) } }
      : {}),
    ...(config.channel
      ? {
          channel: {
            ...config.channel,
            keyFile: config.channel.keyFile
              ? abs(config.channel.keyFile)
              : join(abs(config.dataDir), 'channel', 'signing.key'),
          },
        }
      : {}),
  };
}

/** Reads and validates a config file. Writes nothing, so a bad config leaves no trace. */
export async function loadConfig(file: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new AgentConfigError(file, '(file)', 'cannot be read: give an existing JSON config file');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new AgentConfigError(file, '(file)', `not valid JSON (${errorMessage(error)})`);
  }
  return parseConfig(raw, file, dirname(resolve(file)));
}

/**
 * The wallet-service token: METER_AGENT_TOKEN, else walletService.tokenFile (which must be chmod 600),
 * else walletService.token. Undefined when none is set.
 */
export async function resolveToken(
  config: AgentConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (env.METER_AGENT_TOKEN) return env.METER_AGENT_TOKEN;
  const file = config.walletService?.tokenFile;
  if (file) {
    let mode: number;
    try {
      mode = (await stat(file)).mode;
    } catch {
      throw new MeterAgentError('TOKEN_UNREADABLE', `walletService.tokenFile: ${file} cannot be read`);
    }
    if (mode & 0o077)
      throw new MeterAgentError(
        'TOKEN_UNREADABLE',
        `walletService.tokenFile: ${file} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 ${file}`,
      );
    const token = (await readFile(file, 'utf8')).trim();
    if (!token) throw new MeterAgentError('TOKEN_UNREADABLE', `walletService.tokenFile: ${file} is empty`);
    return token;
  }
  return config.walletService?.token;
}
