import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BillConfigFile } from '@tanglewatt/bills';
import {
  devMnemonic,
  fundedSlot,
  type PreparedHousehold,
  prepareHousehold,
  type ScopedToken,
  type TangleState,
} from '@tanglewatt/deploy';
import { generateMnemonic } from '@tanglewatt/ledger';
import { startWalletService, type WalletConfig, type WalletService } from '@tanglewatt/wallet-service';
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
  tokens?: ScopedToken[];
  /** Host names the API answers besides the loopback ones. */
  allowedHosts?: string[];
  /** Where the API listens (default: a port the kernel picks when it starts). */
  listen?: { host: string; port: number };
  /** What GET /bills compares with. */
  bills?: Omit<BillConfigFile, 'from' | 'to'> & { readerKeyFile?: string };
  /** A community indexer beside the node: the wallet reads its ledger slice there, and GET /bills too. */
  indexerUrl?: string;
}

/** A household (the deploy harness) in a new temp dir: keystore, secrets (0600) and wallet.json. */
export async function prepareWallet(
  tangle: TangleState,
  setup: WalletSetup = {},
): Promise<PreparedHousehold & { configFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tanglewatt-wallet-'));
  const account = setup.slot === undefined ? undefined : fundedSlot(tangle, setup.slot);
  const prepared = await prepareHousehold({
    dir,
    nodeUrl: tangle.nodes[0]!.restUrl,
    ...(setup.indexerUrl ? { indexerUrl: setup.indexerUrl } : {}),
    mnemonic: account ? await devMnemonic() : generateMnemonic(),
    accountIndex: account?.accountIndex ?? 0,
    initialOutputs: account ? [account.outputId] : [],
    files: { password: 'password', token: 'token' },
    tokens: setup.tokens ?? [],
    unsetEnv: 'TANGLEWATT_TEST_UNSET',
    configFile: 'wallet.json',
    wallet: {
      dataDir: 'data',
      ...(setup.listen ? { listen: setup.listen } : {}),
      api: { allowedHosts: setup.allowedHosts ?? [], corsOrigins: [] },
      settlement: { lingerMs: 100, reattachAfterSeconds: 5, ...setup.settlement },
      claims: { schedule: setup.claimSchedule ?? '*/2 * * * * *' },
      ledger: { pollIntervalMs: 200 },
      ...(setup.market ? { market: setup.market } : {}),
      ...(setup.bills ? { bills: setup.bills } : {}),
    },
  });
  return { ...prepared, configFile: prepared.configFile! };
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
