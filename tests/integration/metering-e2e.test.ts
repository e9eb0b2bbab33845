import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Balance } from '@tanglewatt/contract';
import { type AgentHandle, startAgent } from '@tanglewatt/meter-agent';
import { agentConfig, constantLoad } from '@tanglewatt/meter-agent/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { anyRose, waitForProgress } from '../support/progress.js';
import { stopServices } from '../support/shared-tangle.js';
import { api, startTestWallet, type TestWallet } from '../support/wallets.js';

const tangle = inject('tangle');
const totalOf = async (w: TestWallet) => BigInt((await api<Balance>(w, 'GET', '/balance')).body.totalUnits);

describe('metering end to end: agents, wallet-services and the real tangle', () => {
  let producer: TestWallet;
  let consumer: TestWallet;
  let consumerAgent: AgentHandle;
  let producerAgent: AgentHandle;
  let producerBefore: bigint;
  const dirs: string[] = [];

  beforeAll(async () => {
    producer = await startTestWallet(tangle, { slot: 4 });
    consumer = await startTestWallet(tangle, { slot: 5 });
    // The producer's balance before any agent runs: its genesis output, as its wallet sees it.
    producerBefore = await totalOf(producer);
    const log = pino({ level: 'warn' });
    const parties = { consumer: consumer.service.address, producer: producer.service.address };
    const agentDir = async () => {
      const d = await mkdtemp(join(tmpdir(), 'tanglewatt-agent-'));
      dirs.push(d);
      return d;
    };
    // 48 V × 10 A = 480 W for 10 s is 1.33 Wh: 5333.3 units a period at 4000 units/Wh, above a basic
    // output's deposit.
    const meter = { sampleIntervalMs: 1000, period: { seconds: 10 }, price: { unitsPerWh: '4000' }, parties };
    consumerAgent = await startAgent({
      config: agentConfig(await agentDir(), {
        ...meter,
        meterId: 'consumer-1',
        sensors: [constantLoad(48_000, 10_000)],
        pricing: 'carry',
        walletService: { url: consumer.service.url, token: consumer.token },
      }),
      log,
    });
    producerAgent = await startAgent({
      config: agentConfig(await agentDir(), {
        ...meter,
        meterId: 'producer-1',
        role: 'producer',
        sensors: [constantLoad(48_000, 10_000, 'panel')],
        walletService: undefined,
      }),
      log,
    });
  });

  afterAll(async () => {
    await consumerAgent?.stop();
    await producerAgent?.stop();
    await stopServices(producer, consumer);
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("grows the producer's balance by exactly the sum of the consumer's period amounts", async () => {
    // Three closed periods whose payments the consumer's wallet-service has included on the ledger.
    const paidPeriods = () =>
      consumerAgent
        .periods(50)
        .filter(
          (p) => p.payment.state !== 'nothing-due' && consumer.service.store.get(p.id)?.state === 'included',
        );
    await waitForProgress({
      what: '3 periods paid and included',
      probe: () => ({ closed: consumerAgent.periods(50).length, included: paidPeriods().length }),
      done: (n) => n.included >= 3,
      progressed: anyRose,
      stallMs: 60_000,
      ceilingMs: 300_000,
      intervalMs: 500,
    });

    // Stop metering so no new period lands between the two reads below.
    await consumerAgent.stop();
    await consumerAgent.paymentsDrained().catch(() => undefined);
    const periods = consumerAgent.periods(50).filter((p) => p.payment.state !== 'nothing-due');
    await waitForProgress({
      what: `the last of ${periods.length} period payments included`,
      probe: () => periods.filter((p) => consumer.service.store.get(p.id)?.state === 'included').length,
      done: (n) => n === periods.length,
      stallMs: 60_000,
      ceilingMs: 300_000,
    });
    const sum = periods.reduce((s, p) => s + BigInt(p.amount), 0n);
    expect(sum).toBeGreaterThan(0n);
    for (const p of periods) {
      const payment = consumer.service.store.get(p.id)!;
      expect(payment.amount).toBe(p.amount);
      expect(payment.to).toBe(producer.service.address);
      expect(payment.metadata?.readingsHash).toBe(p.readingsHash);
    }
    await expect.poll(() => totalOf(producer), { timeout: 20_000 }).toBe(producerBefore + sum);

    // The producer's own agent metered the same energy, and names both parties.
    const produced = producerAgent.periods(50);
    expect(produced.length).toBeGreaterThanOrEqual(3);
    expect(produced[0]).toMatchObject({
      consumer: consumer.service.address,
      producer: producer.service.address,
    });
  }, 600_000); // an outer bound only: the waits inside fail on a stall
});
