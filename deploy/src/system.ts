/**
 * The whole system on its embedded default: the local tangle, two households (a producer and a
 * consumer), each with a wallet-service and a simulated meter agent, and the dashboard over them.
 * What `npm start` runs, and what the browser tests run against.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromHex, newX25519SecretKey, toHex, x25519PublicKey } from '@tanglewatt/channels';
import { buildDashboard, distDir, serveDashboard } from '@tanglewatt/dashboard/serve';
import { NodeApi } from '@tanglewatt/ledger';
import type { AgentHandle } from '@tanglewatt/meter-agent';
import type { Logger } from 'pino';
import type { StatusSnapshot } from './console.js';
import { DEMO_CONSUMER_SENSOR, DEMO_PRODUCER_SENSOR } from './demo-meters.js';
import { checkAborted, DeployError } from './errors.js';
import {
  fundedSlot,
  keptSecret,
  type RunningHousehold,
  type ScopedToken,
  startHousehold,
  startHouseholdAgent,
} from './household.js';
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

/** Each household's reader key of the consumer meter's restricted channel, in its dir. */
const READER_KEY_FILE = 'channel-reader.key';

/** What the demo's bills compare with: a retail price above the households' 250 units/Wh, a grid mix's CO2. */
const DEMO_BILLS = { retailUnitsPerWh: '300', co2GramsPerKWh: '380' };

const HOUSEHOLDS: Household[] = [
  { name: 'Producer', role: 'producer', slot: 0 },
  { name: 'Consumer', role: 'consumer', slot: 1 },
];

/**
 * A household's tokens besides its own (every scope, for tools: api.token): its agent's (pay, and the market
 * acks and reads it makes) and its dashboard's (read and market, never pay, as config.json hands it to the
 * page). Each in its own 0600 file, kept across runs.
 */
export const SYSTEM_TOKENS: ScopedToken[] = [
  { name: 'agent', scopes: ['pay', 'market', 'read'] },
  { name: 'dashboard', scopes: ['market', 'read'] },
];

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

    // Both households read the consumer meter's restricted channel (the producer checks what it is paid for,
    // the consumer's bill checks its own readings): an X25519 reader key each, made once.
    const readerPublicKeys: string[] = [];
    for (const household of HOUSEHOLDS) {
      await mkdir(join(households, household.role), { recursive: true, mode: 0o700 });
      const file = join(households, household.role, READER_KEY_FILE);
      const secret = fromHex(await keptSecret(file, () => toHex(newX25519SecretKey())));
      readerPublicKeys.push(toHex(x25519PublicKey(secret)));
    }

    const wallets: (RunningHousehold & { name: string })[] = [];
    const agents: AgentHandle[] = [];
    for (const [i, household] of HOUSEHOLDS.entries()) {
      checkAborted(signal);
      const allocation = fundedSlot(tangle, household.slot);
      // DEVELOPMENT ONLY: the development profile's public mnemonic, one account per household.
      const wallet = await startHousehold(
        {
          dir: join(households, household.role),
          nodeUrl: tangle.nodes[0]!.restUrl,
          ...(tangle.nodes[0]!.indexerUrl ? { indexerUrl: tangle.nodes[0]!.indexerUrl } : {}),
          mnemonic: profile.genesis.mnemonic,
          accountIndex: allocation.accountIndex,
          initialOutputs: [allocation.outputId],
          secrets: 'kept',
          tokens: SYSTEM_TOKENS,
          wallet: {
            listen: { host: '127.0.0.1', port: walletPorts[i]! },
            // The dashboard (its tangle walk alone makes up to 12 reads a second), both agents and any local
            // tool all come from 127.0.0.1: one client to the rate limiter, so it gets a local budget.
            api: { corsOrigins: dashboardOrigins, rateLimitPerMinute: 6000 },
            claims: { schedule: '*/15 * * * * *' },
            bills: { ...DEMO_BILLS, readerKeyFile: READER_KEY_FILE },
          },
        },
        log.child({ household: household.role }),
      );
      started.add(`the ${household.role} wallet-service`, () => wallet.service.stop());
      wallets.push({ ...wallet, name: household.name });
    }
    const producer = wallets[0]!;
    const consumer = wallets[1]!;
    const parties = { consumer: consumer.address, producer: producer.address };
    for (const [i, household] of HOUSEHOLDS.entries()) {
      checkAborted(signal);
      const consumes = household.role === 'consumer';
      const agent = await startHouseholdAgent(wallets[i]!, {
        config: {
          meterId: `${household.role}-meter`,
          role: household.role,
          parties,
          sensors: [consumes ? DEMO_CONSUMER_SENSOR : DEMO_PRODUCER_SENSOR],
          sampleIntervalMs: 1000,
          period: { seconds: options.periodSeconds ?? 60 },
          price: { unitsPerWh: '250' },
          pricing: 'carry',
          // The consumer runs its market trades: the relay delivers them, the seller is paid per trade.
          ...(consumes
            ? {
                prepaid: { enabled: true, relay: { kind: 'simulated' as const } },
                market: { pollSeconds: 2 },
              }
            : {}),
          http: { host: '127.0.0.1', port: meterPorts[i]!, corsOrigins: dashboardOrigins },
          // The consumer publishes its readings on its channel; its payments carry the period's root.
          ...(consumes
            ? {
                channel: {
                  nodeUrl: tangle.nodes[0]!.restUrl,
                  mode: 'restricted' as const,
                  readers: readerPublicKeys,
                },
              }
            : {}),
        },
        // The consumer pays with its agent token.
        ...(consumes ? { pay: 'agent' } : {}),
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
        wallets: wallets.map((w) => ({ name: w.name, url: w.url, token: w.tokens.dashboard! })),
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
          producer.service.market?.book().catch(() => undefined),
        ]);
        const confirmed = info?.status.confirmedMilestone;
        return {
          dashboardUrl: dashboard.url,
          ...(confirmed
            ? { milestone: { index: confirmed.index, ageMs: Date.now() - confirmed.timestamp * 1000 } }
            : {}),
          meters: agents.map((a, i) => ({ name: HOUSEHOLDS[i]!.role, powerUW: a.snapshot().powerUW })),
          payments: {
            queued: wallets.reduce((n, w) => n + w.service.store.unsettled().length, 0),
            included: wallets.reduce(
              (n, w) => n + w.service.store.list({ state: 'included', limit: 0 }).total,
              0,
            ),
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
