/**
 * Wallet-services as real processes on a real tangle, and the ledger read back: what the exactly-once
 * drill and the integration tests of copies, restarts and races share.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Payment } from '@tanglewatt/contract';
import { freePorts, type TangleState, WalletProcess } from '@tanglewatt/deploy';
import { generateMnemonic, MnemonicSigner, type NodeApi } from '@tanglewatt/ledger';
import { outputsCreatedFor } from './ledger-scan.js';
import { ProgressError, waitForProgress } from './progress.js';
import { prepareWallet } from './wallets.js';

/** One wallet-service process, restartable on the same config and port. */
export { WalletProcess as ServiceProcess };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const random = (min: number, max: number) => min + Math.random() * (max - min);

export interface Row {
  scenario: string;
  payments: number;
  paidOnce: number;
  lost: number;
  paidTwice: number;
  /** Paid with a body the service refused (409) for that key. */
  paidRefused: number;
  note: string;
}

export interface Household {
  dir: string;
  configFile: string;
  token: string;
  url: string;
  port: number;
  raw: Record<string, unknown>;
}

export async function household(tangle: TangleState, slot: number): Promise<Household> {
  const [port] = await freePorts(1);
  const prepared = await prepareWallet(tangle, {
    slot,
    claimSchedule: '0 0 1 1 *',
    listen: { host: '127.0.0.1', port: port! },
  });
  return {
    dir: prepared.dir,
    configFile: prepared.configFile,
    token: prepared.token,
    url: `http://127.0.0.1:${port}`,
    port: port!,
    raw: prepared.raw,
  };
}

/** The same household's keys and secrets under a second config: another data dir and port. */
export async function copyOf(h: Household, dataDir: string): Promise<Household> {
  const [port] = await freePorts(1);
  const raw = { ...h.raw, dataDir, listen: { host: '127.0.0.1', port } };
  const configFile = join(h.dir, `wallet-${port}.json`);
  await writeFile(configFile, JSON.stringify(raw, null, 2));
  return { ...h, configFile, url: `http://127.0.0.1:${port}`, port: port!, raw };
}

export async function freshPayee(tangle: TangleState): Promise<string> {
  const [payee] = await new MnemonicSigner(generateMnemonic()).addresses({
    count: 1,
    bech32Hrp: tangle.bech32Hrp,
  });
  return payee!;
}

export interface PaymentBody {
  idempotencyKey: string;
  to: string;
  amount: string;
}

/** Posts until the service gives a final answer (2xx or 409); retries through restarts and 5xx. */
export async function post(
  url: string,
  token: string,
  body: PaymentBody,
  deadlineMs = 120_000,
): Promise<number> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    }).catch(() => undefined);
    if (res && (res.status === 200 || res.status === 202 || res.status === 409)) return res.status;
    if (res && res.status >= 400 && res.status < 500 && res.status !== 429)
      throw new Error(`POST /payments ${body.idempotencyKey}: HTTP ${res.status} ${await res.text()}`);
    await sleep(150);
  }
  throw new Error(`POST /payments ${body.idempotencyKey}: no answer in ${deadlineMs / 1000} s`);
}

export async function payment(url: string, token: string, key: string): Promise<Payment | undefined> {
  const res = await fetch(`${url}/payments/${encodeURIComponent(key)}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  }).catch(() => undefined);
  return res?.status === 200 ? ((await res.json()) as Payment) : undefined;
}

/**
 * Waits until every key is included per the service, for as long as their states keep moving: fails naming
 * the states when none moved for `stallMs`, or at the ceiling.
 */
export async function waitSettled(
  url: string,
  token: string,
  keys: string[],
  { stallMs = 60_000, ceilingMs = 480_000 } = {},
): Promise<void> {
  await waitForProgress({
    what: `${keys.length} payments included by the wallet-service at ${url}`,
    probe: () => Promise.all(keys.map(async (k) => (await payment(url, token, k))?.state ?? 'unknown')),
    done: (states) => states.every((s) => s === 'included'),
    show: (states) =>
      [...new Set(states)].map((state) => `${states.filter((s) => s === state).length} ${state}`).join(', '),
    stallMs,
    ceilingMs,
    intervalMs: 500,
  });
}

/** waitSettled as a yes or no, for the drill's table. */
export async function settled(
  url: string,
  token: string,
  keys: string[],
  ceilingMs = 480_000,
): Promise<boolean> {
  try {
    await waitSettled(url, token, keys, { ceilingMs });
    return true;
  } catch (error) {
    if (error instanceof ProgressError) return false;
    throw error;
  }
}

/**
 * Counts, from the ledger, the outputs to `payee` in milestones after `fromMilestone`: each payment has an
 * amount no other payment (nor a refused body) has, so the amount says which payment an output is.
 */
export async function tally(
  node: NodeApi,
  payee: string,
  fromMilestone: number,
  accepted: Map<string, bigint>,
  refused: Map<string, bigint>,
): Promise<Pick<Row, 'paidOnce' | 'lost' | 'paidTwice' | 'paidRefused'>> {
  // A few milestones of slack, so a late duplicate would be seen too.
  const now = (await node.info()).status.confirmedMilestone.index;
  await waitForMilestone(node, now + 3);
  const outputs = await outputsCreatedFor(node, payee, fromMilestone, now + 3);
  const byAmount = new Map<bigint, number>();
  for (const o of outputs) byAmount.set(o.amount, (byAmount.get(o.amount) ?? 0) + 1);
  let paidOnce = 0;
  let lost = 0;
  let paidTwice = 0;
  let paidRefused = 0;
  for (const amount of accepted.values()) {
    const n = byAmount.get(amount) ?? 0;
    if (n === 0) lost++;
    else if (n === 1) paidOnce++;
    else paidTwice++;
  }
  for (const amount of refused.values()) if ((byAmount.get(amount) ?? 0) > 0) paidRefused++;
  return { paidOnce, lost, paidTwice, paidRefused };
}

export async function waitForMilestone(node: NodeApi, index: number): Promise<void> {
  await waitForProgress({
    what: `the tangle confirming milestone ${index}`,
    probe: async () => (await node.info()).status.confirmedMilestone.index,
    done: (confirmed) => confirmed >= index,
    stallMs: 30_000,
    ceilingMs: 300_000,
    intervalMs: 300,
  });
}

/** Payments of distinct amounts, all above the storage deposit so each is a plain output. */
export function bodies(prefix: string, payee: string, n: number, base: number): PaymentBody[] {
  return Array.from({ length: n }, (_, i) => ({
    idempotencyKey: `${prefix}/${i}`,
    to: payee,
    amount: String(base + i),
  }));
}

/** Kills and restarts a service at random moments until `stop` is called; resolves to the kill count. */
export function randomKiller(service: WalletProcess, minMs = 300, maxMs = 1500) {
  let running = true;
  let kills = 0;
  const loop = (async () => {
    while (running) {
      await sleep(random(minMs, maxMs));
      if (!running) break;
      await service.kill('SIGKILL');
      kills++;
      service.start();
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return kills;
    },
  };
}
