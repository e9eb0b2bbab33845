import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedTangle } from '../support/shared-tangle.js';
import {
  bodies,
  copyOf,
  freshPayee,
  household,
  payment,
  post,
  ServiceProcess,
  sleep,
  tally,
  waitForMilestone,
  waitSettled,
} from '../support/wallet-processes.js';

const { tangle, node } = sharedTangle();
const services: ServiceProcess[] = [];
afterAll(async () => {
  await Promise.all(services.map((s) => s.kill('SIGKILL')));
});

function service(configFile: string, url: string): ServiceProcess {
  const s = new ServiceProcess(configFile, url);
  services.push(s);
  return s;
}

/** A funded household (genesis slot `slot`) with its service up, a fresh payee, and the milestone to count from. */
async function householdUp(slot: number) {
  const h = await household(tangle, slot);
  const payee = await freshPayee(tangle);
  const from = (await node.info()).status.confirmedMilestone.index;
  const s = service(h.configFile, h.url);
  s.start();
  await s.up();
  return { h, payee, from, s };
}

describe('wallet-service: one payment per key whatever runs beside it', () => {
  it('two bodies for one key at once: the one answered 202 is stored and paid once, also across kill -9 before and after signing', async () => {
    const { h, payee, from, s } = await householdUp(10);
    const a = bodies('race', payee, 8, 110_000);
    const b = a.map((p, i) => ({ ...p, amount: String(210_000 + i) }));
    const accepted = new Map<string, bigint>();
    const refused = new Map<string, bigint>();
    for (const [i, first] of a.entries()) {
      const second = b[i]!;
      const [sa, sb] = await Promise.all([post(h.url, h.token, first), post(h.url, h.token, second)]);
      expect([sa, sb].sort()).toEqual([202, 409]);
      const [win, lose] = sa === 202 ? [first, second] : [second, first];
      accepted.set(win.idempotencyKey, BigInt(win.amount));
      refused.set(lose.idempotencyKey, BigInt(lose.amount));
      // Kill at different points: right after the answer (before signing) for even keys, later for odd.
      if (i % 2 === 0) await s.kill('SIGKILL');
      else {
        await sleep(700);
        await s.kill('SIGKILL');
      }
      s.start();
      await s.up();
      const stored = await payment(h.url, h.token, win.idempotencyKey);
      expect(stored?.amount).toBe(win.amount);
    }
    await waitSettled(h.url, h.token, [...accepted.keys()]);
    for (const [key, amount] of accepted)
      expect((await payment(h.url, h.token, key))?.amount).toBe(String(amount));
    await s.kill('SIGTERM');
    expect(await tally(node, payee, from, accepted, refused)).toEqual({
      paidOnce: 8,
      lost: 0,
      paidTwice: 0,
      paidRefused: 0,
    });
  }, 900_000); // an outer bound only: the waits inside fail on a stall

  it('a second instance on the same data dir exits with one line naming the holder', async () => {
    const h = await household(tangle, 11);
    const first = service(h.configFile, h.url);
    const child = first.start();
    await first.up();
    const same = await copyOf(h, String(h.raw.dataDir));
    const second = service(same.configFile, same.url);
    const code = await new Promise<number | null>((resolve) => second.start().once('exit', resolve));
    expect(code).toBe(2);
    expect(second.stderr.trim()).toBe(
      `wallet-service: DATA_DIR_LOCKED: another wallet-service (pid ${child.pid}) is using ${join(h.dir, String(h.raw.dataDir))}: stop it first, or give this one another dataDir`,
    );
    // The first one is untouched by the attempt.
    expect((await fetch(`${h.url}/health`)).status).toBe(200);
    await first.kill('SIGTERM');
  }, 120_000);

  it('a restored backup and two copies running at once pay every key once on the ledger', async () => {
    const { h, payee, from, s: a } = await householdUp(12);
    const requests = bodies('copies', payee, 10, 120_000);
    await Promise.all(requests.map((r) => post(h.url, h.token, r)));
    // A backup taken while the payments are on their way.
    const dataDir = join(h.dir, String(h.raw.dataDir));
    await cp(dataDir, join(h.dir, 'backup'), { recursive: true });
    await rm(join(h.dir, 'backup', 'wallet-service.lock'), { force: true });
    // The backup, restored into a second data dir, started beside the original.
    const restored = await copyOf(h, 'backup');
    const b = service(restored.configFile, restored.url);
    b.start();
    await b.up();
    const keys = requests.map((r) => r.idempotencyKey);
    await Promise.all([waitSettled(h.url, h.token, keys), waitSettled(restored.url, h.token, keys)]);
    // The agent asks the restored copy again: answered from what the ledger says, not paid again.
    for (const r of requests) expect(await post(restored.url, h.token, r)).toBe(200);
    // Three milestones with both running: time enough to sign and send a second payment, were one made.
    await waitForMilestone(node, (await node.info()).status.confirmedMilestone.index + 3);
    await Promise.all([a.kill('SIGTERM'), b.kill('SIGTERM')]);
    const accepted = new Map(requests.map((r) => [r.idempotencyKey, BigInt(r.amount)]));
    expect(await tally(node, payee, from, accepted, new Map())).toEqual({
      paidOnce: 10,
      lost: 0,
      paidTwice: 0,
      paidRefused: 0,
    });
  }, 900_000); // an outer bound only: the waits inside fail on a stall
});
