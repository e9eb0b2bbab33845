import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProfile, type TangleState } from '@tanglewatt/deploy';
import { generateMnemonic } from '@tanglewatt/ledger';
import {
  type ApiScope,
  parseWalletConfig,
  startWalletService,
  type WalletConfig,
  type WalletService,
  writeKeystore,
} from '@tanglewatt/wallet-service';
import pino from 'pino';

export interface TestWallet {
  service: WalletService;
  /** The every-scope token. */
  token: string;
  /** The scoped tokens asked for in WalletSetup.tokens, by name. */
  tokens: Record<string, string>;
  dir: string;
  config: WalletConfig;
  configFile: string;
}

export interface WalletSetup {
  /** Genesis-funded development account (slot, as in fundedAccount), or a fresh empty wallet. */
  slot?: number;
  settlement?: Partial<WalletConfig['settlement']>;
  claimSchedule?: string;
  /** Market settings (e.g. its own market id, so test files running together keep their books apart). */
  market?: Partial<WalletConfig['market']>;
  /** Scoped tokens besides the every-scope one, each written to its own 0600 file. */
  tokens?: { name: string; scopes: ApiScope[] }[];
  /** Host names the API answers besides the loopback ones. */
  allowedHosts?: string[];
}

/** Writes a wallet's keystore, secrets (0600) and config into a new temp dir. */
export async function prepareWallet(
  tangle: TangleState,
  setup: WalletSetup = {},
): Promise<{
  dir: string;
  config: WalletConfig;
  configFile: string;
  token: string;
  tokens: Record<string, string>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'tanglewatt-wallet-'));
  const profile = await loadProfile('development');
  if (!('mnemonic' in profile.genesis)) throw new Error('development profile must derive from a mnemonic');
  const byAccount = [...tangle.genesis.allocations].sort(
    (a, b) => (a.accountIndex ?? 0) - (b.accountIndex ?? 0),
  );
  const allocation = setup.slot === undefined ? undefined : byAccount[setup.slot];
  const mnemonic = allocation ? profile.genesis.mnemonic : generateMnemonic();
  const password = randomBytes(16).toString('hex');
  const token = randomBytes(24).toString('hex');
  await writeFile(join(dir, 'password'), password, { mode: 0o600 });
  await writeFile(join(dir, 'token'), token, { mode: 0o600 });
  const tokens: Record<string, string> = {};
  for (const t of setup.tokens ?? []) {
    tokens[t.name] = randomBytes(24).toString('hex');
    await writeFile(join(dir, `${t.name}.token`), tokens[t.name]!, { mode: 0o600 });
  }
  await writeKeystore(join(dir, 'keystore.json'), mnemonic, password);
  const raw = {
    nodeUrl: tangle.nodes[0]!.restUrl,
    dataDir: 'data',
    listen: { host: '127.0.0.1', port: 0 },
    keystore: { file: 'keystore.json', passwordEnv: 'TANGLEWATT_TEST_UNSET', passwordFile: 'password' },
    account: { accountIndex: allocation?.accountIndex ?? 0 },
    api: {
      tokenEnv: 'TANGLEWATT_TEST_UNSET',
      tokenFile: 'token',
      tokens: (setup.tokens ?? []).map((t) => ({ name: t.name, file: `${t.name}.token`, scopes: t.scopes })),
      allowedHosts: setup.allowedHosts ?? [],
      corsOrigins: [],
    },
    settlement: { lingerMs: 100, reattachAfterSeconds: 5, ...setup.settlement },
    claims: { schedule: setup.claimSchedule ?? '*/2 * * * * *' },
    ledger: { initialOutputs: allocation ? [allocation.outputId] : [], pollIntervalMs: 200 },
    ...(setup.market ? { market: setup.market } : {}),
  };
  const configFile = join(dir, 'wallet.json');
  await writeFile(configFile, JSON.stringify(raw, null, 2));
  return { dir, config: parseWalletConfig(raw, dir), configFile, token, tokens };
}

export async function startTestWallet(tangle: TangleState, setup: WalletSetup = {}): Promise<TestWallet> {
  const prepared = await prepareWallet(tangle, setup);
  const log = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  const service = await startWalletService(prepared.config, log);
  return { service, ...prepared };
}

export async function api<T = unknown>(
  wallet: { service: { url: string }; token: string } | { url: string; token: string },
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  token?: string | null,
): Promise<{ status: number; body: T }> {
  const url = 'service' in wallet ? wallet.service.url : wallet.url;
  const bearer = token === null ? undefined : (token ?? wallet.token);
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}
