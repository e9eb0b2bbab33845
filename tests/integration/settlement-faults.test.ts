import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { billFromIndexer, checkBill, parseBillConfig, readPayments, ZERO_BASELINE } from '@tanglewatt/bills';
import type { Balance, Payment } from '@tanglewatt/contract';
import { ensureBinaries, startIndexer, stopIndexer } from '@tanglewatt/deploy';
import { generateMnemonic, IndexerApi, MnemonicSigner, NodeApi } from '@tanglewatt/ledger';
import {
  PaymentsStore,
  parseWalletConfig,
  startWalletService,
  type WalletService,
} from '@tanglewatt/wallet-service';
import pino from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { outputsCreatedFor } from '../support/ledger-scan.js';
import { waitForProgress } from '../support/progress.js';
import { api, prepareWallet, startTestWallet, type TestWallet } from '../support/wallets.js';

const tangle = inject('tangle');
const node = new NodeApi(tangle.nodes[0]!.restUrl);
const log = pino({ level: process.env.LOG_LEVEL ?? 'warn' });

const running: { stop(): Promise<void> }[] = [];
afterAll(async () => {
  for (const s of running) await s.stop().catch(() => undefined);
});

async function freshAddress(): Promise<string> {
  const [address] = await new MnemonicSigner(generateMnemonic()).addresses({
    count: 1,
    bech32Hrp: tangle.bech32Hrp,
  });
  return address!;
}

async function startFrom(dir: string, instance: string): Promise<WalletService> {
  const raw = JSON.parse(await readFile(join(dir, 'wallet.json'), 'utf8'));
  const service = await startWalletService(parseWalletConfig(raw, dir), log.child({ instance }));
  running.push(service);
  return service;
}

const included = (service: WalletService, keys: string[]) =>
  keys.filter((k) => service.store.get(k)?.state === 'included').length;

describe('settlement under faults, on the real tangle', () => {
  it('two wallet-services over copies of one data dir pay every key exactly once', async () => {
    const startMilestone = (await node.info()).status.confirmedMilestone.index;
    const prepared = await prepareWallet(tangle, { slot: 32 });
    const payee = await freshAddress();
    // Payments queued in the data dir, as a backup taken while they waited would hold them.
    await mkdir(prepared.config.dataDir, { recursive: true });
    const store = await PaymentsStore.open(prepared.config.dataDir);
    const queued = Array.from({ length: 20 }, (_, i) => ({
      idempotencyKey: `twin/${i}`,
      to: payee,
      amount: String(50_000 + i),
    }));
    for (const r of queued) await store.request(r, { micro: false });
    await store.close();
    const copy = `${prepared.dir}-restored`;
    await cp(prepared.dir, copy, { recursive: true });
    // The restored copy batches differently, so the two build different transactions from one input
    // (identical batches would make identical transactions, which the ledger includes once anyway).
    const restored = JSON.parse(await readFile(join(copy, 'wallet.json'), 'utf8'));
    restored.settlement = { ...restored.settlement, maxOutputsPerTransaction: 7 };
    await writeFile(join(copy, 'wallet.json'), JSON.stringify(restored));

    const [a, b] = await Promise.all([startFrom(prepared.dir, 'a'), startFrom(copy, 'b')]);
    // Both also receive the same new payments, as one agent talking to either would send them.
    const later = Array.from({ length: 10 }, (_, i) => ({
      idempotencyKey: `twin/later/${i}`,
      to: payee,
      amount: String(70_000 + i),
    }));
    for (const r of later) {
      for (const w of [a, b]) {
        const res = await api<Payment>({ url: w.url, token: prepared.token }, 'POST', '/payments', r);
        expect([200, 202]).toContain(res.status);
      }
    }
    const keys = [...queued, ...later].map((r) => r.idempotencyKey);
    await waitForProgress({
      what: `all ${keys.length} keys included as both copies see them`,
      probe: () => Math.min(included(a, keys), included(b, keys)),
      done: (n) => n === keys.length,
      stallMs: 60_000,
      ceilingMs: 480_000,
      intervalMs: 500,
    });

    // Both copies agree on where each key was paid, and the ledger holds exactly one output per key.
    for (const k of keys) expect(b.store.get(k)!.outputId).toBe(a.store.get(k)!.outputId);
    const end = Math.max(...keys.map((k) => a.store.get(k)!.milestoneIndex!));
    const created = await outputsCreatedFor(node, payee, startMilestone, end);
    expect(created).toHaveLength(keys.length);
    expect(created.map((o) => o.amount).sort((x, y) => Number(x - y))).toEqual(
      [...queued, ...later].map((r) => BigInt(r.amount)).sort((x, y) => Number(x - y)),
    );
    expect(new Set(created.map((o) => o.outputId))).toEqual(
      new Set(keys.map((k) => a.store.get(k)!.outputId)),
    );
  }, 600_000); // an outer bound only: the waits inside fail on a stall

  it('a payment that cannot be funded waits without holding up later ones, and can be cancelled', async () => {
    const wallet = await startTestWallet(tangle, { slot: 33 });
    running.push(wallet.service);
    const payee = await freshAddress();
    const supply = BigInt((await node.info()).protocol.tokenSupply);

    const tooMuch = await api(wallet, 'POST', '/payments', {
      idempotencyKey: 'fund/over-supply',
      to: payee,
      amount: String(supply + 1n),
    });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body).toMatchObject({ error: { field: 'amount' } });

    // More than this wallet holds, but a possible amount: it waits for funds.
    const big = await api<Payment>(wallet, 'POST', '/payments', {
      idempotencyKey: 'fund/big',
      to: payee,
      amount: String(supply / 2n),
    });
    expect(big.status).toBe(202);
    const small = { idempotencyKey: 'fund/small', to: payee, amount: '12345' };
    expect((await api(wallet, 'POST', '/payments', small)).status).toBe(202);

    await expect
      .poll(() => wallet.service.store.get('fund/small')?.state, { timeout: 60_000, interval: 250 })
      .toBe('included');
    const waiting = (await api<Payment>(wallet, 'GET', '/payments/fund%2Fbig')).body;
    expect(waiting.state).toBe('queued');
    expect(waiting.error).toMatch(/^waiting for funds: /);

    const cancelled = await api<Payment>(wallet, 'POST', '/payments/fund%2Fbig/cancel');
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    const again = await api<Payment>(wallet, 'POST', '/payments/fund%2Fbig/cancel');
    expect(again.status).toBe(200);
    expect(again.body.state).toBe('cancelled');
    const late = await api<{ error: { code: string; message: string } }>(
      wallet,
      'POST',
      '/payments/fund%2Fsmall/cancel',
    );
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('NOT_CANCELLABLE');
    expect(late.body.error.message).not.toContain('\n');
    const unauthorised = await api(wallet, 'POST', '/payments/fund%2Fbig/cancel', undefined, null);
    expect(unauthorised.status).toBe(401);
  }, 120_000);

  it("a micro-payment share its payee let expire is taken back and paid again to that payee, once; the payee's claimed output is not", async () => {
    // An indexer beside the node from before the payments: the payer's bill is read through it at the end.
    const indexerDir = await mkdtemp(join(tmpdir(), 'tanglewatt-lapse-indexer-'));
    const binary = (await ensureBinaries({ log }))['tanglewatt-indexer'];
    if (!binary) throw new Error('tanglewatt-indexer did not build: see the ensureBinaries warning above');
    const indexer = await startIndexer({
      binary,
      inxAddress: `127.0.0.1:${tangle.ports.inx}`,
      dataDir: join(indexerDir, 'indexer'),
    });
    running.push({
      stop: async () => {
        await stopIndexer(indexer);
        await rm(indexerDir, { recursive: true, force: true });
      },
    });
    const cycle = { from: new Date(Date.now() - 60_000).toISOString(), to: '' };
    // Expiry 75 s: a payee claims a micro-payment only while more than 60 s are left, so 15 s to claim.
    const payer = await startTestWallet(tangle, { slot: 34, settlement: { microExpirationSeconds: 75 } });
    // Two payees, each with a plain output to merge a claim into: the producer claims every 2 s, the
    // operator only when asked.
    const [producer, operator] = [
      await startTestWallet(tangle),
      await startTestWallet(tangle, { claimSchedule: '0 0 1 1 *' }),
    ];
    running.push(payer.service, producer.service, operator.service);
    const pay = (body: unknown) => api(payer, 'POST', '/payments', body);
    for (const [key, to] of [
      ['lapse/fund-producer', producer],
      ['lapse/fund-operator', operator],
    ] as const)
      expect((await pay({ idempotencyKey: key, to: to.service.address, amount: '10000' })).status).toBe(202);
    const share = { role: 'operator', to: operator.service.address, amount: '3' };
    expect(
      (await pay({ idempotencyKey: 'lapse', to: producer.service.address, amount: '7', shares: [share] }))
        .status,
    ).toBe(202);
    const keys = ['lapse/fund-producer', 'lapse/fund-operator', 'lapse'];
    await expect.poll(() => included(payer.service, keys), { timeout: 60_000, interval: 250 }).toBe(3);
    const paid = payer.service.store.get('lapse')!;
    expect([paid.micro, paid.shares?.[0]?.micro]).toEqual([true, true]);
    const shareOutput = paid.shares![0]!.outputId!;

    // The producer claims its 7 in time; the operator lets its 3 expire.
    const balanceOf = async (w: TestWallet) => (await api<Balance>(w, 'GET', '/balance')).body;
    await expect
      .poll(async () => (await balanceOf(producer)).availableUnits, { timeout: 30_000, interval: 250 })
      .toBe('10007');

    // After the expiry the payer takes the share back and pays it again, by a payment of its own.
    const repayKey = `lapse/repay/${shareOutput}`;
    await expect
      .poll(() => payer.service.store.get(repayKey)?.state, { timeout: 150_000, interval: 250 })
      .toBe('included');
    const spentBy = await node.outputMetadata(shareOutput);
    expect(payer.service.store.transaction(spentBy.transactionIdSpent!)?.kind).toBe('consolidation');
    expect(payer.service.store.get('lapse')).toMatchObject({
      state: 'included',
      expired: [{ outputId: shareOutput, role: 'operator', repayKey }],
    });
    expect(payer.service.store.get(repayKey)).toMatchObject({
      to: operator.service.address,
      amount: '3',
      repays: { key: 'lapse', outputId: shareOutput, role: 'operator' },
    });

    // The operator claims the new output (asked until its own funding output is read and can take the 3):
    // it has received its 3 exactly once, the producer its 7 once.
    await expect
      .poll(
        async () => {
          await api(operator, 'POST', '/claims');
          return (await balanceOf(operator)).availableUnits;
        },
        { timeout: 30_000, interval: 1000 },
      )
      .toBe('10003');
    const repaid = payer.service.store.list({ limit: 1000 }).items.filter((p) => p.repays);
    expect(repaid.map((p) => p.idempotencyKey)).toEqual([repayKey]);
    expect((await balanceOf(producer)).availableUnits).toBe('10007');

    // The payer's bill, from the ledger through the indexer: the period's one line holds what its payees
    // finally received (7 and 3: the taken-back output counts nothing, the repayment counts in it), and
    // the bill verifies against the ledger (no EXTRA_LINE for the repayment).
    const indexerApi = new IndexerApi(indexer.url);
    const repayTx = payer.service.store.get(repayKey)!.transactionId!;
    cycle.to = new Date(Date.now() + 60_000).toISOString();
    const config = parseBillConfig({ ...ZERO_BASELINE, timeZone: 'UTC' }, cycle);
    const lineOf = async () =>
      (await billFromIndexer(indexerApi, payer.service.address, config)).lines.find((l) => l.key === 'lapse');
    await expect
      .poll(async () => (await lineOf())?.repaidBy, { timeout: 30_000, interval: 500 })
      .toEqual([repayTx]);
    const bill = await billFromIndexer(indexerApi, payer.service.address, config);
    expect(bill.lines.map((l) => l.key).sort()).toEqual([
      'lapse',
      'lapse/fund-operator',
      'lapse/fund-producer',
    ]);
    expect(bill.lines.find((l) => l.key === 'lapse')).toMatchObject({
      transactionId: paid.transactionId,
      amountUnits: '7',
      operatorUnits: '3',
    });
    expect(bill.totals).toMatchObject({ operatorFeeUnits: '3', paidUnits: '20010' });
    const ledger = await readPayments(indexerApi, payer.service.address, () => undefined);
    expect(checkBill(bill, { payments: ledger })).toEqual([]);
  }, 300_000);

  it('a payee with no plain output of its own claims micro-payments whose kept amounts make a deposit', async () => {
    const payer = await startTestWallet(tangle, { slot: 35 });
    const payee: TestWallet = await startTestWallet(tangle, { claimSchedule: '0 0 1 1 *' });
    running.push(payer.service, payee.service);
    const keys = ['claim/a', 'claim/b'];
    for (const k of keys)
      expect(
        (
          await api(payer, 'POST', '/payments', {
            idempotencyKey: k,
            to: payee.service.address,
            amount: '2500',
          })
        ).status,
      ).toBe(202);
    await expect.poll(() => included(payer.service, keys), { timeout: 60_000, interval: 250 }).toBe(2);
    const balanceOf = async () => (await api<Balance>(payee, 'GET', '/balance')).body;
    await expect.poll(async () => (await balanceOf()).claimableUnits, { timeout: 30_000 }).toBe('5000');
    expect((await balanceOf()).availableUnits).toBe('0');

    expect((await api(payee, 'POST', '/claims')).status).toBe(202);
    await expect
      .poll(async () => (await balanceOf()).availableUnits, { timeout: 60_000, interval: 250 })
      .toBe('5000');
    expect((await balanceOf()).claimableUnits).toBe('0');
    for (const k of keys)
      expect((await node.outputMetadata(payer.service.store.get(k)!.outputId!)).isSpent).toBe(true);
  }, 120_000);
});
