/**
 * Settlement throughput and latency, in one run on a fresh local tangle with 1 s milestones:
 *   A. N payments POSTed to a wallet-service as fast as a client can, batched by the service;
 *   B. the same kind of transfers made straight with the SDK, one transaction per payment, each waiting
 *      for the previous one's change (what a client without the service would do).
 * Prints payments per second for both, and p50/p99 from POST to included for A.
 *
 *   npx tsx tests/bench/wallet-service/settlement.ts [payments=200] [direct=15]
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, devMnemonic, fundedSlot, tangleDown } from '@tanglewatt/deploy';
import { generateMnemonic, LedgerClient, MnemonicSigner, NodeApi, outputIdOf } from '@tanglewatt/ledger';
import { startWalletService } from '@tanglewatt/wallet-service';
import pino from 'pino';
import { startDevTangle } from '../../support/dev-tangle.js';
import { prepareWallet } from '../../support/wallets.js';

const N = Number(process.argv[2] ?? 200);
const DIRECT = Number(process.argv[3] ?? 15);
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

const log = createLogger('bench');
const dataDir = await mkdtemp(join(tmpdir(), 'tanglewatt-bench-'));
const tangle = await startDevTangle(dataDir, log);
const node = new NodeApi(tangle.nodes[0]!.restUrl);
try {
  const payees = await new MnemonicSigner(generateMnemonic()).addresses({
    count: 20,
    bech32Hrp: tangle.bech32Hrp,
  });

  // A: through the wallet-service.
  const prepared = await prepareWallet(tangle, { slot: 10, settlement: { lingerMs: 250 } });
  const service = await startWalletService(prepared.config, pino({ level: 'warn' }));
  const postedAt = new Map<string, number>();
  const latencies: number[] = [];
  const allIncluded = new Promise<void>((resolve) => {
    service.store.on('payment', (p) => {
      const t0 = postedAt.get(p.idempotencyKey);
      if (p.state === 'included' && t0 !== undefined) {
        latencies.push(performance.now() - t0);
        postedAt.delete(p.idempotencyKey);
        if (latencies.length === N) resolve();
      }
    });
  });
  const startA = performance.now();
  await Promise.all(
    Array.from({ length: N }, async (_, i) => {
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
    }),
  );
  await allIncluded;
  const secondsA = (performance.now() - startA) / 1000;
  const transactions = new Set(service.store.list({ limit: N }).items.map((p) => p.transactionId)).size;
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

  latencies.sort((a, b) => a - b);
  const rows = [
    ['path', 'payments', 'transactions', 'seconds', 'payments/s', 'p50 POST→included', 'p99 POST→included'],
    [
      'wallet-service (batched)',
      N,
      transactions,
      secondsA.toFixed(1),
      (N / secondsA).toFixed(1),
      `${Math.round(quantile(latencies, 0.5))} ms`,
      `${Math.round(quantile(latencies, 0.99))} ms`,
    ],
    ['SDK direct, one per tx', DIRECT, DIRECT, secondsB.toFixed(1), (DIRECT / secondsB).toFixed(2), '-', '-'],
  ];
  process.stdout.write(`\nsettlement on ${(await node.info()).version}, 1 s milestones\n`);
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
} finally {
  await tangleDown(dataDir);
  await rm(dataDir, { recursive: true, force: true });
}
