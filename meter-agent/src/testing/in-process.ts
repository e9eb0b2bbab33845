// Test support: agents started in-process on a manual clock, stopped after each test.
import { afterEach } from 'vitest';
import { type AgentHandle, type StartAgentOptions, startAgent } from '../agent.js';
import type { ManualClock } from '../clock.js';
import { silentLogger } from '../log.js';

/** Lets the payment loop and other promise chains take their turn. */
export const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Real time for work journaled (and synced) beside sampling: `times` pauses of `ms`. */
export const realPause =
  (ms: number, times = 1) =>
  async (): Promise<void> => {
    for (let i = 0; i < times; i++) await new Promise((r) => setTimeout(r, ms));
  };

/** One sample step: the clock moves on, the agent takes and counts the sample, then `settle`. */
export async function tick(
  clock: ManualClock,
  agent: AgentHandle,
  stepMs: number,
  settle?: () => Promise<void>,
): Promise<void> {
  clock.advance(stepMs);
  await agent.idle();
  await settle?.();
}

export interface RunOptions {
  stepMs?: number;
  /** What runs after each step; default nextTurn. */
  settle?: () => Promise<void>;
}

/** Moves the manual clock on `ms` in sample steps, letting every sample become durable and counted. */
export async function run(clock: ManualClock, agent: AgentHandle, ms: number, options: RunOptions = {}) {
  const { stepMs = 1000, settle = nextTurn } = options;
  for (let t = 0; t < ms; t += stepMs) await tick(clock, agent, stepMs, settle);
}

/** The agents a test file starts; whatever a test leaves running is stopped after it. */
export class TestAgents {
  readonly #running: AgentHandle[] = [];

  constructor() {
    afterEach(async () => {
      for (const a of this.#running.splice(0)) await a.stop();
    });
  }

  /** Starts an agent (quiet unless `log` is given) and has it stopped after the test. */
  async launch(options: StartAgentOptions): Promise<AgentHandle> {
    return this.track(await startAgent({ log: silentLogger(), ...options }));
  }

  /** Has an agent started elsewhere stopped after the test. */
  track(agent: AgentHandle): AgentHandle {
    this.#running.push(agent);
    return agent;
  }

  /** launch, then the first tick, which is due at once. */
  async start(clock: ManualClock, options: Omit<StartAgentOptions, 'clock'>): Promise<AgentHandle> {
    const agent = await this.launch({ ...options, clock });
    await tick(clock, agent, 0);
    return agent;
  }

  /** Waits for the payments in flight, then stops the agent. */
  async drainAndStop(agent: AgentHandle): Promise<void> {
    await agent.paymentsDrained();
    await agent.stop();
    this.forget(agent);
  }

  /** Forgets the agents a test stopped itself, so they are not stopped again. */
  forget(agent?: AgentHandle): void {
    if (agent === undefined) this.#running.splice(0);
    else if (this.#running.includes(agent)) this.#running.splice(this.#running.indexOf(agent), 1);
  }
}
