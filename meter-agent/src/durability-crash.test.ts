// CRASH TEST for grouped sample writes (durability {everySeconds: N}): runs the real agent CLI at 10× time,
// kills it with SIGKILL at random points, and checks that each kill lost at most the samples of the last
// N s, and nothing recorded downstream: every period and payment answer journaled before a kill is still
// there after it, each closed period's samples are all on disk, and every period owed is paid exactly once.
import { describe, expect, it } from 'vitest';
import { waitForProgress } from '../../tests/support/progress.js';
import { readAllSamples } from './store/sample-store.js';
import { paymentState, readState } from './store/state.js';
import { sleep } from './testing/agent-process.js';
import { crashHarness } from './testing/crash-run.js';
import { agentConfig, constantLoad } from './testing/fixtures.js';

const TOKEN = 'durability-test-token';
const KILLS = 4;
const SPEED = 10;
const EVERY_SECONDS = 5;
const INTERVAL_MS = 1000;
/** Agent-time allowance for a group-write timer firing late on a busy machine (300 ms of real time). */
const LATE_MS = 3000;

const { wallet, prepare } = crashHarness(TOKEN);

describe('crash test: grouped sample writes under kill -9', () => {
  it('loses at most the last N s of samples per kill and nothing recorded downstream', {
    timeout: 600_000, // an outer bound only: the start-up waits fail on a stall
  }, async () => {
    const epochMs = Date.now();
    const agentNowMs = () => Math.floor(epochMs + (Date.now() - epochMs) * SPEED);
    const crash = await prepare('meter-agent-durability-', (url, dataDir) =>
      agentConfig(dataDir, {
        meterId: 'durability-meter',
        sensors: [constantLoad(12_000, 900)],
        sampleIntervalMs: INTERVAL_MS,
        durability: { everySeconds: EVERY_SECONDS },
        period: { seconds: 20 }, // 2 s of real time
        walletService: { url, timeoutMs: 3000 },
        payments: { backoffBaseMs: 200, backoffCapMs: 3000 },
        clock: { speed: SPEED, epochMs },
      }),
    );
    const { config, samplesDir, random } = crash;
    const context = () => crash.context();
    const before: Awaited<ReturnType<typeof readState>>[] = [];

    for (let run = 0; run < KILLS; run++) {
      const child = await crash.spawn();
      await crash.untilStarted(run, waitForProgress);
      await sleep(2500 + random() * 2000);
      const state = await readState(config.dataDir!);
      const killedAtMs = agentNowMs();
      await crash.kill(child);
      before.push(state);
      const lastOnDisk = (await readAllSamples(samplesDir)).at(-1);
      // Held samples are written once the oldest is N s old: the newest on disk is at most N s + one
      // interval older than the kill.
      expect(killedAtMs - lastOnDisk!.tMs, `run ${run}, ${context()}`).toBeLessThanOrEqual(
        EVERY_SECONDS * 1000 + INTERVAL_MS + LATE_MS,
      );
    }

    const last = await crash.spawn();
    const lastStarted = Date.now();
    for (;;) {
      await sleep(200);
      const state = await readState(config.dataDir!);
      const settled = state.periods.every((p) => paymentState(p, state.outcomes) !== 'queued');
      if ((Date.now() - lastStarted > 3000 && settled) || Date.now() - lastStarted > 30_000) break;
    }
    await crash.stop(last);

    const samples = await readAllSamples(samplesDir);
    const state = await readState(config.dataDir!);
    // Nothing journaled downstream before a kill went missing or changed.
    for (const [i, earlier] of before.entries()) {
      expect(state.periods.slice(0, earlier.periods.length), `kill ${i}, ${context()}`).toEqual(
        earlier.periods,
      );
      for (const [key, outcome] of earlier.outcomes)
        expect(state.outcomes.get(key), context()).toEqual(outcome);
    }
    // A recorded period's samples are all on disk.
    expect(state.periods.length, context()).toBeGreaterThanOrEqual(4);
    for (const p of state.periods) {
      const onDisk = samples.filter((s) => s.tMs >= p.startMs && s.tMs < p.endMs).length;
      expect(onDisk, `${p.id}, ${context()}`).toBe(p.quality.samples);
    }
    // Every period owed was paid, once, by its key.
    expect(wallet.conflicts, context()).toEqual([]);
    const owing = state.periods.filter((p) => p.payment.state === 'due');
    expect(owing.every((p) => paymentState(p, state.outcomes) === 'accepted')).toBe(true);
    expect([...wallet.amounts.keys()].sort()).toEqual(owing.map((p) => p.id).sort());
  });
});
