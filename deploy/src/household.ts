/**
 * One household, assembled the same way wherever one runs: `npm start`, the community simulator, the
 * benchmarks and the tests. A household is a directory with its keystore, its secrets (0600 files) and its
 * wallet config; a wallet-service on that config (in this process here, or as its own process with
 * WalletProcess); and, where it meters, a meter agent in `<dir>/agent` that pays through that wallet-service.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AgentConfigInput, type AgentHandle, type Clock, startAgent } from '@tanglewatt/meter-agent';
import {
  type ApiScope,
  parseWalletConfig,
  startWalletService,
  type WalletConfig,
  type WalletService,
  writeKeystore,
} from '@tanglewatt/wallet-service';
import type { Logger } from 'pino';
import { loadProfile } from './profile.js';
import type { TangleState } from './tangle.js';

export const newSecret = () => randomBytes(24).toString('hex');

/** A secret in a 0600 file: read back when `keep` and the file is there, else made and written. */
async function secretFile(file: string, keep: boolean, make = newSecret): Promise<string> {
  if (keep && existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const value = make();
  await writeFile(file, value, { mode: 0o600 });
  return value;
}

/** A secret made once and kept in a 0600 file, so restarts use the same one. */
export const keptSecret = (file: string, make?: () => string) => secretFile(file, true, make);

/** The DEVELOPMENT profile's public mnemonic: every genesis-funded account derives from it. */
export async function devMnemonic(): Promise<string> {
  const profile = await loadProfile('development');
  if (!('mnemonic' in profile.genesis))
    throw new Error('the development profile must derive its accounts from a mnemonic');
  return profile.genesis.mnemonic;
}

/** The genesis allocations in account order: a slot is an index in it. */
export function byAccountIndex(tangle: TangleState) {
  return [...tangle.genesis.allocations].sort((a, b) => (a.accountIndex ?? 0) - (b.accountIndex ?? 0));
}

/** A genesis-funded development account by slot: what a household spends from. */
export function fundedSlot(
  tangle: TangleState,
  slot: number,
): { accountIndex: number; outputId: string; address: string } {
  const allocation = byAccountIndex(tangle)[slot];
  if (allocation?.accountIndex === undefined) throw new Error(`no funded account in slot ${slot}`);
  return {
    accountIndex: allocation.accountIndex,
    outputId: allocation.outputId,
    address: allocation.address,
  };
}

/** File names in a household's dir. */
export interface HouseholdFiles {
  keystore: string;
  password: string;
  /** The every-scope API token. */
  token: string;
}

export const HOUSEHOLD_FILES: HouseholdFiles = {
  keystore: 'keystore.json',
  password: 'keystore.password',
  token: 'api.token',
};

/** A token with fewer scopes than the every-scope one, in `<name>.token`. */
export interface ScopedToken {
  name: string;
  scopes: ApiScope[];
}

export interface HouseholdSpec {
  dir: string;
  nodeUrl: string;
  /** The community indexer beside that node: the wallet then reads its ledger slice and the market there. */
  indexerUrl?: string;
  mnemonic: string;
  accountIndex?: number;
  /** Genesis outputs the account holds (a funded development account). */
  initialOutputs?: readonly string[];
  /** 'kept': secrets and keystore made on the first run and reused after (npm start); 'fresh': made anew. */
  secrets?: 'kept' | 'fresh';
  files?: Partial<HouseholdFiles>;
  tokens?: readonly ScopedToken[];
  /**
   * An environment variable that is never set, named as the password's and the token's: the secrets then
   * come from the files whatever the environment holds.
   */
  unsetEnv?: string;
  /** Write the config here (under dir), for a wallet-service run as its own process. */
  configFile?: string;
  /** The rest of the wallet config, paths relative to dir; `api` and `ledger` add to the household's own. */
  wallet?: {
    dataDir?: string;
    listen?: { host: string; port: number };
    api?: Record<string, unknown>;
    ledger?: Record<string, unknown>;
    [key: string]: unknown;
  };
}

export interface PreparedHousehold {
  dir: string;
  /** The wallet config as written (paths relative to dir) and as parsed. */
  raw: Record<string, unknown>;
  config: WalletConfig;
  /** Where the config was written (absolute), when the spec asked for a file. */
  configFile?: string;
  /** The every-scope token. */
  token: string;
  /** The scoped tokens, by name. */
  tokens: Record<string, string>;
}

/** Writes a household's secrets, keystore and wallet config into its dir. */
export async function prepareHousehold(spec: HouseholdSpec): Promise<PreparedHousehold> {
  const { dir } = spec;
  const files = { ...HOUSEHOLD_FILES, ...spec.files };
  const keep = spec.secrets === 'kept';
  const keystore = join(dir, files.keystore);
  // Checked before any secret is written: a new password beside the old keystore would lock it.
  if (!keep && existsSync(keystore))
    throw new Error(`${keystore} already exists: a household with fresh secrets needs a new dir`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const password = await secretFile(join(dir, files.password), keep);
  const token = await secretFile(join(dir, files.token), keep);
  const tokens: Record<string, string> = {};
  for (const t of spec.tokens ?? []) tokens[t.name] = await secretFile(join(dir, `${t.name}.token`), keep);
  if (!keep || !existsSync(keystore)) await writeKeystore(keystore, spec.mnemonic, password);
  const env = (key: string) => (spec.unsetEnv ? { [key]: spec.unsetEnv } : {});
  const { dataDir, listen, api, ledger, ...rest } = spec.wallet ?? {};
  const raw: Record<string, unknown> = {
    nodeUrl: spec.nodeUrl,
    ...(spec.indexerUrl ? { indexer: { url: spec.indexerUrl } } : {}),
    dataDir: dataDir ?? 'wallet',
    listen: listen ?? { host: '127.0.0.1', port: 0 },
    keystore: { file: files.keystore, ...env('passwordEnv'), passwordFile: files.password },
    account: { accountIndex: spec.accountIndex ?? 0 },
    api: {
      ...env('tokenEnv'),
      tokenFile: files.token,
      tokens: (spec.tokens ?? []).map((t) => ({ name: t.name, file: `${t.name}.token`, scopes: t.scopes })),
      ...api,
    },
    ...rest,
    ledger: { initialOutputs: spec.initialOutputs ?? [], ...ledger },
  };
  const configFile = spec.configFile ? join(dir, spec.configFile) : undefined;
  if (configFile) await writeFile(configFile, JSON.stringify(raw, null, 2));
  return {
    dir,
    raw,
    config: parseWalletConfig(raw, dir),
    ...(configFile ? { configFile } : {}),
    token,
    tokens,
  };
}

export interface RunningHousehold extends PreparedHousehold {
  service: WalletService;
  url: string;
  address: string;
}

/** Prepares a household and starts its wallet-service in this process. */
export async function startHousehold(spec: HouseholdSpec, log: Logger): Promise<RunningHousehold> {
  const prepared = await prepareHousehold(spec);
  const service = await startWalletService(prepared.config, log);
  return { ...prepared, service, url: service.url, address: service.address };
}

export interface HouseholdAgentOptions {
  /** Everything but where the agent keeps its data (`<dir>/agent`) and how it reaches the wallet-service. */
  config: Omit<AgentConfigInput, 'dataDir' | 'walletService'>;
  /** The token it pays with: 'api' (the every-scope one, handed over) or a scoped token's name (its file). */
  pay?: 'api' | string;
  log: Logger;
  /** A simulation's clock (default: real time, or the config's accelerated clock). */
  clock?: Clock;
}

/** The household's meter agent, paying (if `pay` is given) through the household's wallet-service. */
export function startHouseholdAgent(
  h: { dir: string; url: string; token: string },
  options: HouseholdAgentOptions,
): Promise<AgentHandle> {
  const { pay } = options;
  const walletService =
    pay === undefined
      ? {}
      : {
          walletService:
            pay === 'api'
              ? { url: h.url, token: h.token }
              : { url: h.url, tokenFile: join(h.dir, `${pay}.token`) },
        };
  return startAgent({
    config: { ...options.config, ...walletService, dataDir: join(h.dir, 'agent') },
    log: options.log,
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
