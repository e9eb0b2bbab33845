import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  MemoryWriterStore,
  merkleRootHex,
  newEd25519SecretKey,
  newX25519SecretKey,
  x25519PublicKey,
} from '@tanglewatt/channels';
import type { Payment, PaymentRequest } from '@tanglewatt/contract';
import { describe, expect, it } from 'vitest';
import type { AgentHandle } from './agent.js';
import {
  type ChannelSample,
  channelSampleOf,
  loadOrCreateSigningKey,
  microToMilli,
  type NodeChannel,
} from './channel.js';
import { FakeChannel } from './channel-fake.js';
import { ManualClock } from './clock.js';
import { type AgentConfigInput, parseConfig } from './config.js';
import type { SampleRecord } from './metering/records.js';
import type { PaymentClient } from './payments/outbox.js';
import { readAllSamples } from './store/sample-store.js';
import { paymentState, readState } from './store/state.js';
import { agentConfig, freshDataDir, T0, wanderingLoad } from './testing/fixtures.js';
import { realPause, run as runAgent, TestAgents } from './testing/in-process.js';
import { FakeNode, openNodeChannel, periodSummary } from './testing/node-channel.js';

const READER = 'ab'.repeat(32);

class FakeWallet implements PaymentClient {
  readonly calls: PaymentRequest[] = [];
  async pay(request: PaymentRequest): Promise<Payment> {
    this.calls.push(request);
    const now = new Date().toISOString();
    return { ...request, state: 'queued', micro: false, attempts: 0, createdAt: now, updatedAt: now };
  }
}

/** A wandering load with fractional milliamps, so µA → mA rounding is exercised. */
function config(dir: string, extra: Partial<AgentConfigInput> = {}): AgentConfigInput {
  return agentConfig(dir, {
    meterId: 'house-7',
    sensors: [
      wanderingLoad({
        seed: 7,
        busVoltageMV: 12_003,
        startMA: 700.2,
        minMA: 100,
        maxMA: 2000,
        stepMA: 37.37,
      }),
    ],
    period: { seconds: 20 },
    payments: { backoffBaseMs: 1000, backoffCapMs: 4000 },
    channel: { nodeUrl: 'http://127.0.0.1:1', readers: [READER], batchSeconds: 5 },
    ...extra,
  });
}

const dataDir = () => freshDataDir('meter-agent-channel-');
const agents = new TestAgents();

/** A clock, a wallet, a channel and a data dir; `start` starts an agent on them (config(dir) unless given). */
async function household() {
  const clock = new ManualClock(T0);
  const wallet = new FakeWallet();
  const channel = new FakeChannel();
  const dir = await dataDir();
  const start = (cfg = config(dir)) =>
    agents.start(clock, { config: cfg, wallet, openChannel: channel.open });
  return { clock, wallet, channel, dir, start };
}

/** Roots and payments are journaled (synced) beside sampling: give them real time per step. */
const run = (clock: ManualClock, agent: AgentHandle, ms: number) =>
  runAgent(clock, agent, ms, { settle: realPause(2) });

const expectedReadings = (samples: SampleRecord[]) =>
  samples.map((s) => channelSampleOf(s, 'load')).filter((s): s is ChannelSample => s !== undefined);

describe('channel units', () => {
  it('rounds µA and µW to mA and mW half away from zero, and keeps mV and ms', () => {
    expect([1499, 1500, 1501, -1499, -1500, -1501, 0, 499, -499, 500, -500].map(microToMilli)).toEqual([
      1, 2, 2, -1, -2, -2, 0, 0, 0, 1, -1,
    ]);
    const sample: SampleRecord = {
      tMs: 1_717_243_200_123,
      readings: [
        { sensor: 'panel', busVoltageMV: 1, currentUA: 1, powerUW: 1 },
        { sensor: 'load', busVoltageMV: 12_003, currentUA: -2_345_500, powerUW: 28_151_986_500 },
      ],
    };
    expect(channelSampleOf(sample, 'load')).toEqual({
      timestampMs: 1_717_243_200_123,
      busVoltageMV: 12_003,
      currentMA: -2346,
      powerMW: 28_151_987,
    });
    expect(
      channelSampleOf({ tMs: 1, readings: [{ sensor: 'load', error: 'nack' }] }, 'load'),
    ).toBeUndefined();
    expect(
      channelSampleOf(
        { tMs: 1, readings: [{ sensor: 'load', busVoltageMV: 1, currentUA: 1, powerUW: 1, overflow: true }] },
        'load',
      ),
    ).toBeUndefined();
  });

  it('validates the channel config with one line naming the key', () => {
    const base = config('/tmp/x');
    const bad = (channel: unknown) => () => parseConfig({ ...base, channel });
    expect(bad({ nodeUrl: 'http://n:14265' })).toThrow(/channel\.readers: at least one X25519/);
    expect(bad({ nodeUrl: 'http://n:14265', readers: ['xyz'] })).toThrow(/channel\.readers\.0: an X25519/);
    expect(bad({ nodeUrl: 'ftp://n', readers: [READER] })).toThrow(/channel\.nodeUrl/);
    expect(bad({ nodeUrl: 'http://n', mode: 'secret', readers: [READER] })).toThrow(/channel\.mode/);
    expect(bad({ nodeUrl: 'http://n', mode: 'public', readers: [READER] })).toThrow(
      /channel\.readers: a public/,
    );
    expect(bad({ nodeUrl: 'http://n', readers: [READER], batchSeconds: 0 })).toThrow(/channel\.batchSeconds/);
    expect(bad({ nodeUrl: 'http://n', readers: [READER], key: 'x' })).toThrow(
      /channel\.key: not a known key/,
    );
    const ok = parseConfig({
      ...base,
      channel: { nodeUrl: 'http://n', readers: [`0x${READER.toUpperCase()}`] },
    });
    expect(ok.channel).toMatchObject({
      mode: 'restricted',
      batchSeconds: 60,
      readers: [READER],
      keyFile: '/tmp/x/channel/signing.key',
    });
    expect(parseConfig({ ...base, channel: undefined }).channel).toBeUndefined();
  });

  it('makes the signing key once, mode 0600, and refuses one others can read', async () => {
    const file = join(await dataDir(), 'keys', 'meter.key');
    const made = await loadOrCreateSigningKey(file);
    expect(made.created).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateSigningKey(file);
    expect(again).toEqual({ key: made.key, created: false });
    await writeFile(file, await readFile(file), { mode: 0o644 });
    const { chmod } = await import('node:fs/promises');
    await chmod(file, 0o644);
    await expect(loadOrCreateSigningKey(file)).rejects.toThrow(/channel\.keyFile: .* chmod 600/);
  });
});

describe('meter agent with a (fake) channel', () => {
  it('forwards every counted sample in channel units, closes each period once, and pays with its root', async () => {
    const { clock, wallet, channel, dir, start } = await household();
    const agent = await start();
    await run(clock, agent, 65_000);
    await agent.paymentsDrained();
    expect(agent.snapshot().channel).toMatchObject({ channelId: channel.channelId, lastSeq: 2 });
    await agent.stop();

    const samples = await readAllSamples(join(dir, 'samples'));
    expect(channel.samples).toEqual(expectedReadings(samples));
    expect(channel.samples.some((s) => s.currentMA % 100 !== 0)).toBe(true);

    const state = await readState(dir);
    expect(state.periods.map((p) => p.seq)).toEqual([1, 2, 3]);
    expect(channel.closes.map((c) => c.periodId)).toEqual(state.periods.map((p) => p.id));
    for (const [i, p] of state.periods.entries()) {
      const root = channel.roots.get(p.id)!;
      expect(p.channel).toEqual({ channelId: channel.channelId, ...root, periodId: undefined });
      expect(channel.closes[i]).toEqual({
        periodId: p.id,
        startMs: p.startMs,
        endMs: p.endMs,
        energyMWs: BigInt(p.energyMWs),
        sampleCount: p.quality.samples,
      });
      expect(paymentState(p, state.outcomes)).toBe('accepted');
    }
    expect(wallet.calls.map((c) => [c.idempotencyKey, c.metadata?.readingsHash])).toEqual(
      state.periods.map((p) => [p.id, channel.roots.get(p.id)!.root]),
    );
    // The agent's own hash over its samples is still recorded, and differs from the channel's root.
    expect(state.periods[0]!.readingsHash).not.toBe(state.periods[0]!.channel!.root);
  });

  it('keeps sampling and closing periods while the node is down; pays each once its root comes', async () => {
    const { clock, wallet, channel, dir, start } = await household();
    channel.up = false;
    const agent = await start();
    await run(clock, agent, 65_000);
    const snapshot = agent.snapshot();
    expect(snapshot.period.seq).toBe(4);
    expect(snapshot.ticks.missed).toBe(0);
    expect(snapshot.channel?.awaitingRoots).toHaveLength(3);
    expect(wallet.calls).toHaveLength(0); // no payment without its root
    expect(snapshot.errors.some((e) => /channel/.test(e.message))).toBe(true);

    channel.up = true;
    await run(clock, agent, 3_000);
    await agent.paymentsDrained();
    const state = await readState(dir);
    expect(wallet.calls.map((c) => [c.idempotencyKey, c.metadata?.readingsHash])).toEqual(
      state.periods.map((p) => [p.id, channel.roots.get(p.id)!.root]),
    );
    expect(new Set(channel.closes.map((c) => c.periodId)).size).toBe(channel.closes.length);
  });

  it('after a restart closes again on the channel what never got a root, and pays it once', async () => {
    const { clock, wallet, channel, dir, start } = await household();
    const first = await start();
    await run(clock, first, 25_000); // period 1 closed, rooted and paid
    await first.paymentsDrained();
    channel.up = false;
    await run(clock, first, 20_000); // period 2 closed, no root
    await first.stop();
    agents.forget();
    expect(wallet.calls).toHaveLength(1);

    channel.up = true;
    const second = await start();
    await run(clock, second, 5_000);
    await agents.drainAndStop(second);
    const state = await readState(dir);
    expect(state.periods.map((p) => p.seq)).toEqual([1, 2]);
    // Period 2 was handed over again (its readings from the journal), period 1 was not.
    expect(channel.closes.map((c) => c.periodId)).toEqual([
      state.periods[0]!.id,
      state.periods[1]!.id,
      state.periods[1]!.id,
    ]);
    expect(wallet.calls.map((c) => [c.idempotencyKey, c.metadata?.readingsHash])).toEqual(
      state.periods.map((p) => [p.id, channel.roots.get(p.id)!.root]),
    );
  });

  it('without a channel pays with the agent’s own readings hash, as before', async () => {
    const { clock, wallet, channel, dir, start } = await household();
    const agent = await start(config(dir, { channel: undefined }));
    await run(clock, agent, 25_000);
    await agents.drainAndStop(agent);
    const state = await readState(dir);
    expect(channel.opened).toBe(0);
    expect(state.periods[0]!.channel).toBeUndefined();
    expect(wallet.calls[0]?.metadata?.readingsHash).toBe(state.periods[0]!.readingsHash);
  });
});

/** NodeChannel over a real ChannelWriter in memory, with a node that can be down. */
describe('NodeChannel (real writer, fake node)', () => {
  const open = (store: MemoryWriterStore, node: FakeNode, clock: ManualClock, signingKey: Uint8Array) =>
    openNodeChannel({ store, node, clock, signingKey, readers: [READER_KEY] });

  const READER_KEY = x25519PublicKey(newX25519SecretKey());
  const reading = (i: number): ChannelSample => ({
    timestampMs: T0 + i * 1000,
    busVoltageMV: 12_000 + i,
    currentMA: 500 - i,
    powerMW: 6000 + i,
  });
  const settle = async (ch: NodeChannel) => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    return ch;
  };
  const summary = periodSummary;

  it('queues while the node is down, never mixes periods in a message, and resumes a restart without reposting', async () => {
    const clock = new ManualClock(T0);
    const node = new FakeNode();
    const store = new MemoryWriterStore();
    const key = newEd25519SecretKey();
    let c = await open(store, node, clock, key);
    for (let i = 0; i < 10; i++) c.channel.addSample(reading(i));
    clock.advance(5000); // a batch goes out mid-period
    c.channel.closePeriod(summary(1));
    await settle(c.channel);
    expect(c.roots.map((r) => r.periodId)).toEqual(['m/p1']);

    node.up = false;
    for (let i = 10; i < 20; i++) c.channel.addSample(reading(i));
    c.channel.closePeriod(summary(2));
    c.channel.addSample(reading(20)); // the first reading of period 3 arrives at once
    await settle(c.channel);
    clock.advance(5000);
    await settle(c.channel);
    expect(c.problems.length).toBeGreaterThan(0);
    expect(c.channel.view().lastError).toMatch(/ECONNREFUSED/);
    const postedBefore = node.blocks.length;
    // "Crash": the in-memory queue is lost; the store keeps what was sealed.
    await c.channel.stop(); // (only so its timer stops: the node is still down, nothing goes out)
    expect(node.blocks).toHaveLength(postedBefore);
    c = await open(store, node, clock, key);
    node.up = true;
    // Period 2's closing message was sealed before the node failed: its root is durable already.
    expect(c.channel.rootOf('m/p2')).toBeDefined();
    // The agent replays its journal: everything from period 2 on, and closes period 2 again.
    for (let i = 10; i < 21; i++) c.channel.addSample(reading(i));
    c.channel.closePeriod(summary(2));
    clock.advance(5000);
    await settle(c.channel);
    expect(c.roots.map((r) => r.periodId)).toEqual(['m/p2']);
    const p2 = c.roots[0]!;
    for (let seq = p2.fromSeq; seq <= p2.toSeq; seq++) {
      const m = c.writer.message(seq)!;
      expect(m.fromMs).toBeGreaterThanOrEqual(summary(2).startMs);
      expect(m.toMs).toBeLessThanOrEqual(summary(2).endMs);
    }
    const hashes = [];
    for (let seq = p2.fromSeq; seq <= p2.toSeq; seq++) hashes.push(c.writer.message(seq)!.hash);
    expect(merkleRootHex(hashes)).toBe(p2.root);
    // Every seq posted exactly once, with no seq reused.
    expect(node.blocks.length).toBeGreaterThan(postedBefore);
    expect(node.blocks).toHaveLength(c.writer.nextSeq);
    expect(c.writer.blockIndex()).toHaveLength(c.writer.nextSeq);
    // A close of a period the channel already has answers with the same root.
    c.channel.closePeriod(summary(1));
    await settle(c.channel);
    expect(c.roots.at(-1)?.periodId).toBe('m/p1');
    await c.channel.stop();
  });
});
