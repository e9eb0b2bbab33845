/**
 * Time from posting a matching order to the trade in the book, on a fresh local tangle with 1 s
 * milestones: a producer's wallet-service offers, a consumer's posts a matching buy; we time until both
 * households' rebuilt books show the trade.
 *
 *   npx tsx tests/bench/wallet-service/market.ts [rounds=10]
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, tangleDown } from '@tanglewatt/deploy';
import { startDevTangle } from '../../support/dev-tangle.js';
import { api, startTestWallet } from '../../support/wallets.js';

const rounds = Number(process.argv[2] ?? 10);
const log = createLogger('bench');
const dataDir = await mkdtemp(join(tmpdir(), 'tanglewatt-bench-market-'));
const tangle = await startDevTangle(dataDir, log);
try {
  const producer = await startTestWallet(tangle, { slot: 12 });
  const consumer = await startTestWallet(tangle, { slot: 13 });
  const tradesIn = async (w: typeof producer) =>
    (await api<{ trades: unknown[] }>(w, 'GET', '/market')).body.trades.length;
  const toBoth: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const window = { startMs: Date.now(), endMs: Date.now() + 3_600_000 };
    await api(producer, 'POST', '/market/sell', {
      energyWh: 1_000,
      priceUnitsPerWh: '100',
      window,
      minLotWh: 1,
    });
    const before = Math.min(await tradesIn(producer), await tradesIn(consumer));
    const t0 = performance.now();
    await api(consumer, 'POST', '/market/buy', { energyWh: 1_000, maxPriceUnitsPerWh: '100', window });
    while (Math.min(await tradesIn(producer), await tradesIn(consumer)) <= before) {
      await new Promise((r) => setTimeout(r, 25));
    }
    toBoth.push(performance.now() - t0);
  }
  await producer.service.stop();
  await consumer.service.stop();
  toBoth.sort((a, b) => a - b);
  const q = (p: number) => Math.round(toBoth[Math.min(toBoth.length - 1, Math.floor(p * toBoth.length))]!);
  process.stdout.write(
    `\nmatching buy posted → trade in both households' books (1 s milestones, ${rounds} rounds): ` +
      `min ${q(0)} ms, p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${q(1)} ms\n`,
  );
} finally {
  await tangleDown(dataDir);
  await rm(dataDir, { recursive: true, force: true });
}
