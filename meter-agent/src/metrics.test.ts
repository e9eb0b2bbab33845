import { EventEmitter } from 'node:events';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { seriesValues, seriesValue as value } from '@tanglewatt/contract/metrics';
import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import type { SampleRecord } from './metering/records.js';
import { AgentMetrics, agentMetricNames } from './metrics.js';
import { FakeWallet } from './payments/fake-wallet.js';
import type { Tick } from './sampling/scheduler.js';
import type { AgentSnapshot } from './status.js';
import { type PaymentOutcome, readState } from './store/state.js';
import { agentConfig, freshDataDir, T0 } from './testing/fixtures.js';
import { nextTurn, run, TestAgents, tick } from './testing/in-process.js';

/** Asserts the scraped value of each series named (undefined: absent from the scrape). */
const expectSeries = (text: string, want: Record<string, number | undefined>) =>
  expect(seriesValues(text, Object.keys(want))).toEqual(want);

const agents = new TestAgents();

describe('meter agent GET /metrics', () => {
  it('answers the Prometheus text format and counts samples, periods, energy and payments as they happen', async () => {
    const clock = new ManualClock(T0);
    const dir = await freshDataDir('meter-metrics-');
    // 5 V × 200 mA = 1 W: 60 000 mW·s in a 60 s period.
    const config = agentConfig(dir, {
      payments: { backoffBaseMs: 1000, backoffCapMs: 8000 },
      http: { host: '127.0.0.1', port: 0, corsOrigins: [] },
    });
    const agent = await agents.launch({ config, clock, wallet: new FakeWallet() });
    const scrape = async () => {
      const res = await fetch(`${agent.httpUrl}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return res.text();
    };

    let text = await scrape();
    for (const name of agentMetricNames()) {
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge)$`, 'm'));
    }
    expect(text).not.toContain('test-token-not-real');
    expect(value(text, 'tanglewatt_agent_periods_closed_total')).toBe(0);

    await tick(clock, agent, 0, nextTurn);
    await run(clock, agent, 125_000);
    await agent.paymentsDrained();
    text = await scrape();
    const state = await readState(dir);
    expect(state.periods).toHaveLength(2);
    expect(value(text, 'tanglewatt_agent_periods_closed_total')).toBe(2);
    expect(value(text, 'tanglewatt_agent_energy_mws_total')).toBe(
      state.periods.reduce((sum, p) => sum + Number(p.energyMWs), 0),
    );
    expectSeries(text, {
      tanglewatt_agent_energy_mws_total: 120_000,
      tanglewatt_agent_samples_total: 126,
      tanglewatt_agent_ticks_total: 126,
      tanglewatt_agent_missed_ticks_total: 0,
      tanglewatt_agent_payments_queued_total: 2,
      'tanglewatt_agent_payments_accepted_total{service_state="queued"}': 2,
      tanglewatt_agent_payments_rejected_total: 0,
      tanglewatt_agent_outbox_depth: 0,
    });
    expect(text).not.toMatch(/^tanglewatt_agent_relay_on /m);

    const stateBytes = (await stat(join(dir, 'state.journal'))).size;
    expect(value(text, 'tanglewatt_agent_journal_size_bytes{journal="state"}')).toBe(stateBytes);
    let sampleBytes = 0;
    for (const f of await readdir(join(dir, 'samples')))
      sampleBytes += (await stat(join(dir, 'samples', f))).size;
    expect(sampleBytes).toBeGreaterThan(0);
    expect(value(text, 'tanglewatt_agent_journal_size_bytes{journal="samples"}')).toBe(sampleBytes);
  });
});

describe('AgentMetrics', () => {
  function source(relay: AgentSnapshot['relay'], queued = 0) {
    const events = new EventEmitter<{
      sample: [SampleRecord];
      tick: [Tick];
      payment: [PaymentOutcome];
      period: [never];
    }>();
    const snapshot = () =>
      ({
        relay,
        outbox: {
          queued: Array.from({ length: queued }, (_, i) => ({ key: `k${i}`, amount: '1', attempts: 1 })),
          nextAttemptAtMs: null,
          consecutiveFailures: 3,
        },
      }) as unknown as AgentSnapshot;
    return { events, metrics: new AgentMetrics({ events, snapshot }) };
  }

  it('counts failed and over-range readings by sensor, missed ticks and rejected payments', async () => {
    const { events, metrics } = source(null);
    events.emit('sample', {
      tMs: 1,
      readings: [
        { sensor: 'load', error: 'EIO' },
        { sensor: 'pv', busVoltageMV: 1, currentUA: 1, powerUW: 1, overflow: true },
      ],
    });
    events.emit('sample', { tMs: 2, readings: [{ sensor: 'load', error: 'timeout' }] });
    events.emit('tick', { missedTicks: 3 } as Tick);
    events.emit('tick', { missedTicks: 0 } as Tick);
    events.emit('payment', { key: 'p', atMs: 1, result: 'rejected', status: 400 });
    events.emit('payment', { key: 'q', atMs: 1, result: 'accepted', serviceState: 'included' });
    const text = await metrics.render();
    expectSeries(text, {
      'tanglewatt_agent_read_errors_total{sensor="load"}': 2,
      'tanglewatt_agent_read_errors_total{sensor="pv"}': undefined,
      'tanglewatt_agent_over_range_readings_total{sensor="pv"}': 1,
      tanglewatt_agent_samples_total: 2,
      tanglewatt_agent_ticks_total: 2,
      tanglewatt_agent_missed_ticks_total: 3,
      tanglewatt_agent_payments_rejected_total: 1,
      'tanglewatt_agent_payments_accepted_total{service_state="included"}': 1,
    });
    metrics.close();
    events.emit('tick', { missedTicks: 5 } as Tick);
    expect(value(await metrics.render(), 'tanglewatt_agent_missed_ticks_total')).toBe(3);
  });

  it('reports the relay, the outbox depth and its failures in a row from the snapshot', async () => {
    const on = source({ description: 'GPIO 17', on: true }, 2);
    let text = await on.metrics.render();
    expectSeries(text, {
      'tanglewatt_agent_relay_on{relay="GPIO 17"}': 1,
      tanglewatt_agent_outbox_depth: 2,
      tanglewatt_agent_outbox_consecutive_failures: 3,
    });
    text = await source({ description: 'GPIO 17', on: false }).metrics.render();
    expect(value(text, 'tanglewatt_agent_relay_on{relay="GPIO 17"}')).toBe(0);
  });
});
