/**
 * The community simulator's households: one wallet-service each, in this process, with its own data dir,
 * keystore and address, and the calls every mode makes to them (post a market message, wait for every book
 * to hold it, read a balance or a payment).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Book, MatchingRule, SignedMessage } from '@tanglewatt/market';
import {
  parseWalletConfig,
  startWalletService,
  type WalletService,
  writeKeystore,
} from '@tanglewatt/wallet-service';
import type { Logger } from 'pino';
import { loadProfile } from './profile.js';
import type { TangleState } from './tangle.js';

export type MarketBook = Book & { ledgerIndex: number };

export interface CommunityHousehold {
  name: string;
  role: 'producer' | 'consumer';
  url: string;
  token: string;
  address: string;
  service: WalletService;
}

export interface HouseholdSpec {
  name: string;
  role: 'producer' | 'consumer';
  mnemonic: string;
  accountIndex: number;
  /** Genesis output of a funded account. */
  initialOutputs: string[];
}

export interface MarketSettings {
  id: string;
  rule: MatchingRule;
  defaultCapacityWh: number;
  /** Households read the market from here: a run's messages all come later. */
  fromMilestone: number;
}

const UNSET_ENV = 'TANGLEWATT_COMMUNITY_UNSET';

async function startHousehold(
  tangle: TangleState,
  spec: HouseholdSpec,
  market: MarketSettings,
  dataDir: string,
  log: Logger,
): Promise<CommunityHousehold> {
  const dir = join(dataDir, spec.name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const password = randomBytes(16).toString('hex');
  const token = randomBytes(24).toString('hex');
  await writeFile(join(dir, 'keystore.password'), password, { mode: 0o600 });
  await writeFile(join(dir, 'api.token'), token, { mode: 0o600 });
  await writeKeystore(join(dir, 'keystore.json'), spec.mnemonic, password);
  const config = parseWalletConfig(
    {
      nodeUrl: tangle.nodes[0]!.restUrl,
      dataDir: 'wallet',
      listen: { host: '127.0.0.1', port: 0 },
      keystore: { file: 'keystore.json', passwordEnv: UNSET_ENV, passwordFile: 'keystore.password' },
      account: { accountIndex: spec.accountIndex },
      // Every household polls its book several times a second while the simulator waits.
      api: { tokenEnv: UNSET_ENV, tokenFile: 'api.token', rateLimitPerMinute: 100_000 },
      settlement: { lingerMs: 100, reattachAfterSeconds: 5 },
      market: { enabled: true, ...market },
      ledger: { initialOutputs: spec.initialOutputs, pollIntervalMs: 250 },
    },
    dir,
  );
  const service = await startWalletService(config, log.child({ household: spec.name }, { level: 'warn' }));
  return { name: spec.name, role: spec.role, url: service.url, token, address: service.address, service };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Starts every household; stops the ones already started if one fails. */
export async function startHouseholds(
  tangle: TangleState,
  specs: readonly HouseholdSpec[],
  market: MarketSettings,
  dataDir: string,
  log: Logger,
): Promise<CommunityHousehold[]> {
  const started: CommunityHousehold[] = [];
  try {
    // A few at a time: each start derives keys and runs scrypt twice.
    await mapLimit(specs, 4, async (spec) => {
      started.push(await startHousehold(tangle, spec, market, dataDir, log));
    });
  } catch (error) {
    await stopHouseholds(started);
    throw error;
  }
  const byName = new Map(started.map((h) => [h.name, h]));
  return specs.map((s) => byName.get(s.name)!);
}

export async function stopHouseholds(households: readonly CommunityHousehold[]): Promise<void> {
  await Promise.all(households.map((h) => h.service.stop().catch(() => undefined)));
}

/** A call to a household's wallet-service API; a non-2xx answer throws with its code and message. */
export async function householdCall<T>(
  h: { url: string; token: string },
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${h.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${h.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as T & { error?: { code: string; message: string } };
  if (!res.ok)
    throw new Error(`${method} ${path}: ${res.status} ${json.error?.code}: ${json.error?.message}`);
  return json;
}

export interface Posted {
  messageId: string;
  blockId: string;
  message: SignedMessage;
}

/** Posts a market message; returns once the clock has moved past its timestamp, so the next one sorts later. */
export async function post(
  h: CommunityHousehold,
  kind: 'sell' | 'buy' | 'ack',
  body: unknown,
): Promise<Posted> {
  const posted = await householdCall<Posted>(h, 'POST', `/market/${kind}`, body);
  while (Date.now() <= posted.message.timestampMs) await sleep(1);
  return posted;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** What every household must agree on: the orders, trades, acks and rejections (not the read position). */
export function bookDigest(book: Book): string {
  return JSON.stringify({
    orders: book.orders,
    trades: book.trades,
    acks: book.acks,
    accepted: book.accepted,
    rejections: book.rejections.map((r) => [r.messageId, r.reason]),
  });
}

/**
 * Waits until the milestones have referenced every block and every household's book has read past them
 * and holds every message; returns the books, in household order.
 */
export async function booksWithAll(
  link: Link,
  households: readonly CommunityHousehold[],
  posted: readonly Posted[],
  timeoutMs: number,
): Promise<MarketBook[]> {
  const target = Math.max(...(await Promise.all(posted.map((p) => referenced(link, p, timeoutMs)))));
  const ids = posted.map((p) => p.messageId);
  return Promise.all(
    households.map((h) =>
      until(`${h.name}'s book past milestone ${target}`, timeoutMs, async () => {
        const book = await householdCall<MarketBook>(h, 'GET', '/market');
        if (book.ledgerIndex < target) return undefined;
        const seen = new Set([...book.accepted, ...book.rejections.map((r) => r.messageId)]);
        return ids.every((id) => seen.has(id)) ? book : undefined;
      }),
    ),
  );
}

/** Blocks the wallet-services promoted or posted again because no milestone had picked them up. */
export interface Nudges {
  promoted: number;
  reposted: number;
}

export interface Link {
  households: readonly CommunityHousehold[];
}

export function nudgesOf(households: readonly CommunityHousehold[]): Nudges {
  const total: Nudges = { promoted: 0, reposted: 0 };
  for (const h of households) {
    total.promoted += h.service.market?.resends.promoted ?? 0;
    total.reposted += h.service.market?.resends.reposted ?? 0;
  }
  return total;
}

/**
 * Waits for a milestone to confirm a market message; returns its index. Any household's view tells: they
 * all read the same milestones. Under a burst a block can be left behind; its wallet-service promotes it or
 * posts the same message again, so this waits for the message, not for its first block.
 */
export async function referenced(link: Link, posted: Posted, timeoutMs: number): Promise<number> {
  const observer = link.households[0]!.service.market!;
  return until(`message ${posted.messageId} confirmed`, timeoutMs, async () =>
    observer.confirmedAt(posted.message.signature),
  );
}

export async function balanceOf(h: CommunityHousehold, atLeastMilestone = 0): Promise<bigint> {
  const b = await until(`${h.name}'s balance at milestone ${atLeastMilestone}`, 60_000, async () => {
    const b = await householdCall<{ totalUnits: string; ledgerIndex: number }>(h, 'GET', '/balance');
    return b.ledgerIndex >= atLeastMilestone ? b : undefined;
  });
  return BigInt(b.totalUnits);
}

export interface PaymentView {
  idempotencyKey: string;
  state: 'queued' | 'submitted' | 'included' | 'conflicting' | 'failed' | 'cancelled';
  blockId?: string;
  milestoneIndex?: number;
  error?: string;
}

export async function paymentIncluded(h: CommunityHousehold, key: string): Promise<PaymentView> {
  return until(`payment ${key} included`, 90_000, async () => {
    const list = await householdCall<{ items: PaymentView[] }>(h, 'GET', '/payments?limit=500');
    const p = list.items.find((i) => i.idempotencyKey === key);
    if (p?.state === 'failed' || p?.state === 'cancelled')
      throw new Error(`payment ${key} ${p.state}${p.error ? `: ${p.error}` : ''}`);
    return p?.state === 'included' ? p : undefined;
  });
}

export function byAccountIndex(tangle: TangleState) {
  return [...tangle.genesis.allocations].sort((a, b) => (a.accountIndex ?? 0) - (b.accountIndex ?? 0));
}

export async function devMnemonic(): Promise<string> {
  const profile = await loadProfile('development');
  if (!('mnemonic' in profile.genesis))
    throw new Error('the community simulator runs on the development profile');
  return profile.genesis.mnemonic;
}

export const uniqueMarketId = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
