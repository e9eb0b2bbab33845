import {
  Counter,
  Gauge,
  journalSizeGauge,
  ProcessMetrics,
  scrapedGauge,
  seriesNames,
} from '@tanglewatt/contract/metrics';
import { journalSizes } from '@tanglewatt/journal';
import type { SampleRecord } from './metering/records.js';
import type { Tick } from './sampling/scheduler.js';
import type { AgentSnapshot } from './status.js';
import type { PaymentOutcome, PeriodRecord } from './store/state.js';

/**
 * Prometheus metrics of the meter agent, from the events it already emits (counters: since this process
 * started) and from its snapshot and data dir when Prometheus scrapes (gauges).
 */

/** The agent's emitter as the metrics use it: any emitter with at least these events. */
interface EventSubscriptions {
  on(event: 'sample', listener: (sample: SampleRecord) => void): unknown;
  on(event: 'period', listener: (period: PeriodRecord) => void): unknown;
  on(event: 'payment', listener: (outcome: PaymentOutcome) => void): unknown;
  on(event: 'tick', listener: (tick: Tick) => void): unknown;
  off(event: 'sample', listener: (sample: SampleRecord) => void): unknown;
  off(event: 'period', listener: (period: PeriodRecord) => void): unknown;
  off(event: 'payment', listener: (outcome: PaymentOutcome) => void): unknown;
  off(event: 'tick', listener: (tick: Tick) => void): unknown;
}

export interface AgentMetricsSource {
  readonly events: EventSubscriptions;
  snapshot(): AgentSnapshot;
  /** Where the journals are; without it no journal sizes are reported. */
  readonly dataDir?: string;
  /** Add the prom-client process and Node.js metrics (process_*, nodejs_*). */
  readonly processMetrics?: boolean;
}

function define(registry: AgentMetrics['registry'], read: () => AgentMetricsSource | undefined) {
  const registers = [registry];
  const snapshot = () => read()?.snapshot();
  return {
    samples: new Counter({
      name: 'tanglewatt_agent_samples_total',
      help: 'Samples taken, journaled and counted',
      registers,
    }),
    readErrors: new Counter({
      name: 'tanglewatt_agent_read_errors_total',
      help: 'Sensor readings that failed (I/O error or timeout) in counted samples, by sensor',
      labelNames: ['sensor'],
      registers,
    }),
    overRange: new Counter({
      name: 'tanglewatt_agent_over_range_readings_total',
      help: 'Sensor readings out of range (kept out of the energy) in counted samples, by sensor',
      labelNames: ['sensor'],
      registers,
    }),
    ticks: new Counter({
      name: 'tanglewatt_agent_ticks_total',
      help: 'Times the sampler ran',
      registers,
    }),
    missedTicks: new Counter({
      name: 'tanglewatt_agent_missed_ticks_total',
      help: 'Sampler ticks skipped because the timer came too late (never made up by a burst)',
      registers,
    }),
    periods: new Counter({
      name: 'tanglewatt_agent_periods_closed_total',
      help: 'Payment periods closed and journaled',
      registers,
    }),
    energy: new Counter({
      name: 'tanglewatt_agent_energy_mws_total',
      help: 'Energy of the closed periods in mW·s (millijoules; 3 600 000 per Wh)',
      registers,
    }),
    queued: new Counter({
      name: 'tanglewatt_agent_payments_queued_total',
      help: 'Closed periods whose payment was put in the outbox for the wallet-service',
      registers,
    }),
    accepted: new Counter({
      name: 'tanglewatt_agent_payments_accepted_total',
      help: 'Payments the wallet-service accepted, by the state it reported (queued, submitted, included)',
      labelNames: ['service_state'],
      registers,
    }),
    rejected: new Counter({
      name: 'tanglewatt_agent_payments_rejected_total',
      help: 'Payments the wallet-service refused or gave up for good',
      registers,
    }),
    outboxDepth: scrapedGauge({
      name: 'tanglewatt_agent_outbox_depth',
      help: 'Payments in the outbox, waiting for the wallet-service to answer',
      registers,
      value: () => snapshot()?.outbox.queued.length,
    }),
    outboxFailures: scrapedGauge({
      name: 'tanglewatt_agent_outbox_consecutive_failures',
      help: 'Failed attempts to reach the wallet-service in a row (0 when the last one got an answer)',
      registers,
      value: () => snapshot()?.outbox.consecutiveFailures,
    }),
    relay: new Gauge({
      name: 'tanglewatt_agent_relay_on',
      help: 'The prepaid relay, labelled with what it is: 1 closed (power flows), 0 open; absent without a relay',
      labelNames: ['relay'],
      registers,
      collect() {
        const relay = snapshot()?.relay;
        this.reset();
        if (relay) this.set({ relay: relay.description }, relay.on ? 1 : 0);
      },
    }),
    registers: new Gauge({
      name: 'tanglewatt_agent_register_wh',
      help: "The meter's cumulative OBIS registers in Wh after the last closed period (1-0:1.8.x import, 1-0:2.8.x export, x the band, 0 the total)",
      labelNames: ['obis'],
      registers,
      collect() {
        const values = snapshot()?.registers?.values ?? [];
        this.reset();
        for (const r of values) this.set({ obis: r.obis }, r.wh);
      },
    }),
    journals: journalSizeGauge({
      name: 'tanglewatt_agent_journal_size_bytes',
      help: 'Bytes on disk of each journal in the data dir (samples: all days together)',
      registers,
      dataDir: () => read()?.dataDir,
      sizes: journalSizes,
    }),
  };
}

/** Every metric name the agent exports. */
export function agentMetricNames(): string[] {
  return seriesNames((registry) => define(registry, () => undefined));
}

export class AgentMetrics extends ProcessMetrics {
  private readonly m: ReturnType<typeof define>;
  private readonly handlers: {
    sample: (s: SampleRecord) => void;
    period: (p: PeriodRecord) => void;
    payment: (o: PaymentOutcome) => void;
    tick: (t: Tick) => void;
  };

  constructor(private readonly source: AgentMetricsSource) {
    super(source.processMetrics);
    this.m = define(this.registry, () => this.source);
    const m = this.m;
    this.handlers = {
      sample: (sample) => {
        m.samples.inc();
        for (const r of sample.readings) {
          if ('error' in r) m.readErrors.inc({ sensor: r.sensor });
          else if (r.overflow) m.overRange.inc({ sensor: r.sensor });
        }
      },
      tick: (tick) => {
        m.ticks.inc();
        if (tick.missedTicks > 0) m.missedTicks.inc(tick.missedTicks);
      },
      period: (period) => {
        m.periods.inc();
        // Whole mW·s: exact in a float far beyond any meter's lifetime (2^53 mW·s is 2.5 TWh).
        const energyMWs = Number(period.energyMWs);
        if (energyMWs > 0) m.energy.inc(energyMWs);
        if (period.payment.state === 'due') m.queued.inc();
      },
      payment: (outcome) => {
        if (outcome.result === 'accepted')
          m.accepted.inc({ service_state: outcome.serviceState ?? 'unknown' });
        else m.rejected.inc();
      },
    };
    source.events.on('sample', this.handlers.sample);
    source.events.on('tick', this.handlers.tick);
    source.events.on('period', this.handlers.period);
    source.events.on('payment', this.handlers.payment);
  }

  close(): void {
    this.source.events.off('sample', this.handlers.sample);
    this.source.events.off('tick', this.handlers.tick);
    this.source.events.off('period', this.handlers.period);
    this.source.events.off('payment', this.handlers.payment);
  }
}
