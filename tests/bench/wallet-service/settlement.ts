/**
 * Settlement throughput and latency, in one run on a fresh local tangle with 1 s milestones:
 *   A. ROUNDS bursts of N payments POSTed to a wallet-service as fast as a client can, batched by the
 *      service, each burst at a random point of the milestone clock;
 *   A'. a steady stream of RATE payments per second for STEADY seconds (how meters send them);
 *   B. the same kind of transfers made straight with the SDK, one transaction per payment, each waiting
 *      for the previous one's change (what a client without the service would do).
 * Prints payments per second for the bursts and B, and p50/p99 from POST to included for A and A'.
 *
 *   npx tsx tests/bench/wallet-service/settlement.ts [payments=200] [direct=15] [rounds=5] [rate=10] [steady=30]
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, devMnemonic, fundedSlot, tangleDown } from '@tanglewatt/deploy';
import { generateMnemonic, LedgerClient, MnemonicSigner, NodeApi, outputIdOf } from '@tanglewatt/ledger';
import { startWalletService } from '@tanglewatt/wallet-service';
import pino from 'pino';
import { startDevTangle } from '../../support/dev-tangle.js';
import { prepareWallet } from '../../support/wallets.js';

const N = Number(process.argv[2] ?? 200);
const DIRECT = Number(process.argv[3] ?? 15);
const ROUNDS = Number(process.argv[4] ?? 5);
const RATE = Number(process.argv[5] ?? 10);
const STEADY_SECONDS = Number(process.argv[6] ?? 30);
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const ms = (value: number) => `${Math.round(value)} ms`;

const log = createLogger('bench');
const dataDir = await mkdtemp(join(tmpdir(), 'tanglewatt-bench-'));
const tangle = await startDevTangle(dataDir, log);
const node = new NodeApi(tangle.nodes[0]!.restUrl);
try {
  const payees = await new MnemonicSigner(generateMnemonic()).addresses({
    count: 20,
    bech32Hrp: tangle.bech32Hrp,
  });

  // A: through the wallet-service, in bursts and as a steady stream.
  const prepared = await prepareWallet(tangle, { slot: 10, settlement: { lingerMs: 250 } });
  // One client sends every payment here: above the default limit of 1,200 requests a minute per client.
  const config = { ...prepared.config, api: { ...prepared.config.api, rateLimitPerMinute: 60_000 } };
  const service = await startWalletService(config, pino({ level: 'warn' }));
  const postedAt = new Map<string, number>();
  const includedAfter = new Map<string, number>();
  const waiters = new Set<() => void>();
  service.store.on('payment', (p) => {
    const t0 = postedAt.get(p.idempotencyKey);
    if (p.state !== 'included' || t0 === undefined) return;
    includedAfter.set(p.idempotencyKey, performance.now() - t0);
    postedAt.delete(p.idempotencyKey);
    for (const wake of waiters) wake();
  });
  const allIncluded = async (keys: string[]) => {
    while (keys.some((k) => !includedAfter.has(k)))
      await new Promise<void>((resolve) => {
        waiters.add(resolve);
        setTimeout(resolve, 1000);
      }).finally(() => waiters.clear());
    return keys.map((k) => includedAfter.get(k)!);
  };
  let sequence = 0;
  const pay = async () => {
    const i = sequence++;
    const key = `bench/${i}`;
    postedAt.set(key, performance.now());
    const res = await fetch(`${service.url}/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${prepared.token}` },
      body: JSON.stringify({
        idempotencyKey: key,
        to: payees[i % payees.length],
        amount: String(10_000 + i),
      }),
    });
    if (res.status !== 202) throw new Error(`POST ${key}: ${res.status} ${await res.text()}`);
    return key;
  };

  // A running service knows the milestone rhythm (see milestone-clock.ts); one just started learns it from
  // its first few milestones: measure from then on.
  await sleep(5_000);

  // Bursts: N payments at once, each round at a random point of the milestone clock (a payment cannot be
  // included before the next milestone, so one burst's latency is one draw of where it falls).
  const burstLatencies: number[] = [];
  const burstRounds: string[] = [];
  const transactionsPerBurst: number[] = [];
  let burstSeconds = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await sleep(Math.random() * 1000);
    const started = performance.now();
    const keys = await Promise.all(Array.from({ length: N }, pay));
    const latencies = (await allIncluded(keys)).sort((a, b) => a - b);
    burstSeconds += (performance.now() - started) / 1000;
    burstLatencies.push(...latencies);
    burstRounds.push(`${ms(quantile(latencies, 0.5))}/${ms(quantile(latencies, 0.99))}`);
    const wanted = new Set(keys);
    transactionsPerBurst.push(
      new Set(
        service.store
          .list({ limit: 10_000 })
          .items.filter((p) => wanted.has(p.idempotencyKey))
          .map((p) => p.transactionId),
      ).size,
    );
  }

  // A steady stream: one payment every 1/RATE s, as meters closing their periods at different seconds send them.
  const steadyKeys: Promise<string>[] = [];
  const steadyStart = performance.now();
  for (let i = 0; i < RATE * STEADY_SECONDS; i++) {
    const due = steadyStart + (i * 1000) / RATE;
    await sleep(Math.max(0, due - performance.now()));
    steadyKeys.push(pay());
  }
  const steadyLatencies = (await allIncluded(await Promise.all(steadyKeys))).sort((a, b) => a - b);
  await service.stop();

  // B: straight with the SDK, one payment per transaction.
  const account = fundedSlot(tangle, 11);
  const signer = new MnemonicSigner(await devMnemonic());
  const client = new LedgerClient(tangle.nodes[0]!.restUrl);
  let input = account.outputId;
  const startB = performance.now();
  for (let i = 0; i < DIRECT; i++) {
    const sent = await client.transfer({
      signer,
      accountIndex: account.accountIndex,
      inputs: [input],
      to: payees[i % payees.length]!,
      amount: BigInt(10_000 + i),
      remainderAddress: account.address,
    });
    await node.waitForReferenced(sent.blockId);
    // The change comes back as the second output; the next transfer spends it.
    input = outputIdOf(sent.transactionId, 1);
  }
  const secondsB = (performance.now() - startB) / 1000;
  await client.destroy();

  burstLatencies.sort((a, b) => a - b);
  const rows = [
    ['path', 'payments', 'transactions', 'seconds', 'payments/s', 'p50 POST→included', 'p99 POST→included'],
    [
      `wallet-service, ${ROUNDS} bursts of ${N} (batched)`,
      N * ROUNDS,
      transactionsPerBurst.reduce((a, b) => a + b, 0),
      burstSeconds.toFixed(1),
      ((N * ROUNDS) / burstSeconds).toFixed(1),
      `${ms(quantile(burstLatencies, 0.5))}`,
      `${ms(quantile(burstLatencies, 0.99))}`,
    ],
    [
      `wallet-service, steady ${RATE}/s for ${STEADY_SECONDS} s`,
      steadyLatencies.length,
      '-',
      '-',
      '-',
      `${ms(quantile(steadyLatencies, 0.5))}`,
      `${ms(quantile(steadyLatencies, 0.99))}`,
    ],
    ['SDK direct, one per tx', DIRECT, DIRECT, secondsB.toFixed(1), (DIRECT / secondsB).toFixed(2), '-', '-'],
  ];
  process.stdout.write(`\nsettlement on ${(await node.info()).version}, 1 s milestones\n`);
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
  process.stdout.write(
    `bursts, p50/p99 of each: ${burstRounds.join(', ')}; transactions per burst: ${transactionsPerBurst.join(', ')}\n`,
  );
} finally {
  await tangleDown(dataDir);
  await rm(dataDir, { recursive: true, force: true });
}
