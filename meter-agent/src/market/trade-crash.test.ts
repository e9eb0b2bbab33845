// CRASH TEST for market trades. Spawns the real agent CLI in real time (trade windows are the network's
// time), kills it with SIGKILL while it delivers a trade, restarts it on the same data dir, and checks that
// the trade is delivered in full and its seller paid exactly its price, each increment once. ~40 s.
import { describe, expect, it } from 'vitest';
import { waitForProgress } from '../../../tests/support/progress.js';
import { readState } from '../store/state.js';
import { sleep } from '../testing/agent-process.js';
import { crashHarness } from '../testing/crash-run.js';
import { agentConfig, constantLoad } from '../testing/fixtures.js';
import { marketTrade } from '../testing/trade.js';

const TOKEN = 'trade-crash-test-token';
const TRADE_ID = '7'.repeat(64);
const KILLS = 3;

const { wallet, prepare } = crashHarness(TOKEN);

describe('crash test: kill -9 the real agent while it delivers a market trade', () => {
  it('delivers the trade in full and pays the seller its price exactly once', {
    // A hang guard: each run waits for the agent's own start, which takes long on a loaded machine.
    timeout: 300_000,
  }, async () => {
    const now = Date.now();
    // 3 Wh at 100 000 units/Wh; at 360 W the delivery takes 30 s of metered time.
    wallet.trades = [marketTrade('7', now, { energyWh: 3, priceUnitsPerWh: '100000' })];
    const crash = await prepare('meter-agent-trade-crash-', (url, dataDir) =>
      agentConfig(dataDir, {
        meterId: 'trade-crash-meter',
        sensors: [constantLoad(12_000, 30_000)],
        sampleIntervalMs: 500,
        period: { seconds: 5 },
        price: { unitsPerWh: '1000' },
        walletService: { url, timeoutMs: 3000 },
        payments: { backoffBaseMs: 200, backoffCapMs: 2000 },
        prepaid: { enabled: true, relay: { kind: 'simulated' } },
        market: { pollSeconds: 1 },
      }),
    );
    const { config, seed, random } = crash;
    const context = () => crash.context();

    for (let run = 0; run < KILLS; run++) {
      const child = await crash.spawn();
      await crash.untilStarted(run, waitForProgress);
      if (run === 1) {
        // One kill lands between the wallet-service taking a payment and the agent journaling the answer.
        await Promise.race([new Promise<void>((resolve) => (wallet.holdNext = resolve)), sleep(15_000)]);
        wallet.holdNext = undefined;
      } else {
        await sleep(4000 + random() * 4000);
      }
      await crash.kill(child);
    }
    const state0 = await readState(config.dataDir!);
    expect(state0.trades.get(TRADE_ID)?.closed, `killed before the trade was delivered, ${context()}`).toBe(
      undefined,
    );

    // The last run: let it finish the trade and settle, then stop it the way systemd does.
    const last = await crash.spawn();
    const started = Date.now();
    for (;;) {
      await sleep(300);
      const state = await readState(config.dataDir!);
      const entry = state.trades.get(TRADE_ID);
      const answered = entry?.dues.every((d) => state.outcomes.has(d.key));
      if ((entry?.closed && answered) || Date.now() - started > 60_000) break;
    }
    await crash.stop(last);

    const state = await readState(config.dataDir!);
    const entry = state.trades.get(TRADE_ID)!;
    expect(entry.closed, context()).toMatchObject({ state: 'delivered', creditedMWs: '10800000' });
    // One amount per key ever, every increment answered, and together exactly 3 Wh × 100 000 units/Wh.
    expect(wallet.conflicts, context()).toEqual([]);
    const tradeKeys = [...wallet.amounts.keys()].filter((k) => k.startsWith(`market/${TRADE_ID}/`));
    expect(tradeKeys.sort()).toEqual(entry.dues.map((d) => d.key).sort());
    expect(tradeKeys.reduce((sum, k) => sum + BigInt(wallet.amounts.get(k)!), 0n)).toBe(300_000n);
    expect(entry.dues.every((d) => state.outcomes.get(d.key)?.result === 'accepted')).toBe(true);
    // The periods left exactly the traded 3 Wh out of the regular payments.
    const traded = state.periods.reduce((sum, p) => sum + BigInt(p.traded?.halfNJ ?? '0'), 0n);
    expect(BigInt(state.periods.at(-1)!.traded!.totalHalfNJ)).toBe(traded);
    expect(traded, context()).toBeLessThanOrEqual(10_800_000n * 2_000_000n);
    expect(wallet.acks).toContain(TRADE_ID);
    const log = await crash.log();
    expect(log.match(/meter-agent started/g)?.length).toBe(KILLS + 1);
    expect(log).not.toContain(TOKEN);
    console.info(
      `trade crash test (seed ${seed}): ${KILLS} kills, ${entry.dues.length} trade payments, ` +
        `${wallet.requests.filter((r) => r.key.startsWith('market/') && r.status === 200).length} repeats`,
    );
  });
});
