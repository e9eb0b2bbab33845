/**
 * The allocation config a community operator keeps: the community's generation meters, its members (each
 * with its own meter, the wallet address it pays from and its fixed key in percent of the generation), the
 * tariff (the agent's schedule format: a file or inline, one version or a list) and who is paid. Keys are
 * exact decimals and may add up to less than 100 %. Bad input is one INVALID_CONFIG line naming the field.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fromHex } from '@tanglewatt/channels';
import { isError } from '@tanglewatt/errors';
import { isBech32Address } from '@tanglewatt/ledger';
import {
  FEE_PAYEES,
  parseTariffHistory,
  type Rational,
  rational,
  type TariffHistory,
} from '@tanglewatt/tariff';
import { z } from 'zod';
import { BillError } from './errors.js';

const address = z.string().refine((a) => isBech32Address(a), 'a bech32 Ed25519 address such as "rms1q…"');
const meterId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, '1 to 64 letters, digits, ".", "_" or "-"');
const publicKey = z
  .string()
  .regex(/^[0-9a-f]{64}$/, "the meter's public signing key, 64 lowercase hex digits");
const percent = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,2})(\.[0-9]{1,18})?$/, 'a percentage as a decimal string such as "12.5"');

const meter = {
  /** Names the meter in statements and payment keys (the agent's meterId). */
  meterId,
  /** The meter's public signing key: its channel is the one this key opened. */
  publicKey,
  /** An X25519 reader key file (relative to the config) for a restricted channel. */
  readerKeyFile: z.string().min(1).optional(),
};

export const allocationConfigSchema = z.strictObject({
  /** A tariff file (relative to the config file), or the tariff inline: one version or a list of versions. */
  tariff: z.union([z.string().min(1), z.record(z.string(), z.unknown()), z.array(z.unknown())], {
    error: 'a tariff file path, a tariff object, or a list of tariff versions',
  }),
  /** Readings further apart than this are a gap, not bridged (the agents' gap threshold; 3 × 1 s). */
  gapMs: z.number().int().positive().max(86_400_000).default(3000),
  /** Who is paid: the generation's owner (producer), and the operator and grid when the tariff has fees. */
  payees: z.strictObject({ producer: address, operator: address.optional(), grid: address.optional() }),
  generation: z.array(z.strictObject(meter)).min(1, 'at least one generation meter'),
  members: z
    .array(
      z.strictObject({
        ...meter,
        /** The member's fixed share of the generation in each segment, percent. */
        keyPercent: percent,
        /** The member's wallet address: its allocation payment comes from there. */
        address,
      }),
    )
    .min(1, 'at least one member'),
});
export type AllocationConfigFile = z.input<typeof allocationConfigSchema>;

export interface AllocationMeter {
  meterId: string;
  publicKey: string;
  readerSecretKey?: Uint8Array;
}

export interface AllocationMemberConfig extends AllocationMeter {
  keyPercent: string;
  address: string;
}

export interface AllocationConfig {
  history: TariffHistory;
  gapMs: number;
  payees: { producer: string; operator?: string; grid?: string };
  generation: AllocationMeter[];
  members: AllocationMemberConfig[];
}

const invalid = (field: string, what: string): never => {
  throw new BillError('INVALID_CONFIG', `${field}: ${what}`);
};

function readTariff(schedule: unknown, baseDir: string): TariffHistory {
  let raw = schedule;
  if (typeof schedule === 'string') {
    const file = resolve(baseDir, schedule);
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      invalid('tariff', `${file} cannot be read: give a tariff JSON file`);
    }
    try {
      raw = JSON.parse(text);
    } catch {
      invalid('tariff', `${file} is not valid JSON`);
    }
  }
  try {
    return parseTariffHistory(Array.isArray(raw) ? raw : [raw]);
  } catch (error) {
    if (!isError(error, 'INVALID_TARIFF')) throw error;
    return invalid('tariff', (error as Error).message.split('\n')[0]!);
  }
}

function readerKey(file: string | undefined, baseDir: string, field: string): Uint8Array | undefined {
  if (file === undefined) return undefined;
  try {
    return fromHex(readFileSync(resolve(baseDir, file), 'utf8').trim(), 32, 'reader key');
  } catch {
    return invalid(field, 'a file holding an X25519 secret key, 64 hex digits');
  }
}

/** The config from its JSON; files it names are read relative to `configFile`'s directory. */
export function parseAllocationConfig(json: unknown, configFile = 'allocation.json'): AllocationConfig {
  const parsed = allocationConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    const name = field.replace(/^\./, '') || 'config';
    if (issue.code === 'unrecognized_keys')
      invalid(name, `unknown field(s): ${issue.keys.join(', ')} (check the spelling)`);
    invalid(name, issue.message);
  }
  const c = parsed.data!;
  const baseDir = dirname(configFile);
  const seen = new Map<string, string>();
  const all = [
    ...c.generation.map((m, i) => ({ m, field: `generation[${i}]` })),
    ...c.members.map((m, i) => ({ m, field: `members[${i}]` })),
  ];
  for (const { m, field } of all) {
    for (const [what, value] of [
      ['meterId', m.meterId],
      ['publicKey', m.publicKey],
    ] as const) {
      const other = seen.get(`${what}:${value}`);
      if (other) invalid(`${field}.${what}`, `also ${other}'s: each meter is named once`);
      seen.set(`${what}:${value}`, field);
    }
  }
  let keys: Rational = rational.ZERO;
  c.members.forEach((m, i) => {
    keys = rational.add(keys, rational.parseDecimal(m.keyPercent));
    if (rational.compare(keys, rational.rational(100n)) > 0)
      invalid(`members[${i}].keyPercent`, 'the keys add up to more than 100 %');
  });
  const history = readTariff(c.tariff, baseDir);
  for (const payee of FEE_PAYEES) {
    const charged = history.some((t) =>
      t.bands.some((b) => b.fees[payee].unitsPerWh.num > 0n || b.fees[payee].shareOfEnergy.num > 0n),
    );
    if (charged && !c.payees[payee])
      invalid(`payees.${payee}`, `required: the tariff has ${payee} fees, paid to this bech32 address`);
  }
  const meterOf = (m: (typeof c.generation)[number], field: string): AllocationMeter => {
    const key = readerKey(m.readerKeyFile, baseDir, `${field}.readerKeyFile`);
    return { meterId: m.meterId, publicKey: m.publicKey, ...(key ? { readerSecretKey: key } : {}) };
  };
  return {
    history,
    gapMs: c.gapMs,
    payees: c.payees,
    generation: c.generation.map((m, i) => meterOf(m, `generation[${i}]`)),
    members: c.members.map((m, i) => ({
      ...meterOf(m, `members[${i}]`),
      keyPercent: m.keyPercent,
      address: m.address,
    })),
  };
}
