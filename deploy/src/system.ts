/**
 * The whole system on its embedded default: the local tangle, two households (a producer and a
 * consumer), each with a wallet-service and a simulated meter agent, and the dashboard over them.
 * What `npm start` runs, and what the browser tests run against.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromHex, newX25519SecretKey, toHex, x25519PublicKey } from '@tanglewatt/channels';
import { buildDashboard, distDir, serveDashboard } from '@tanglewatt/dashboard/serve';
import { type AgentHandle, startAgent } from '@tanglewatt/meter-agent';
import {
  type ApiScope,
  parseWalletConfig,
  startWalletService,
  type WalletService,
  writeKeystore,
} from '@tanglewatt/wallet-service';
import type { Logger } from 'pino';
import { DEMO_PRODUCER_SENSOR } from './demo-meters.js';
import { ensureBinaries } from './install.js';
import { freePorts } from './processes.js';
import { loadProfile } from './profile.js';
import { type TanglePorts, type TangleState, tangleDown, tangleUp } from './tangle.js';

export interface SystemPorts {
  dashboard: number;
  /** Producer's wallet-service; the consumer's is the next port. */
  wallet: number;
  /** Producer's meter agent; the consumer's is the next port. */
  meter: number;
  tangle?: TanglePorts;
}

export const DEFAULT_SYSTEM_PORTS: SystemPorts = { dashboard: 8480, wallet: 8481, meter: 8491 };

export interface SystemOptions {
  /** Root of everything the system keeps: network/ and households/. */
  dataDir: string;
  log: Logger;
  ports?: SystemPorts | 'auto';
  milestoneInterval?: string;
  /** Payment period of the simulated meters. */
  periodSeconds?: number;
  fresh?: boolean;
}

export interface RunningSystem {
  tangle: TangleState;
  dashboardUrl: string;
  wallets: { name: string; url: string; token: string; address: string }[];
  meters: { name: string; url: string }[];
  stop(): Promise<void>;
}

interface Household {
  name: string;
  role: 'producer' | 'consumer';
  /** Genesis-funded development account. */
  slot: number;
}

const HOUSEHOLDS: Household[] = [
  { name: 'Producer', role: 'producer', slot: 0 },
  { name: 'Consumer', role: 'consumer', slot: 1 },
];

/** A secret made once and kept in a 0600 file, so restarts use the same one. */
async function persistentSecret(file: string, make = () => randomBytes(24).toString('hex')): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const value = make();
  await writeFile(file, value, { mode: 0o600 });
  return value;
}

/**
 * A household's three API tokens, each in its own 0600 file in `dir` (kept across runs): its own (every
 * scope, for tools: api.token), its agent's (pay, and the market acks and reads it makes: agent.token) and
 * its dashboard's (read and market, never pay, as config.json hands it to the page: dashboard.token).
 */
export async function householdTokens(dir: string) {
  const token = await persistentSecret(join(dir, 'api.token'));
  const dashboardToken = await persistentSecret(join(dir, 'dashboard.token'));
  await persistentSecret(join(dir, 'agent.token'));
  const scopes = (...s: ApiScope[]) => s;
  return {
    token,
    dashboardToken,
    api: {
      tokenFile: join(dir, 'api.token'),
      tokens: [
        { name: 'agent', file: join(dir, 'agent.token'), scopes: scopes('pay', 'market', 'read') },
        { name: 'dashboard', file: join(dir, 'dashboard.token'), scopes: scopes('market', 'read') },
      ],
    },
  };
}

async function dashboardIsBuilt(): Promise<boolean> {
  const index = join(distDir, 'index.html');
  if (!existsSync(index)) return false;
  // Rebuild when any source is newer than the build.
  const built = (await stat(index)).mtimeMs;
  const sources = join(distDir, '..', 'src');
  const entries = await readdir(sources, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (e.isFile() && (await stat(join(e.parentPath, e.name))).mtimeMs > built) return false;
  }
  return true;
}

export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const { log } = options;
  const auto = options.ports === 'auto';
  const fixed: SystemPorts =
    options.ports === 'auto' || !options.ports ? DEFAULT_SYSTEM_PORTS : options.ports;
  const [dashboardPort, ...servicePorts] = auto
    ? ((await freePorts(1 + 2 * HOUSEHOLDS.length)) as [number, ...number[]])
    : [
        fixed.dashboard,
        ...HOUSEHOLDS.map((_, i) => fixed.wallet + i),
        ...HOUSEHOLDS.map((_, i) => fixed.meter + i),
      ];
  const walletPorts = servicePorts.slice(0, HOUSEHOLDS.length);
  const meterPorts = servicePorts.slice(HOUSEHOLDS.length);
  const dashboardOrigins = [`http://127.0.0.1:${dashboardPort}`, `http://localhost:${dashboardPort}`];

  const profile = await loadProfile('development');
  if (!('mnemonic' in profile.genesis))
    throw new Error('the embedded default runs on the development profile');
  const tangle = await tangleUp({
    dataDir: join(options.dataDir, 'network'),
    profile,
    binaries: await ensureBinaries({ log }),
    log,
    ...(options.milestoneInterval ? { milestoneInterval: options.milestoneInterval } : {}),
    ...(auto ? { ports: 'auto' as const } : fixed.tangle ? { ports: fixed.tangle } : {}),
    ...(options.fresh ? { fresh: true } : {}),
  });

  // Households belong to one network: a new network (fresh, or recreated) starts them afresh too.
  const households = join(options.dataDir, 'households');
  const marker = join(households, 'network-created-at');
  const knownNetwork = existsSync(marker) ? (await readFile(marker, 'utf8')).trim() : undefined;
  if (knownNetwork !== tangle.createdAt) {
    if (knownNetwork !== undefined) log.warn('the network was recreated: starting the households afresh');
    await rm(households, { recursive: true, force: true });
    await mkdir(households, { recursive: true, mode: 0o700 });
    await writeFile(marker, tangle.createdAt);
  }

  const wallets: (WalletService & { name: string; token: string; dashboardToken: string })[] = [];
  const agents: AgentHandle[] = [];
  const stopAll = async () => {
    for (const agent of agents) await agent.stop().catch(() => undefined);
    for (const wallet of wallets) await wallet.stop().catch(() => undefined);
    await tangleDown(join(options.dataDir, 'network')).catch(() => undefined);
  };
  try {
    const byAccount = [...tangle.genesis.allocations].sort(
      (a, b) => (a.accountIndex ?? 0) - (b.accountIndex ?? 0),
    );
    for (const [i, household] of HOUSEHOLDS.entries()) {
      const allocation = byAccount[household.slot]!;
      const dir = join(households, household.role);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const password = await persistentSecret(join(dir, 'keystore.password'));
      const { token, dashboardToken, api } = await householdTokens(dir);
      const keystore = join(dir, 'keystore.json');
      // DEVELOPMENT ONLY: the development profile's public mnemonic, one account per household.
      if (!existsSync(keystore)) await writeKeystore(keystore, profile.genesis.mnemonic, password);
      const config = parseWalletConfig(
        {
          nodeUrl: tangle.nodes[0]!.restUrl,
          dataDir: join(dir, 'wallet'),
          listen: { host: '127.0.0.1', port: walletPorts[i] },
          keystore: { file: keystore, passwordFile: join(dir, 'keystore.password') },
          account: { accountIndex: allocation.accountIndex },
          // The dashboard (its tangle walk alone makes up to 12 reads a second), both agents and any local
          // tool all come from 127.0.0.1: one client to the rate limiter, so it gets a local budget.
          api: { ...api, corsOrigins: dashboardOrigins, rateLimitPerMinute: 6000 },
          claims: { schedule: '*/15 * * * * *' },
          ledger: { initialOutputs: [allocation.outputId] },
        },
        dir,
      );
      wallets.push(
        Object.assign(await startWalletService(config, log.child({ household: household.role })), {
          name: household.name,
          token,
          dashboardToken,
        }),
      );
    }
    const [producer, consumer] = wallets as unknown as [WalletService, WalletService];
    const parties = { consumer: consumer.address, producer: producer.address };
    // The producer reads the consumer meter's restricted channel: its X25519 reader key, made once.
    const readerKeyFile = join(households, 'producer', 'channel-reader.key');
    const readerSecret = fromHex(await persistentSecret(readerKeyFile, () => toHex(newX25519SecretKey())));
    const readerPublicKey = toHex(x25519PublicKey(readerSecret));
    for (const [i, household] of HOUSEHOLDS.entries()) {
      const dir = join(households, household.role, 'agent');
      agents.push(
        await startAgent({
          config: {
            meterId: `${household.role}-meter`,
            role: household.role,
            parties,
            sensors: [
              household.role === 'producer'
                ? DEMO_PRODUCER_SENSOR
                : {
                    name: 'load',
                    kind: 'simulated',
                    profile: {
                      type: 'random-walk',
                      seed: 12,
                      busVoltageMV: 12_000,
                      startMA: 400,
                      minMA: 50,
                      maxMA: 1_500,
                      stepMA: 40,
                    },
                  },
            ],
            sampleIntervalMs: 1000,
            period: { seconds: options.periodSeconds ?? 60 },
            price: { unitsPerWh: '250' },
            pricing: 'carry',
            // The consumer runs its market trades: the relay delivers them, the seller is paid per trade.
            ...(household.role === 'consumer'
              ? {
                  walletService: {
                    url: consumer.url,
                    tokenFile: join(households, 'consumer', 'agent.token'),
                  },
                  prepaid: { enabled: true, relay: { kind: 'simulated' as const } },
                  market: { pollSeconds: 2 },
                }
              : {}),
            http: { host: '127.0.0.1', port: meterPorts[i]!, corsOrigins: dashboardOrigins },
            // The consumer publishes its readings on its channel; its payments carry the period's root.
            ...(household.role === 'consumer'
              ? {
                  channel: {
                    nodeUrl: tangle.nodes[0]!.restUrl,
                    mode: 'restricted' as const,
                    readers: [readerPublicKey],
                  },
                }
              : {}),
            dataDir: dir,
          },
          log: log.child({ meter: household.role }),
        }),
      );
    }

    if (!(await dashboardIsBuilt())) {
      log.info('building the dashboard');
      await buildDashboard();
    }
    const dashboard = await serveDashboard({
      port: dashboardPort,
      config: {
        // The households' dashboard tokens (read and market, never pay): the page reads and posts market offers.
        wallets: wallets.map((w) => ({ name: w.name, url: w.url, token: w.dashboardToken })),
        meters: agents.map((a, i) => ({ name: `${HOUSEHOLDS[i]!.name} meter`, url: a.httpUrl! })),
      },
    });
    return {
      tangle,
      dashboardUrl: dashboard.url,
      wallets: wallets.map((w) => ({ name: w.name, url: w.url, token: w.token, address: w.address })),
      meters: agents.map((a, i) => ({ name: `${HOUSEHOLDS[i]!.name} meter`, url: a.httpUrl! })),
      async stop() {
        await dashboard.close();
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
