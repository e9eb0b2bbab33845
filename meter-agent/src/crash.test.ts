// CRASH TEST. Spawns the real agent CLI (bin/meter-agent.mjs, through tsx) at 10× time, kills it with
// SIGKILL at random points, restarts it on the same data dir, and checks that every closed period was
// paid exactly once, that no journaled sample was lost, and that the periods are contiguous. ~30 s.
// Each kill waits for the agent's journal to move first and each wait fails only when it stops moving,
// so a loaded machine that starts the agent slowly makes the test slower, not flaky.
import { stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { waitForProgress } from '../../tests/support/progress.js';
import { type AgentConfigInput, gapThresholdMs, meteredSensorName, parseConfig } from './config.js';
import { Meter } from './metering/meter.js';
import { periodCalendar } from './metering/periods.js';
import type { SampleRecord } from './metering/records.js';
import { carryAfter, periodRecordFrom } from './period-record.js';
import { readAllSamples } from './store/sample-store.js';
import { type PeriodRecord, paymentState, readState } from './store/state.js';
import { sleep } from './testing/agent-process.js';
import { crashHarness } from './testing/crash-run.js';
import { agentConfig, wanderingLoad } from './testing/fixtures.js';

const TOKEN = 'crash-test-token';
const KILLS = 5;

const { wallet, prepare } = crashHarness(TOKEN);

/** Replays the whole sample journal from scratch, as one uninterrupted agent would have metered it. */
function recompute(samples: SampleRecord[], input: AgentConfigInput): PeriodRecord[] {
  const config = parseConfig(input);
  const calendar = periodCalendar(config.period);
  const meter = new Meter(
    { meteredSensor: meteredSensorName(config), gapThresholdMs: gapThresholdMs(config), calendar },
    {
      seq: 1,
      startMs: calendar.containing(samples[0]!.tMs).startMs,
      resume: { bridge: null, uncoveredSinceMs: null, lastTMs: null },
    },
  );
  const records: PeriodRecord[] = [];
  for (const s of samples)
    for (const totals of meter.add(s).closed)
      records.push(periodRecordFrom(totals, carryAfter(records.at(-1)), config, 0));
  return records;
}

describe('crash test: kill -9 the real agent at random points', () => {
  it('pays every closed period exactly once, loses no journaled sample, keeps periods contiguous', {
    timeout: 600_000, // an outer bound only: the waits inside fail on a stall
  }, async () => {
    const crash = await prepare('meter-agent-crash-', (url, dataDir) =>
      agentConfig(dataDir, {
        meterId: 'crash-meter',
        sensors: [
          wanderingLoad({
            seed: 7,
            busVoltageMV: 12_000,
            startMA: 800,
            minMA: 100,
            maxMA: 2000,
            stepMA: 150,
          }),
        ],
        sampleIntervalMs: 1000,
        // Each sample synced before it counts: no journaled sample may go missing (durability-crash.test.ts
        // covers grouped writes).
        durability: 'every-sample',
        period: { seconds: 20 }, // 2 s of real time at speed 10
        walletService: { url, timeoutMs: 3000 },
        payments: { backoffBaseMs: 200, backoffCapMs: 3000 },
        clock: { speed: 10, epochMs: Date.now() },
      }),
    );
    const { config, logFile, samplesDir, seed, random } = crash;
    const snapshots: SampleRecord[][] = [];
    const context = () => crash.context();

    const samplesNow = async () => (await readAllSamples(samplesDir).catch(() => [])).length;
    const logBytes = async () => (await stat(logFile).catch(() => undefined))?.size ?? 0;
    /** The agent's visible activity: its log (starting up) and its sample journal (metering). */
    const activity = async () => ({ log: await logBytes(), samples: await samplesNow() });
    const moved = (a: { log: number; samples: number }, b: { log: number; samples: number }) =>
      b.log > a.log || b.samples > a.samples;

    let journaled = 0;
    for (let run = 0; run < KILLS; run++) {
      const child = await crash.spawn();
      if (run === 2) {
        // One kill lands exactly between the wallet-service paying and the agent journaling the answer.
        let held = false;
        wallet.holdNext = () => {
          held = true;
        };
        await waitForProgress({
          what: `run ${run + 1}: the agent reaching a payment (${context()})`,
          probe: async () => ({ ...(await activity()), held }),
          done: (a) => a.held,
          progressed: moved,
          stallMs: 30_000,
          ceilingMs: 180_000,
        });
      } else {
        // A random point once this run has journaled a sample of its own.
        await waitForProgress({
          what: `run ${run + 1}: the agent journaling samples (${context()})`,
          probe: activity,
          done: (a) => a.samples > journaled,
          progressed: moved,
          stallMs: 30_000,
          ceilingMs: 120_000,
        });
        await sleep(random() * 2500);
      }
      await crash.kill(child);
      snapshots.push(await readAllSamples(samplesDir));
      journaled = snapshots.at(-1)!.length;
    }

    // The last run: let it settle what is owed, then stop it the way systemd does.
    const last = await crash.spawn();
    const settledState = async () => {
      const state = await readState(config.dataDir!);
      return {
        periods: state.periods.length,
        queued: state.periods.filter((p) => paymentState(p, state.outcomes) === 'queued').length,
        samples: await samplesNow(),
      };
    };
    await waitForProgress({
      what: `the last run settling 6 periods (${context()})`,
      probe: settledState,
      done: (s) => s.periods >= 6 && s.queued === 0 && s.samples > journaled,
      progressed: (a, b) => b.periods > a.periods || b.samples > a.samples || b.queued < a.queued,
      stallMs: 30_000,
      ceilingMs: 180_000,
      intervalMs: 200,
    });
    await crash.stop(last);

    const final = await readAllSamples(samplesDir);
    const state = await readState(config.dataDir!);
    const periods = state.periods;

    // No sample journaled before a kill is missing (or changed) afterwards: each snapshot is a prefix.
    for (const [i, snapshot] of snapshots.entries()) {
      expect(snapshot.length, `snapshot ${i}, ${context()}`).toBeGreaterThan(0);
      expect(final.slice(0, snapshot.length), `snapshot ${i}, ${context()}`).toEqual(snapshot);
    }
    expect(new Set(snapshots.map((s) => s.length)).size, 'every run journaled samples').toBe(KILLS);

    // Contiguous periods: 1, 2, 3 … each starting where the last ended, named by meter and start.
    expect(periods.length, context()).toBeGreaterThanOrEqual(6);
    for (const [i, p] of periods.entries()) {
      expect(p.seq).toBe(i + 1);
      expect(p.id).toBe(`crash-meter/${new Date(p.startMs).toISOString()}`);
      if (i > 0) expect(p.startMs).toBe(periods[i - 1]!.endMs);
    }

    // Exactly once: one amount per key ever, and the keys paid are exactly the periods that owe.
    expect(wallet.conflicts, context()).toEqual([]);
    const owing = periods.filter((p) => p.payment.state === 'due');
    expect(
      owing.every((p) => paymentState(p, state.outcomes) === 'accepted'),
      context(),
    ).toBe(true);
    expect([...wallet.amounts.keys()].sort()).toEqual(owing.map((p) => p.id).sort());
    for (const p of owing) expect(wallet.amounts.get(p.id)).toBe(p.amount);
    // The payment whose answer was lost was asked for again with the same key, and answered 200.
    expect(
      wallet.requests.some((r) => r.status === 200),
      context(),
    ).toBe(true);
    expect(periods.filter((p) => p.payment.state === 'nothing-due').every((p) => p.amount === '0')).toBe(
      true,
    );

    // Restarts changed nothing: metering the final journal in one go gives the same periods and amounts.
    const replayed = recompute(final, config).slice(0, periods.length);
    expect(replayed.map((p) => [p.id, p.deliveredHalfNJ, p.amount, p.readingsHash, p.carry.money])).toEqual(
      periods.map((p) => [p.id, p.deliveredHalfNJ, p.amount, p.readingsHash, p.carry.money]),
    );
    const log = await crash.log();
    expect(log.match(/meter-agent started/g)?.length).toBe(KILLS + 1);
    expect(log).not.toContain(TOKEN);
    console.info(
      `crash test (seed ${seed}): ${KILLS} kills, ${final.length} samples, ${periods.length} periods, ` +
        `${owing.length} paid, ${wallet.requests.length} requests (${wallet.requests.filter((r) => r.status === 200).length} repeats, ` +
        `${wallet.requests.filter((r) => r.status === 503).length} 503s)`,
    );
  });
});
