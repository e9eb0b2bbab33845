import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Payment } from '@tanglewatt/contract';
import {
  creatorOf,
  type StoredTransaction,
  startWalletService,
  unconfirmedParentOf,
  type WalletService,
} from '@tanglewatt/wallet-service';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { waitForProgress } from '../support/progress.js';
import { sharedTangle } from '../support/shared-tangle.js';
import { bodies, freshPayee, tally } from '../support/wallet-processes.js';
import { api, startTestWallet, type TestWallet } from '../support/wallets.js';

// Genesis slot 47: a wallet that starts with ONE output, so every transaction after the first can only
// spend the change of the one before.
const { tangle, node } = sharedTangle();
const perTransaction = 3;
const services: WalletService[] = [];
const dirs: string[] = [];
let wallet: TestWallet | undefined;
afterAll(async () => {
  for (const s of services) await s.stop().catch(() => undefined);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Every transaction a service signs while the transaction whose change it spends is still open. */
function chainedWhileOpen(service: WalletService): string[] {
  const chained: string[] = [];
  service.store.on('transaction', (tx: StoredTransaction) => {
    if (tx.state !== 'signed') return;
    const parent = unconfirmedParentOf(tx, (id) => service.store.transaction(id));
    if (parent && (parent.state === 'signed' || parent.state === 'posted')) chained.push(tx.txId);
  });
  return chained;
}

async function waitSettled(service: WalletService, keys: string[]): Promise<Payment[]> {
  await waitForProgress({
    what: `${keys.length} payments included`,
    probe: () => keys.filter((k) => service.store.get(k)?.state === 'included').length,
    done: (n) => n === keys.length,
    stallMs: 60_000,
    ceilingMs: 300_000,
  });
  return keys.map((k) => service.store.get(k)!);
}

const amountsOf = (requests: { idempotencyKey: string; amount: string }[]) =>
  new Map(requests.map((r) => [r.idempotencyKey, BigInt(r.amount)]));

describe('settlement chains transactions on unconfirmed change', () => {
  it('a burst from a wallet with one output is all included, later transactions built on change not yet confirmed, each payment on the ledger once', async () => {
    wallet = await startTestWallet(tangle, {
      slot: 47,
      settlement: { maxOutputsPerTransaction: perTransaction, maxInFlight: 4, maxChainDepth: 4 },
    });
    services.push(wallet.service);
    dirs.push(wallet.dir);
    expect(wallet.service.ledger.spendable()).toHaveLength(1);
    const chained = chainedWhileOpen(wallet.service);
    const payee = await freshPayee(tangle);
    const from = (await node.info()).status.confirmedMilestone.index;
    const requests = bodies('chain', payee, 4 * perTransaction, 130_000);
    const answers = await Promise.all(requests.map((r) => api(wallet!, 'POST', '/payments', r)));
    expect(answers.map((a) => a.status)).toEqual(requests.map(() => 202));

    const payments = await waitSettled(
      wallet.service,
      requests.map((r) => r.idempotencyKey),
    );
    const txIds = [...new Set(payments.map((p) => p.transactionId))];
    // However the burst was split, the transactions signed before the first was confirmed stood each on
    // the change of the one before: with four in flight, at least three of them.
    expect(txIds.length).toBeGreaterThanOrEqual(4);
    expect(chained.length).toBeGreaterThanOrEqual(3);
    for (const txId of chained) expect(txIds).toContain(txId);
    expect(await tally(node, payee, from, amountsOf(requests), new Map())).toEqual({
      paidOnce: requests.length,
      lost: 0,
      paidTwice: 0,
      paidRefused: 0,
    });
    // The chain spent the one output and left one: the last transaction's change.
    await waitForProgress({
      what: 'the wallet reading its last change',
      probe: () => wallet!.service.ledger.spendable().length,
      done: (n) => n === 1,
      stallMs: 30_000,
      ceilingMs: 60_000,
    });
  }, 600_000);

  it('two copies chain on the same one output: the chain whose root loses conflicts whole, and every payment is paid exactly once', async () => {
    // The wallet of the test before holds one output again; a copy of its data dir runs beside it.
    const first = wallet!;
    await first.service.stop();
    const copyDir = await mkdtemp(join(tmpdir(), 'tanglewatt-chain-copy-'));
    dirs.push(copyDir);
    await cp(first.config.dataDir, copyDir, { recursive: true });
    await rm(join(copyDir, 'wallet-service.lock'), { force: true });
    const logged: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) });
    const a = await startWalletService(first.config, log);
    services.push(a);
    const b = await startWalletService({ ...first.config, dataDir: copyDir }, log);
    services.push(b);
    for (const s of [a, b])
      await waitForProgress({
        what: 'a copy reading the ledger up to the node',
        probe: () => (s.ledger.caughtUp ? 1 : 0),
        done: (n) => n === 1,
        stallMs: 30_000,
        ceilingMs: 60_000,
      });
    expect(a.ledger.spendable()).toHaveLength(1);
    expect(b.ledger.spendable().map((o) => o.outputId)).toEqual(a.ledger.spendable().map((o) => o.outputId));

    const payee = await freshPayee(tangle);
    const from = (await node.info()).status.confirmedMilestone.index;
    const requests = bodies('copies', payee, 4 * perTransaction, 140_000);
    // The same payments to both copies at once (an agent retrying against a restored backup), in opposite
    // orders so their transactions differ (the same batch on the same input would be the very same
    // transaction): each signs a root on the one output and chains on its change before either root is
    // confirmed, and only one root can win.
    await Promise.all([
      ...requests.map((r) => api({ url: a.url, token: first.token }, 'POST', '/payments', r)),
      ...[...requests].reverse().map((r) => api({ url: b.url, token: first.token }, 'POST', '/payments', r)),
    ]);
    const keys = requests.map((r) => r.idempotencyKey);
    await Promise.all([waitSettled(a, keys), waitSettled(b, keys)]);

    // At least one root lost its input to the other copy's, and the transactions built on its change
    // conflicted with it.
    const warnings = logged.map(
      (line) => JSON.parse(line) as { msg: string; txId?: string; parent?: string },
    );
    const lostRoots = warnings.filter((w) => w.msg.startsWith('transaction conflicts; payments the winner'));
    const fellWithParent = warnings.filter((w) => w.msg.includes('it spends the change of transaction'));
    expect(lostRoots.length).toBeGreaterThanOrEqual(1);
    expect(fellWithParent.length).toBeGreaterThanOrEqual(1);
    const roots = new Set(lostRoots.map((w) => w.txId));
    expect(fellWithParent.some((w) => roots.has(w.parent))).toBe(true);
    // Whole: in each copy, every transaction on the change of a conflicting one conflicts too.
    for (const s of [a, b]) {
      const txs = s.store.allTransactions();
      const fallen = new Set(txs.filter((t) => t.state === 'conflicting').map((t) => t.txId));
      const onFallen = txs.filter((t) => t.inputs.some((i) => fallen.has(creatorOf(i))));
      expect(onFallen.map((t) => t.state)).toEqual(onFallen.map(() => 'conflicting'));
    }
    expect(await tally(node, payee, from, amountsOf(requests), new Map())).toEqual({
      paidOnce: requests.length,
      lost: 0,
      paidTwice: 0,
      paidRefused: 0,
    });
  }, 900_000);
});
