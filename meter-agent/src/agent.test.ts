import { stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type AgentHandle, startAgent } from './agent.js';
import { FakeChannel } from './channel-fake.js';
import { ManualClock } from './clock.js';
import type { AgentConfigInput } from './config.js';
import type { MeterAgentError } from './errors.js';
import { FakeIna219Bus } from './hardware/fake-ina219-bus.js';
import { FakeRelay } from './hardware/relay.js';
import { silentLogger } from './log.js';
import { FakeWallet } from './payments/fake-wallet.js';
import { readAllSamples } from './store/sample-store.js';
import { paymentState, readState } from './store/state.js';
import {
  agentConfig,
  CONSUMER,
  freshDataDir,
  getWithHost,
  PRODUCER,
  T0,
  UNUSED_WALLET_SERVICE,
} from './testing/fixtures.js';
import { run as runAgent, TestAgents, tick } from './testing/in-process.js';

const dataDir = () => freshDataDir('meter-agent-');

/** 5 V × 200 mA = 1 W; at 3600 units per Wh a 60 s period costs exactly 60 units. */
function config(dir: string, extra: Partial<AgentConfigInput> = {}): AgentConfigInput {
  return agentConfig(dir, { payments: { backoffBaseMs: 1000, backoffCapMs: 8000 }, ...extra });
}

const agents = new TestAgents();

/** A manual clock at T0, a fake wallet-service client answering as `mode` says, and a fresh data dir. */
async function household(mode: FakeWallet['mode'] = 'up') {
  const clock = new ManualClock(T0);
  const wallet = new FakeWallet();
  wallet.mode = mode;
  return { clock, wallet, dir: await dataDir() };
}

function start(clock: ManualClock, wallet: FakeWallet, cfg: AgentConfigInput, relay?: FakeRelay) {
  return agents.start(clock, { config: cfg, wallet, ...(relay ? { relay } : {}) });
}

/** Moves the manual clock on in sample steps, letting every sample become durable and counted. */
const run = (clock: ManualClock, agent: AgentHandle, ms: number, stepMs?: number) =>
  runAgent(clock, agent, ms, { stepMs });

/** An INA219 behind a 0.1 Ω shunt on a fake I²C bus, measuring `currentA` at 12 V. */
function ina219Bus(currentA: number) {
  const bus = new FakeIna219Bus();
  const chip = bus.addChip(0x40, 0.1);
  chip.measure({ currentA, busVoltageV: 12 });
  return { bus, chip };
}

/** A producer metering one INA219 at 0x40 behind a 0.1 Ω shunt, for up to `maxCurrentA`. */
function ina219Config(dir: string, maxCurrentA: number, extra: Partial<AgentConfigInput> = {}) {
  return config(dir, {
    role: 'producer',
    sensors: [{ name: 'load', kind: 'ina219', address: '0x40', shuntOhms: 0.1, maxCurrentA }],
    ...extra,
  });
}

describe('meter agent (in-process, manual clock)', () => {
  it('closes contiguous periods, pays each once by period id, and records both parties', async () => {
    const { clock, wallet, dir } = await household();
    const agent = await start(clock, wallet, config(dir));
    await run(clock, agent, 185_000);
    await agents.drainAndStop(agent);
    const state = await readState(dir);
    expect(state.periods.map((p) => p.seq)).toEqual([1, 2, 3]);
    for (const [i, p] of state.periods.entries()) {
      expect(p.id).toBe(`house-12/2024-06-01T12:0${i}:00.000Z`);
      expect(p.endMs - p.startMs).toBe(60_000);
      if (i > 0) expect(p.startMs).toBe(state.periods[i - 1]!.endMs);
      expect(p.amount).toBe('60');
      expect(p.energyMWs).toBe('60000');
      expect(p.consumer).toBe(CONSUMER);
      expect(p.producer).toBe(PRODUCER);
      expect(p.quality).toMatchObject({ samples: 60, gapCount: 0, coveredMs: 60_000, readErrors: 0 });
      expect(paymentState(p, state.outcomes)).toBe('accepted');
    }
    expect([...wallet.paid.entries()]).toEqual(state.periods.map((p) => [p.id, '60']));
    expect(wallet.calls[0]?.metadata).toMatchObject({
      periodId: 'house-12/2024-06-01T12:00:00.000Z',
      meterId: 'house-12',
      energyMWs: '60000',
      priceUnitsPerWh: '3600',
    });
    const samples = await readAllSamples(join(dir, 'samples'));
    expect(samples.length).toBeGreaterThanOrEqual(185);
  });

  it('keeps sampling and queues payments while the wallet-service is down, then drains them', async () => {
    const { clock, wallet, dir } = await household('down');
    const agent = await start(clock, wallet, config(dir));
    await run(clock, agent, 150_000);
    const snapshot = agent.snapshot();
    expect(snapshot.outbox.queued.map((q) => q.key)).toEqual([
      'house-12/2024-06-01T12:00:00.000Z',
      'house-12/2024-06-01T12:01:00.000Z',
    ]);
    expect(snapshot.outbox.consecutiveFailures).toBeGreaterThan(3);
    expect(snapshot.period.seq).toBe(3);
    expect(wallet.paid.size).toBe(0);
    wallet.mode = 'up';
    await run(clock, agent, 20_000);
    await agent.paymentsDrained();
    expect([...wallet.paid.keys()]).toEqual(snapshot.outbox.queued.map((q) => q.key));
  });

  it('never lets a hanging wallet-service hold up sampling', async () => {
    const { clock, wallet, dir } = await household('hang');
    const walletService = { ...UNUSED_WALLET_SERVICE, timeoutMs: 300 };
    const agent = await start(clock, wallet, config(dir, { walletService }));
    await run(clock, agent, 200_000);
    const snapshot = agent.snapshot();
    expect(snapshot.period.seq).toBe(4);
    expect(snapshot.ticks.missed).toBe(0);
    expect(snapshot.outbox.queued).toHaveLength(3);
    expect(wallet.calls).toHaveLength(1); // the first request still hangs; stop() gives up on it
  });

  it('marks a period rejected on a final 4xx and does not retry it', async () => {
    const { clock, wallet, dir } = await household('reject');
    const agent = await start(clock, wallet, config(dir));
    await run(clock, agent, 65_000);
    await agent.paymentsDrained();
    await run(clock, agent, 30_000);
    expect(wallet.calls).toHaveLength(1);
    expect(agent.snapshot().lastPeriod?.payment).toBe('rejected');
    expect(agent.snapshot().errors.at(-1)?.message).toMatch(/rejected: to: not an address/);
    await agent.stop();
    const state = await readState(dir);
    expect(state.outcomes.get(state.periods[0]!.id)).toMatchObject({ result: 'rejected', status: 400 });
  });

  it('after a restart closes the period that ended while it was down and re-sends unanswered payments', async () => {
    const { clock, wallet, dir } = await household('down');
    const first = await start(clock, wallet, config(dir));
    await run(clock, first, 90_000); // period 1 closed and queued; period 2 half done
    await first.stop();
    agents.forget();
    clock.advance(100_000); // down across the end of period 2 and all of period 3
    wallet.mode = 'up';
    const second = await start(clock, wallet, config(dir));
    await run(clock, second, 30_000);
    await agents.drainAndStop(second);
    const state = await readState(dir);
    expect(state.periods.map((p) => p.seq)).toEqual([1, 2, 3]);
    const [, p2, p3] = state.periods;
    expect(p2!.quality.samples).toBe(31); // 60 s … 90 s
    expect(p2!.quality.gapCount).toBe(1);
    expect(p2!.quality.gaps).toEqual([{ fromMs: p2!.startMs + 30_000, toMs: p2!.endMs }]);
    expect(p2!.amount).toBe('30'); // 30 s of 1 W: what was measured, nothing invented for the gap
    expect(p3!.quality.samples).toBe(0);
    expect(p3!.payment.state).toBe('nothing-due');
    expect([...wallet.paid.keys()]).toEqual([state.periods[0]!.id, p2!.id]);
    expect(new Set(wallet.calls.map((c) => `${c.idempotencyKey}=${c.amount}`)).size).toBe(2);
  });

  it('switches the relay off as soon as a prepaid purchase is delivered', async () => {
    const clock = new ManualClock(T0);
    const relay = new FakeRelay();
    const dir = await dataDir();
    const agent = await start(
      clock,
      new FakeWallet(),
      config(dir, { role: 'producer', prepaid: { enabled: true, relay: { kind: 'simulated' } } }),
      relay,
    );
    await run(clock, agent, 3000);
    expect(relay.isOn).toBe(false);
    await agent.purchase(5_000n, 'p-1'); // 5 J at 1 W: five seconds
    expect(relay.isOn).toBe(true);
    await run(clock, agent, 4000);
    expect(relay.isOn).toBe(true);
    await run(clock, agent, 1000);
    expect(relay.isOn).toBe(false);
    expect(relay.switches).toEqual([true, false]);
    await agent.stop();
    const state = await readState(dir);
    expect(state.purchases.get('p-1')?.done).toMatchObject({ deliveredMWs: '5000', reason: 'delivered' });
  });

  it('holds samples for a group write, but syncs each one while a prepaid purchase runs', async () => {
    const clock = new ManualClock(T0);
    const dir = await dataDir();
    const samplesDir = join(dir, 'samples');
    const agent = await start(
      clock,
      new FakeWallet(),
      config(dir, {
        role: 'producer',
        durability: { everySeconds: 10 },
        prepaid: { enabled: true, relay: { kind: 'simulated' } },
      }),
      new FakeRelay(),
    );
    await run(clock, agent, 3000);
    expect(await readAllSamples(samplesDir)).toEqual([]); // held: the group goes out 10 s after its first
    await agent.purchase(60_000n, 'p-1');
    await run(clock, agent, 2000);
    // The held samples went out with the first sample of the purchase, and each one since.
    expect((await readAllSamples(samplesDir)).map((s) => s.tMs)).toEqual(
      Array.from({ length: 6 }, (_, i) => Date.UTC(2024, 5, 1, 12, 0, i)),
    );
    await agent.stop();
  });

  it('meters an INA219 on an I²C bus (the fake one), with a read error bridged', async () => {
    const clock = new ManualClock(T0);
    const { bus, chip } = ina219Bus(0.5);
    const dir = await dataDir();
    const agent = await agents.start(clock, { config: ina219Config(dir, 3.2), openI2cBus: async () => bus });
    await run(clock, agent, 20_000);
    chip.failNextTransfers(1);
    await run(clock, agent, 45_000);
    await agent.stop();
    const [period] = (await readState(dir)).periods;
    // 12 V × 0.5 A = 6 W for 60 s = 360 J, within the INA219's LSB rounding.
    expect(Number(period!.energyMWs) / 360_000).toBeCloseTo(1, 2);
    expect(period!.quality).toMatchObject({ readErrors: 1, gapCount: 0, coveredMs: 60_000 });
    expect(period!.payment).toEqual({ state: 'not-paying' });
  });

  it('skips a sensor while its timed-out read is still on the bus, and counts it in status', async () => {
    const clock = new ManualClock(T0);
    const { bus } = ina219Bus(0.5);
    const problems: string[] = [];
    const agent = await agents.launch({
      config: ina219Config(await dataDir(), 3.2, { sampleIntervalMs: 200 }), // reads time out after 160 ms
      clock,
      openI2cBus: async () => bus,
    });
    agent.events.on('problem', (m) => problems.push(m));
    await tick(clock, agent, 0);
    const release = bus.hold();
    clock.advance(200);
    await agent.idle(); // gives up after 160 ms; the transfer stays stuck
    const transfers = bus.transfers;
    clock.advance(200);
    await agent.idle();
    expect(bus.transfers).toBe(transfers); // the busy sensor was skipped, not read again
    expect(agent.snapshot().lastSample?.readings[0]).toMatchObject({ error: /skipped/ });
    release();
    await new Promise((r) => setTimeout(r, 10));
    clock.advance(200);
    await agent.idle();
    expect(agent.snapshot().lastSample?.readings[0]).toMatchObject({ busVoltageMV: 12_000 });
    expect(agent.snapshot().sensors[0]).toMatchObject({ reads: 2, timeouts: 1, skippedReads: 1 });
    expect(problems.filter((m) => /did not answer within 160 ms/.test(m))).toHaveLength(1);
  });

  it('keeps over-range readings out of the energy and says so once per run', async () => {
    const clock = new ManualClock(T0);
    const { bus, chip } = ina219Bus(0.2);
    const problems: string[] = [];
    const dir = await dataDir();
    // 0.4 A × 0.1 Ω = 40 mV: PGA /1's full range; beyond it the shunt register clips without OVF.
    const agent = await agents.launch({ config: ina219Config(dir, 0.4), clock, openI2cBus: async () => bus });
    agent.events.on('problem', (m) => problems.push(m));
    await tick(clock, agent, 0);
    await run(clock, agent, 20_000);
    chip.measure({ currentA: 0.6, busVoltageV: 12 });
    await run(clock, agent, 5_000);
    chip.measure({ currentA: 0.2, busVoltageV: 12 });
    await run(clock, agent, 35_000);
    await agent.stop();
    const [period] = (await readState(dir)).periods;
    expect(period!.quality.overflows).toBe(5);
    expect(problems.filter((m) => /over range \(shunt-full-scale\)/.test(m))).toHaveLength(1);
    // Only in-range readings count: 2.4 W over the period less the stretch around the over-range readings.
    expect(Number(period!.energyMWs)).toBeLessThan(2.4 * 60_000);
    expect(agent.snapshot().sensors[0]).toMatchObject({ overRange: 5 });
  });

  it('serves its state read-only over HTTP for the dashboard: /status, /periods, /events', async () => {
    const { clock, wallet, dir } = await household();
    const http = { host: '127.0.0.1', port: 0, corsOrigins: ['http://dashboard.local'] };
    const agent = await start(clock, wallet, config(dir, { http }));
    const url = agent.httpUrl!;
    const status = await fetch(`${url}/status`, { headers: { origin: 'http://dashboard.local' } });
    expect(status.headers.get('access-control-allow-origin')).toBe('http://dashboard.local');
    expect(await status.json()).toMatchObject({ meterId: 'house-12', role: 'consumer', running: true });
    const stranger = await fetch(`${url}/status`, { headers: { origin: 'http://elsewhere' } });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    expect((await fetch(`${url}/status`, { method: 'POST' })).status).toBe(405);

    const events = await fetch(`${url}/events`);
    const reader = events.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value);
    await run(clock, agent, 61_000);
    await agent.paymentsDrained();
    while (!text.includes('event: period')) text += decoder.decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toContain('event: status');
    const sample = JSON.parse(/event: sample\ndata: (.*)\n/.exec(text)![1]!);
    expect(sample).toMatchObject({ powerUW: 1_000_000, readings: [{ sensor: 'load', powerUW: 1_000_000 }] });

    const periods = (await (await fetch(`${url}/periods?limit=5`)).json()) as {
      items: { id: string; paymentState: string }[];
    };
    expect(periods.items).toEqual([
      expect.objectContaining({ id: 'house-12/2024-06-01T12:00:00.000Z', paymentState: 'accepted' }),
    ]);
    expect((await fetch(`${url}/periods?limit=0`)).status).toBe(400);
  });

  it('answers its read API only under its own Host names: 421 with a JSON error to any other', async () => {
    const clock = new ManualClock(T0);
    const http = { host: '127.0.0.1', port: 0, corsOrigins: [], allowedHosts: ['meter.local'] };
    const agent = await start(clock, new FakeWallet(), config(await dataDir(), { http }));
    const { port } = new URL(agent.httpUrl!);
    const get = (host: string) => getWithHost(agent.httpUrl!, '/status', host);
    const forged = await get(`rebind.example:${port}`);
    expect(forged.status).toBe(421);
    expect(JSON.parse(forged.body).error.code).toBe('MISDIRECTED_REQUEST');
    expect((await get(`localhost:${port}`)).status).toBe(200);
    expect((await get('meter.local')).status).toBe(200);
  });

  it('refuses a bad config with the key path and writes nothing', async () => {
    const dir = await dataDir();
    const bad = config(dir, { sampleIntervalMs: 10 });
    await expect(startAgent({ config: bad, log: silentLogger() })).rejects.toThrow(
      /sampleIntervalMs: Too small: expected number to be >=50/,
    );
    await expect(stat(dir)).rejects.toThrow(/ENOENT/);
  });
});

/** Every feature on: payments, a channel, prepaid delivery through a relay. */
function withFeatures(cfg: AgentConfigInput): AgentConfigInput {
  return {
    ...cfg,
    prepaid: { enabled: true, relay: { kind: 'simulated' } },
    channel: { nodeUrl: 'http://127.0.0.1:1', readers: ['ab'.repeat(32)], batchSeconds: 5 },
  };
}

/** Starts an agent with every feature on, a fake wallet, and the relay and channel given. */
function startWithFeatures(
  cfg: AgentConfigInput,
  clock: ManualClock,
  relay: FakeRelay,
  channel: FakeChannel,
) {
  return startAgent({
    config: withFeatures(cfg),
    clock,
    wallet: new FakeWallet(),
    relay,
    openChannel: channel.open,
    log: silentLogger(),
  });
}

/** A FakeChannel that notes whether the relay was still on when the agent stopped it. */
function channelWatching(relay: FakeRelay): { channel: FakeChannel; relayOnAtStop: boolean[] } {
  const channel = new FakeChannel();
  const relayOnAtStop: boolean[] = [];
  const stop = channel.stop.bind(channel);
  channel.stop = async () => {
    relayOnAtStop.push(relay.isOn);
    await stop();
  };
  return { channel, relayOnAtStop };
}

describe('the agent as a kernel plus features', () => {
  it('stops delivery first: the relay is off before the channel stops', async () => {
    const clock = new ManualClock(T0);
    const relay = new FakeRelay();
    const { channel, relayOnAtStop } = channelWatching(relay);
    const agent = await startWithFeatures(config(await dataDir()), clock, relay, channel);
    for (let i = 0; i < 3; i++) await tick(clock, agent, 1000);
    await agent.purchase(60_000n, 'p-1');
    expect(relay.isOn).toBe(true);
    await agent.stop();
    expect(relayOnAtStop).toEqual([false]);
    expect(relay.isOn).toBe(false);
    expect(agent.snapshot().running).toBe(false);
  });

  it('a feature that cannot start stops the others, leaves the relay off and the data dir free', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => {
      blocker.close();
    });
    const port = (blocker.address() as { port: number }).port;
    const dir = await dataDir();
    const clock = new ManualClock(T0);
    const relay = new FakeRelay();
    const channel = new FakeChannel();
    const http = { host: '127.0.0.1', port, corsOrigins: [] };
    const failed = await startWithFeatures(config(dir, { http }), clock, relay, channel).catch(
      (error: MeterAgentError) => error,
    );
    expect(failed).toMatchObject({ code: 'BAD_CONFIG' });
    expect((failed as MeterAgentError).message).toMatch(/^http: cannot listen on 127\.0\.0\.1:\d+/);
    expect(channel.stopped).toBe(1);
    expect(relay.isOn).toBe(false);
    expect(relay.switches).not.toContain(true);

    // The journal lock was released: the same data dir starts again.
    const again = agents.track(
      await startWithFeatures(config(dir), clock, new FakeRelay(), new FakeChannel()),
    );
    expect(again.snapshot().running).toBe(true);
  });
});
