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
import { NodeApi } from '@tanglewatt/ledger';
import { type AgentHandle, startAgent } from '@tanglewatt/meter-agent';
import {
  type ApiScope,
  parseWalletConfig,
  startWalletService,
  type WalletService,
  writeKeystore,
} from '@tanglewatt/wallet-service';
import type { Logger } from 'pino';
import type { StatusSnapshot } from './console.js';
import { DEMO_PRODUCER_SENSOR } from './demo-meters.js';
import { checkAborted, DeployError } from './errors.js';
import { ensureBinaries } from './install.js';
import { assertPortFree, freePorts, isRunning, ownCommand, processStartTime } from './processes.js';
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
  /**
   * Aborts the start-up: everything started so far is stopped, newest first, and startSystem rejects with
   * the abort's reason. After startSystem returns, stop() is the way down.
   */
  signal?: AbortSignal;
}

export interface RunningSystem {
  tangle: TangleState;
  dashboardUrl: string;
  wallets: { name: string; url: string; token: string; address: string }[];
  meters: { name: string; url: string }[];
  /** What the console's status line shows, read now. */
  status(): Promise<StatusSnapshot>;
  stop(): Promise<void>;
}

/** Which process runs the system from a data dir: `owner.json` there, removed on a clean stop. */
const OWNER_FILE = 'owner.json';

interface Owner {
  pid: number;
  startTime?: number;
  argv0: string;
}

/**
 * Claims the data dir for this process. Another live run from it is refused; the record of one that is
 * gone (killed, crashed) is taken over, and so are the tangle processes it left behind.
 */
export async function claimDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, OWNER_FILE);
  const previous = existsSync(file)
    ? (JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Partial<Owner>)
    : undefined;
  if (
    previous?.pid !== undefined &&
    previous.pid !== process.pid &&
    previous.argv0 !== undefined &&
    isRunning({
      pid: previous.pid,
      binary: previous.argv0,
      ...(previous.startTime !== undefined ? { startTime: previous.startTime } : {}),
    })
  ) {
    throw new DeployError(
      'ALREADY_RUNNING',
      `the system already runs from ${dataDir} (pid ${previous.pid}): stop it first (Ctrl-C in its terminal, or kill ${previous.pid})`,
    );
  }
  const startTime = processStartTime(process.pid);
  const owner: Owner = { pid: process.pid, argv0: ownCommand(), ...(startTime ? { startTime } : {}) };
  await writeFile(file, `${JSON.stringify(owner)}\n`);
  return () => rm(file, { force: true });
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

/** What has been started so far, stopped newest first (the dashboard before the agents before the tangle). */
class Started {
  private readonly stops: { what: string; stop: () => Promise<unknown> }[] = [];

  constructor(private readonly log: Logger) {}

  add(what: string, stop: () => Promise<unknown>): void {
    this.stops.push({ what, stop });
  }

  async stopAll(): Promise<void> {
    for (const { what, stop } of this.stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        this.log.warn({ err: (error as Error).message }, `stopping ${what} failed`);
      }
    }
  }
}

export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const { log, signal } = options;
  checkAborted(signal);
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

  const started = new Started(log);
  const releaseDataDir = await claimDataDir(options.dataDir);
  started.add('the data dir claim', releaseDataDir);
  try {
    // Before the tangle starts: a port someone else holds is a one-line error, not a half-started system.
    if (!auto) {
      await assertPortFree(dashboardPort, 'dashboard', '--ports auto');
      for (const port of servicePorts) await assertPortFree(port, 'household services', '--ports auto');
    }
    const networkDir = join(options.dataDir, 'network');
    const binaries = await ensureBinaries({ log, ...(signal ? { signal } : {}) });
    checkAborted(signal);
    const tangle = await tangleUp({
      dataDir: networkDir,
      profile,
      binaries,
      log,
      // This data dir is ours (claimDataDir): what a crashed run left running is stopped and restarted.
      takeOver: true,
      indexer: true,
      ...(signal ? { signal } : {}),
      ...(options.milestoneInterval ? { milestoneInterval: options.milestoneInterval } : {}),
      ...(auto ? { ports: 'auto' as const } : fixed.tangle ? { ports: fixed.tangle } : {}),
      ...(options.fresh ? { fresh: true } : {}),
    }).catch((error: unknown) => {
      // An existing network keeps the ports it was created with: npm start has no per-port flags.
      if (error instanceof DeployError && error.code === 'PORT_IN_USE') {
        const what = error.message.split(' is in use')[0];
        throw new DeployError(
          'PORT_IN_USE',
          `${what} is in use by a program that is not this network's: stop it, or start a new network on free ports with --fresh --ports auto`,
        );
      }
      throw error;
    });
    started.add('the tangle', () => tangleDown(networkDir));
    checkAborted(signal);

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
    const byAccount = [...tangle.genesis.allocations].sort(
      (a, b) => (a.accountIndex ?? 0) - (b.accountIndex ?? 0),
    );
    for (const [i, household] of HOUSEHOLDS.entries()) {
      checkAborted(signal);
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
      const wallet = await startWalletService(config, log.child({ household: household.role }));
      started.add(`the ${household.role} wallet-service`, () => wallet.stop());
      wallets.push(Object.assign(wallet, { name: household.name, token, dashboardToken }));
    }
    const [producer, consumer] = wallets as unknown as [WalletService, WalletService];
    const parties = { consumer: consumer.address, producer: producer.address };
    // The producer reads the consumer meter's restricted channel: its X25519 reader key, made once.
    const readerKeyFile = join(households, 'producer', 'channel-reader.key');
    const readerSecret = fromHex(await persistentSecret(readerKeyFile, () => toHex(newX25519SecretKey())));
    const readerPublicKey = toHex(x25519PublicKey(readerSecret));
    for (const [i, household] of HOUSEHOLDS.entries()) {
      checkAborted(signal);
      const dir = join(households, household.role, 'agent');
      const agent = await startAgent({
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
      });
      started.add(`the ${household.role} meter agent`, () => agent.stop());
      agents.push(agent);
    }

    checkAborted(signal);
    if (!(await dashboardIsBuilt())) {
      log.info('building the dashboard');
      await buildDashboard();
      checkAborted(signal);
    }
    const dashboard = await serveDashboard({
      port: dashboardPort,
      config: {
        // The households' dashboard tokens (read and market, never pay): the page reads and posts market offers.
        wallets: wallets.map((w) => ({ name: w.name, url: w.url, token: w.dashboardToken })),
        meters: agents.map((a, i) => ({ name: `${HOUSEHOLDS[i]!.name} meter`, url: a.httpUrl! })),
      },
    });
    started.add('the dashboard', () => dashboard.close());
    checkAborted(signal);

    const node = new NodeApi(tangle.nodes[0]!.restUrl, { timeoutMs: 2_000 });
    return {
      tangle,
      dashboardUrl: dashboard.url,
      wallets: wallets.map((w) => ({ name: w.name, url: w.url, token: w.token, address: w.address })),
      meters: agents.map((a, i) => ({ name: `${HOUSEHOLDS[i]!.name} meter`, url: a.httpUrl! })),
      async status() {
        const [info, book] = await Promise.all([
          node.info().catch(() => undefined),
          producer.market?.book().catch(() => undefined),
        ]);
        const confirmed = info?.status.confirmedMilestone;
        return {
          dashboardUrl: dashboard.url,
          ...(confirmed
            ? { milestone: { index: confirmed.index, ageMs: Date.now() - confirmed.timestamp * 1000 } }
            : {}),
          meters: agents.map((a, i) => ({ name: HOUSEHOLDS[i]!.role, powerUW: a.snapshot().powerUW })),
          payments: {
            queued: wallets.reduce((n, w) => n + w.store.unsettled().length, 0),
            included: wallets.reduce((n, w) => n + w.store.list({ state: 'included', limit: 0 }).total, 0),
          },
          ...(book
            ? { offers: book.orders.filter((o) => o.side === 'sell' && o.status === 'open').length }
            : {}),
        };
      },
      stop: () => started.stopAll(),
    };
  } catch (error) {
    await started.stopAll();
    throw error;
  }
}
