// Test support: the real agent CLI against a fake wallet-service, killed and restarted on one data dir.
import type { ChildProcess } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import type { AgentConfigInput } from '../config.js';
import { FakeWalletService } from '../payments/fake-wallet-service.js';
import { seededRandom } from '../sensors/prng.js';
import { exited, spawnAgent } from './agent-process.js';
import { tempDir, writeConfigFile } from './fixtures.js';

/** One test file's fake wallet-service, closed after the file, and the runs made against it. */
export function crashHarness(token: string) {
  const wallet = new FakeWalletService(token);
  afterAll(() => wallet.server?.close());
  return {
    wallet,
    /** A data dir, a config file written from `config(url, dataDir)`, and a seed (CRASH_SEED repeats one). */
    prepare: async (prefix: string, config: (walletUrl: string, dataDir: string) => AgentConfigInput) => {
      const dir = await tempDir(prefix);
      const url = await wallet.listen();
      return new CrashRun(dir, token, config(url, join(dir, 'data')));
    },
  };
}

interface StartActivity {
  started: number;
  logBytes: number;
}

/** tests/support/progress.ts's waitForProgress, passed in: this module sits below the tests' support. */
export type ProgressWaiter = (options: {
  what: string;
  probe: () => Promise<StartActivity>;
  done: (a: StartActivity) => boolean;
  progressed: (a: StartActivity, b: StartActivity) => boolean;
  stallMs: number;
  ceilingMs: number;
}) => Promise<unknown>;

export class CrashRun {
  readonly seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
  readonly random = seededRandom(this.seed);
  readonly logFile: string;
  readonly dataDir: string;
  readonly samplesDir: string;
  readonly #configFile: Promise<string>;

  constructor(
    readonly dir: string,
    readonly token: string,
    readonly config: AgentConfigInput,
  ) {
    this.logFile = join(dir, 'agent.log');
    this.dataDir = config.dataDir!;
    this.samplesDir = join(this.dataDir, 'samples');
    this.#configFile = writeConfigFile(dir, config);
  }

  /** What a failure message names to repeat the run: the seed and where the data is. */
  context(): string {
    return `seed ${this.seed}, data in ${this.dir}`;
  }

  /** `meter-agent run` on this run's config, its output appended to the log file. */
  async spawn(): Promise<ChildProcess> {
    return spawnAgent(await this.#configFile, this.logFile, this.token);
  }

  /** kill -9, and check it was the kill that ended the agent. */
  async kill(child: ChildProcess): Promise<void> {
    child.kill('SIGKILL');
    expect((await exited(child)).signal, this.context()).toBe('SIGKILL');
  }

  /** Stops the agent the way systemd does, and checks it exited cleanly (the log's tail if not). */
  async stop(child: ChildProcess): Promise<void> {
    child.kill('SIGTERM');
    const { code } = await exited(child);
    expect(code, `${this.context()}\n${(await this.log()).slice(-2000)}`).toBe(0);
  }

  log(): Promise<string> {
    return readFile(this.logFile, 'utf8');
  }

  /**
   * Waits for run `run` (from 0) to log its start line: a loaded machine may take seconds to start the CLI,
   * so a kill meant to land mid-run counts from there, not from the spawn.
   */
  async untilStarted(run: number, wait: ProgressWaiter): Promise<void> {
    const probe = async (): Promise<StartActivity> => ({
      started: ((await readFile(this.logFile, 'utf8').catch(() => '')).match(/meter-agent started/g) ?? [])
        .length,
      logBytes: (await stat(this.logFile).catch(() => undefined))?.size ?? 0,
    });
    await wait({
      what: `run ${run + 1}: the agent starting (${this.context()})`,
      probe,
      done: (a) => a.started > run,
      progressed: (a, b) => b.logBytes > a.logBytes,
      stallMs: 30_000,
      ceilingMs: 120_000,
    });
  }
}
