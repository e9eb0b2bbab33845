import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  bech32ToHex,
  DEFAULT_COIN_TYPE,
  genesisOutputId,
  isBech32Address,
  MnemonicSigner,
} from '@tanglewatt/ledger';
import { z } from 'zod';
import { DeployError } from './errors.js';

export const HORNET_CONFIG_DIR = fileURLToPath(new URL('../../hornet-config/', import.meta.url));
export const PROTOCOL_PARAMETERS_FILE = `${HORNET_CONFIG_DIR}protocol_parameters.json`;
export const NODE_CONFIG_FILE = `${HORNET_CONFIG_DIR}config.json`;

const amount = z.string().regex(/^[1-9][0-9]*$/, 'a positive whole number of base units, as a string');
const duration = z.string().regex(/^[0-9]+(ms|s|m)$/, 'a duration such as 1s, 500ms or 2m');

const profileSchema = z.strictObject({
  name: z.string().min(1),
  notice: z.string().optional(),
  milestoneInterval: duration.default('5s'),
  genesis: z.union([
    z.strictObject({
      mnemonic: z.string().min(1),
      coinType: z.number().int().nonnegative().default(DEFAULT_COIN_TYPE),
      mintAccountIndex: z.number().int().nonnegative(),
      fundedAccounts: z.strictObject({
        first: z.number().int().nonnegative(),
        count: z.number().int().min(1).max(1000),
        amount,
      }),
    }),
    z.strictObject({
      mintAddress: z.string(),
      addresses: z.array(z.strictObject({ address: z.string(), amount })).max(10_000),
    }),
  ]),
});

export type NetworkProfile = z.infer<typeof profileSchema>;

const protocolSchema = z.looseObject({
  networkName: z.string().min(1),
  bech32HRP: z.string().regex(/^[a-z]{1,15}$/, 'lowercase letters, 1 to 15'),
  minPoWScore: z.number().int().nonnegative(),
  rentStructure: z.strictObject({
    vByteCost: z.number().int().positive(),
    vByteFactorData: z.number().int().positive(),
    vByteFactorKey: z.number().int().positive(),
  }),
  tokenSupply: amount,
});

export type ProtocolParametersFile = z.infer<typeof protocolSchema>;

function oneLine(file: string, error: z.ZodError): DeployError {
  const issue = error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : '(root)';
  return new DeployError('BAD_CONFIG', `${file}: ${where}: ${issue?.message ?? 'invalid'}`);
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new DeployError('BAD_CONFIG', `${file}: cannot be read: give an existing profile file`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DeployError('BAD_CONFIG', `${file}: not valid JSON (${(error as Error).message})`);
  }
}

/** A profile by name (a file in hornet-config/profiles/) or by path. */
export async function loadProfile(nameOrPath: string): Promise<NetworkProfile> {
  const file = /[/\\]|\.json$/.test(nameOrPath)
    ? nameOrPath
    : `${HORNET_CONFIG_DIR}profiles/${nameOrPath}.json`;
  const parsed = profileSchema.safeParse(await readJson(file));
  if (!parsed.success) throw oneLine(file, parsed.error);
  return parsed.data;
}

export async function loadProtocolParameters(
  file = PROTOCOL_PARAMETERS_FILE,
): Promise<ProtocolParametersFile> {
  const parsed = protocolSchema.safeParse(await readJson(file));
  if (!parsed.success) throw oneLine(file, parsed.error);
  return parsed.data;
}

export interface GenesisAllocation {
  address: string;
  amount: bigint;
  /** The output snap-gen creates for it. */
  outputId: string;
  /** Where the key lives, for profiles that derive from a mnemonic. */
  accountIndex?: number;
}

export interface GenesisPlan {
  mintAddress: string;
  mintOutputId: string;
  allocations: GenesisAllocation[];
}

/** Resolves a profile's genesis into addresses and amounts, checked against the protocol parameters. */
export async function planGenesis(
  profile: NetworkProfile,
  protocol: ProtocolParametersFile,
): Promise<GenesisPlan> {
  const hrp = protocol.bech32HRP;
  let mintAddress: string;
  let entries: { address: string; amount: bigint; accountIndex?: number }[];
  if ('mnemonic' in profile.genesis) {
    const { mnemonic, coinType, mintAccountIndex, fundedAccounts } = profile.genesis;
    const signer = new MnemonicSigner(mnemonic);
    const first = async (accountIndex: number) =>
      (await signer.addresses({ coinType, accountIndex, count: 1, bech32Hrp: hrp }))[0]!;
    mintAddress = await first(mintAccountIndex);
    entries = [];
    for (let i = 0; i < fundedAccounts.count; i++) {
      const accountIndex = fundedAccounts.first + i;
      entries.push({
        address: await first(accountIndex),
        amount: BigInt(fundedAccounts.amount),
        accountIndex,
      });
    }
  } else {
    mintAddress = profile.genesis.mintAddress;
    entries = profile.genesis.addresses.map((a) => ({ address: a.address, amount: BigInt(a.amount) }));
  }
  for (const [i, address] of [mintAddress, ...entries.map((e) => e.address)].entries()) {
    if (!isBech32Address(address, hrp)) {
      throw new DeployError(
        'BAD_CONFIG',
        `profile ${profile.name}: genesis address #${i} (${address}) is not a bech32 Ed25519 address with HRP "${hrp}"`,
      );
    }
  }
  const total = entries.reduce((sum, e) => sum + e.amount, 0n);
  if (total >= BigInt(protocol.tokenSupply)) {
    throw new DeployError(
      'BAD_CONFIG',
      `profile ${profile.name}: genesis amounts (${total}) must stay below the token supply (${protocol.tokenSupply})`,
    );
  }
  // snap-gen orders genesis outputs by serialized address, then larger amount first; ids follow that order.
  const ordered = entries
    .map((e) => ({ ...e, key: bech32ToHex(e.address).toLowerCase() }))
    .sort((a, b) => (a.key === b.key ? Number(b.amount - a.amount) : a.key < b.key ? -1 : 1));
  return {
    mintAddress,
    mintOutputId: genesisOutputId(0),
    allocations: ordered.map(({ key: _key, ...e }, i) => ({ ...e, outputId: genesisOutputId(i + 1) })),
  };
}

/** Milliseconds of a duration string such as "1s", "500ms" or "2m". */
export function durationMs(text: string): number {
  const match = /^([0-9]+)(ms|s|m)$/.exec(text);
  if (!match)
    throw new DeployError('BAD_CONFIG', `duration "${text}": use a number with ms, s or m, such as 1s`);
  const value = Number(match[1]);
  return match[2] === 'ms' ? value : match[2] === 's' ? value * 1000 : value * 60_000;
}
