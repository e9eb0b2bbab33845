/**
 * The community simulator's households: one wallet-service each (the household harness), in this process,
 * each with its own data dir, keystore and address; and the calls every mode makes to them.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { generateMnemonic, NodeApi } from '@tanglewatt/ledger';
import { type MatchingRule, seededRandom } from '@tanglewatt/market';
import type { WalletService } from '@tanglewatt/wallet-service';
import type { Logger } from 'pino';
import { startHousehold } from '../household.js';
import type { TangleState } from '../tangle.js';

export interface CommunityHousehold {
  name: string;
  role: 'producer' | 'consumer';
  dir: string;
  url: string;
  token: string;
  address: string;
  service: WalletService;
}

/** A household of the community: its name, its side of the market and the keys it trades and pays with. */
export interface Member {
  name: string;
  role: 'producer' | 'consumer';
  mnemonic: string;
  accountIndex: number;
  /** Genesis output of a funded account. */
  initialOutputs: string[];
}

/** What a random community takes: the tangle, where its households live, how many, and the seed. */
export interface RandomCommunityOptions {
  tangle: TangleState;
  dataDir: string;
  log: Logger;
  households: number;
  seed?: number;
}

/** The community's size (at least 2) and the seeded source every random choice of the run draws from. */
export function randomCommunity(options: RandomCommunityOptions) {
  const n = options.households;
  if (!Number.isSafeInteger(n) || n < 2) throw new Error('households: at least 2');
  const seed = options.seed ?? 1;
  return { n, seed, random: seededRandom(seed) };
}

/** The n-th household's name: P001, C002, … by its side of the market. */
const memberName = (i: number, role: Member['role']) =>
  `${role === 'producer' ? 'P' : 'C'}${String(i + 1).padStart(3, '0')}`;

/** A household with keys of its own and no funds: enough to trade (market messages are value-free blocks). */
export function unfundedMember(i: number, role: Member['role']): Member {
  return {
    name: memberName(i, role),
    role,
    mnemonic: generateMnemonic(),
    accountIndex: 0,
    initialOutputs: [],
  };
}

/** A household paying from a genesis-funded development account. */
export function fundedMember(
  i: number,
  role: Member['role'],
  mnemonic: string,
  account: { accountIndex: number; outputId: string },
): Member {
  return {
    name: memberName(i, role),
    role,
    mnemonic,
    accountIndex: account.accountIndex,
    initialOutputs: [account.outputId],
  };
}

export interface MarketSettings {
  id: string;
  rule: MatchingRule;
  defaultCapacityWh: number;
  /** Households read the market from here: a run's messages all come later. */
  fromMilestone: number;
}

/** A new market (its own id) that households read from the milestone the tangle confirms now. */
export async function newMarket(
  tangle: TangleState,
  prefix: string,
  rule: MatchingRule,
  defaultCapacityWh: number,
): Promise<MarketSettings> {
  const node = new NodeApi(tangle.nodes[0]!.restUrl);
  return {
    id: `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
    rule,
    defaultCapacityWh,
    fromMilestone: (await node.info()).status.confirmedMilestone.index,
  };
}

async function startMember(
  tangle: TangleState,
  member: Member,
  market: MarketSettings,
  dataDir: string,
  log: Logger,
): Promise<CommunityHousehold> {
  const h = await startHousehold(
    {
      dir: join(dataDir, member.name),
      nodeUrl: tangle.nodes[0]!.restUrl,
      ...(tangle.nodes[0]!.indexerUrl ? { indexerUrl: tangle.nodes[0]!.indexerUrl } : {}),
      mnemonic: member.mnemonic,
      accountIndex: member.accountIndex,
      initialOutputs: member.initialOutputs,
      unsetEnv: 'TANGLEWATT_COMMUNITY_UNSET',
      wallet: {
        // Every household polls its book several times a second while the simulator waits.
        api: { rateLimitPerMinute: 100_000 },
        settlement: { lingerMs: 100, reattachAfterSeconds: 5 },
        market: { enabled: true, ...market },
        ledger: { pollIntervalMs: 250 },
      },
    },
    log.child({ household: member.name }, { level: 'warn' }),
  );
  return {
    name: member.name,
    role: member.role,
    dir: h.dir,
    url: h.url,
    token: h.token,
    address: h.address,
    service: h.service,
  };
}

/** Runs fn over items, at most `limit` at a time; results in items order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
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

/** Starts every household, in `members` order; stops the ones already started if one fails. */
export async function startHouseholds(
  tangle: TangleState,
  members: readonly Member[],
  market: MarketSettings,
  dataDir: string,
  log: Logger,
): Promise<CommunityHousehold[]> {
  const started: CommunityHousehold[] = [];
  try {
    // A few at a time: each start derives keys and runs scrypt twice.
    await mapLimit(members, 4, async (member) => {
      started.push(await startMember(tangle, member, market, dataDir, log));
    });
  } catch (error) {
    await stopHouseholds(started);
    throw error;
  }
  const byName = new Map(started.map((h) => [h.name, h]));
  return members.map((s) => byName.get(s.name)!);
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
