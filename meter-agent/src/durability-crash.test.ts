// CRASH TEST for grouped sample writes (durability {everySeconds: N}): runs the real agent CLI at 10× time,
// kills it with SIGKILL at random points, and checks that each kill lost at most the samples of the last
// N s, and nothing recorded downstream: every period and payment answer journaled before a kill is still
// there after it, each closed period's samples are all on disk, and every period owed is paid exactly once.
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitForProgress } from '../../tests/support/progress.js';
import { exited, sleep, spawnAgent } from './agent-process.js';
import type { AgentConfigInput } from './config.js';
import { FakeWalletService } from './payments/fake-wallet-service.js';
import { seededRandom } from './sensors/prng.js';
import { readAllSamples } from './store/sample-store.js';
import { paymentState, readState } from './store/state.js';

const TOKEN = 'durability-test-token';
const PRODUCER = 'watt1qrufrjnxwx28lgd2wxnqdncq9gqd2689k5tu6zw8a0gndpp2rq6wuqvys9y';
const CONSUMER = 'watt1qqpaqqxnul7x7cxf9x9dez6zlahpxr3ufqhsvcnsz7ex7qqrtjwp6qllr6x';
const KILLS = 4;
const SPEED = 10;
const EVERY_SECONDS = 5;
const INTERVAL_MS = 1000;
/** Agent-time allowance for a group-write timer firing late on a busy machine (300 ms of real time). */
const LATE_MS = 3000;

const wallet = new FakeWalletService(TOKEN);
afterAll(() => wallet.server?.close());

describe('crash test: grouped sample writes under kill -9', () => {
  it('loses at most the last N s of samples per kill and nothing recorded downstream', {
    timeout: 600_000, // an outer bound only: the start-up waits fail on a stall
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meter-agent-durability-'));
    const url = await wallet.listen();
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
    const random = seededRandom(seed);
    const epochMs = Date.now();
    const agentNowMs = () => Math.floor(epochMs + (Date.now() - epochMs) * SPEED);
    const config: AgentConfigInput = {
      meterId: 'durability-meter',
      role: 'consumer',
      parties: { consumer: CONSUMER, producer: PRODUCER },
      sensors: [
        {
          name: 'load',
          kind: 'simulated',
          profile: { type: 'constant', busVoltageMV: 12_000, currentMA: 900 },
        },
      ],
      sampleIntervalMs: INTERVAL_MS,
      durability: { everySeconds: EVERY_SECONDS },
      period: { seconds: 20 }, // 2 s of real time
      price: { unitsPerWh: '3600' },
      walletService: { url, timeoutMs: 3000 },
      payments: { backoffBaseMs: 200, backoffCapMs: 3000 },
      dataDir: join(dir, 'data'),
      clock: { speed: SPEED, epochMs },
    };
    const configFile = join(dir, 'agent.json');
    const logFile = join(dir, 'agent.log');
    await writeFile(configFile, JSON.stringify(config, null, 2));
    const samplesDir = join(dir, 'data', 'samples');
    const context = () => `seed ${seed}, data in ${dir}`;
    const before: Awaited<ReturnType<typeof readState>>[] = [];

    // A loaded machine may take seconds to start the CLI: each kill counts from the run's own start line.
    const startedRuns = async () =>
      ((await readFile(logFile, 'utf8').catch(() => '')).match(/meter-agent started/g) ?? []).length;
    const logBytes = async () => (await stat(logFile).catch(() => undefined))?.size ?? 0;
    for (let run = 0; run < KILLS; run++) {
      const child = spawnAgent(configFile, logFile, TOKEN);
      await waitForProgress({
        what: `run ${run + 1}: the agent starting (${context()})`,
        probe: async () => ({ started: await startedRuns(), log: await logBytes() }),
        done: (a) => a.started > run,
        progressed: (a, b) => b.log > a.log,
        stallMs: 30_000,
        ceilingMs: 120_000,
      });
      await sleep(2500 + random() * 2000);
      const state = await readState(config.dataDir!);
      const killedAtMs = agentNowMs();
      child.kill('SIGKILL');
      expect((await exited(child)).signal, context()).toBe('SIGKILL');
      before.push(state);
      const lastOnDisk = (await readAllSamples(samplesDir)).at(-1);
      // Held samples are written once the oldest is N s old: the newest on disk is at most N s + one
      // interval older than the kill.
      expect(killedAtMs - lastOnDisk!.tMs, `run ${run}, ${context()}`).toBeLessThanOrEqual(
        EVERY_SECONDS * 1000 + INTERVAL_MS + LATE_MS,
      );
    }

    const last = spawnAgent(configFile, logFile, TOKEN);
    const lastStarted = Date.now();
    for (;;) {
      await sleep(200);
      const state = await readState(config.dataDir!);
      const settled = state.periods.every((p) => paymentState(p, state.outcomes) !== 'queued');
      if ((Date.now() - lastStarted > 3000 && settled) || Date.now() - lastStarted > 30_000) break;
    }
    last.kill('SIGTERM');
    expect((await exited(last)).code, `${context()}\n${(await readFile(logFile, 'utf8')).slice(-2000)}`).toBe(
      0,
    );

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
