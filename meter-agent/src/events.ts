import type { SampleRecord } from './metering/records.js';
import type { Tick } from './sampling/scheduler.js';
import type { AgentSnapshot } from './status.js';
import type { PaymentOutcome, PeriodRecord } from './store/state.js';

/** What a running agent tells its listeners (the read API, metrics, a dashboard feed). */
export interface AgentEventMap {
  /** A sample became durable and was counted. */
  sample: [SampleRecord];
  /** A period closed (already journaled). */
  period: [PeriodRecord];
  /** The wallet-service answered for a period (already journaled). */
  payment: [PaymentOutcome];
  /** The sampler ran (before the reading): for jitter measurements. */
  tick: [Tick];
  /** Something went wrong that the agent survives (also logged). */
  problem: [string];
  /** The snapshot, every 5 s and after every period, payment and purchase change. */
  status: [AgentSnapshot];
}
