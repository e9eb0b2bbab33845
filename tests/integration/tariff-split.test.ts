import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Payment } from '@tanglewatt/contract';
import { bech32ToHex, generateMnemonic, MnemonicSigner } from '@tanglewatt/ledger';
import {
  type AgentHandle,
  channelSampleOf,
  type PeriodRecord,
  readAllSamples,
  startAgent,
} from '@tanglewatt/meter-agent';
import { agentConfig, constantLoad } from '@tanglewatt/meter-agent/testing';
import type { TariffInput } from '@tanglewatt/tariff';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPeriodArgs } from '../support/channels-cli.js';
import { anyRose, waitForProgress } from '../support/progress.js';
import { sharedTangle, stopServices } from '../support/shared-tangle.js';
import { api, startTestWallet, type TestWallet } from '../support/wallets.js';

const { tangle, nodeUrl, node } = sharedTangle();
const EVERY_DAY = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/**
 * 480 W (48 V × 10 A) is 480/3.6e6 Wh per ms = 1/7500 Wh per ms, so a price of 7500 units/Wh is 1 unit per
 * ms: every amount below is a whole number of units and nothing is carried. Before the boundary B (UTC)
 * the "standard" band: producer 1, operator 1, grid 2 units per ms; from B the "high" band: 3, 1 and 4.
 */
function tariffWithBoundaryAt(boundaryMs: number, gridHigh = '30000'): TariffInput {
  return {
    id: 'split-integration',
    version: 1,
    timeZone: 'UTC',
    validFrom: '2026-01-01T00:00Z',
    bands: [
      { digit: 1, name: 'high', priceUnitsPerWh: '22500' },
      { digit: 2, name: 'standard', priceUnitsPerWh: '7500' },
    ],
    slots: [
      { days: [...EVERY_DAY], from: '00:00', to: hhmm(boundaryMs), band: 'standard' },
      { days: [...EVERY_DAY], from: hhmm(boundaryMs), to: '24:00', band: 'high' },
    ],
    fees: {
      operator: { unitsPerWh: { standard: '7500', high: '7500' } },
      grid: { unitsPerWh: { standard: '15000', high: gridHigh } },
    },
  };
}

describe('a meter agent with a tariff pays producer, operator and grid in one transaction', () => {
  let producer: TestWallet;
  let consumer: TestWallet;
  let agent: AgentHandle;
  let dir: string;
  let operator: string;
  let grid: string;
  let boundaryMs: number;

  beforeAll(async () => {
    consumer = await startTestWallet(tangle, { slot: 39 });
    producer = await startTestWallet(tangle, { slot: 40 });
    const hrp = consumer.service.address.slice(0, consumer.service.address.lastIndexOf('1'));
    [operator, grid] = (await new MnemonicSigner(generateMnemonic()).addresses({
      count: 2,
      bech32Hrp: hrp,
    })) as [string, string];
    dir = await mkdtemp(join(tmpdir(), 'tanglewatt-tariff-split-'));
    // The band changes at the second whole minute from now (not midnight: a slot cannot start at 24:00),
    // taken just before the agent starts: the wallets' start-up on a busy machine must not use it up.
    boundaryMs = Math.ceil(Date.now() / 60_000) * 60_000 + 60_000;
    if (hhmm(boundaryMs) === '00:00') boundaryMs += 60_000;
    await writeFile(join(dir, 'tariff.json'), JSON.stringify(tariffWithBoundaryAt(boundaryMs)));
    agent = await startAgent({
      config: agentConfig(join(dir, 'agent'), {
        meterId: 'tariff-split-1',
        parties: { consumer: consumer.service.address, producer: producer.service.address },
        sensors: [constantLoad(48_000, 10_000)],
        sampleIntervalMs: 1000,
        // 25 s periods 7 s past the epoch's multiples: a whole minute, and so the boundary, always falls
        // strictly inside one of them (without the offset every fifth minute is a period boundary).
        period: { seconds: 25, offsetSeconds: 7 },
        price: { unitsPerWh: '7500' },
        tariff: { schedule: join(dir, 'tariff.json'), operator, grid },
        walletService: { url: consumer.service.url, token: consumer.token },
        channel: { nodeUrl, mode: 'public', readers: [], batchSeconds: 3 },
      }),
      log: pino({ level: 'warn' }),
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await stopServices(producer, consumer);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('pays the hand-computed shares of the period crossing the band boundary; verify-period --tariff agrees', async () => {
    const crossing = () =>
      agent
        .periods(50)
        .find(
          (p) =>
            p.startMs < boundaryMs &&
            boundaryMs < p.endMs &&
            consumer.service.store.get(p.id)?.state === 'included',
        );
    await waitForProgress({
      what: 'the period crossing the band boundary paid and included',
      probe: () => ({ closed: agent.periods(50).length, crossing: crossing() ? 1 : 0 }),
      done: (n) => n.crossing === 1,
      progressed: anyRose,
      stallMs: 90_000,
      ceilingMs: 300_000,
      intervalMs: 500,
    });
    const period: PeriodRecord = crossing()!;

    // By hand: each stretch between consecutive readings (no more than 3 s apart, the first from the
    // reading before the period) at 480 W, its ms before B at 1/1/2 units, from B at 3/1/4 units per ms.
    const readings = (await readAllSamples(join(dir, 'agent', 'samples')))
      .map((s) => channelSampleOf(s, 'load'))
      .filter((s) => s !== undefined)
      .filter((s) => s.timestampMs >= period.startMs - 3000 && s.timestampMs < period.endMs);
    expect(readings.every((r) => r.powerMW === 480_000)).toBe(true);
    const firstInPeriod = readings.findIndex((r) => r.timestampMs >= period.startMs);
    let standardMs = 0n;
    let highMs = 0n;
    for (let i = Math.max(1, firstInPeriod); i < readings.length; i++) {
      const a = readings[i - 1]!.timestampMs;
      const b = readings[i]!.timestampMs;
      if (b - a > 3000) continue;
      standardMs += BigInt(Math.max(0, Math.min(b, boundaryMs) - a));
      highMs += BigInt(Math.max(0, b - Math.max(a, boundaryMs)));
    }
    expect(standardMs).toBeGreaterThan(0n);
    expect(highMs).toBeGreaterThan(0n);
    const expected = {
      producer: standardMs + 3n * highMs,
      operator: standardMs + highMs,
      grid: 2n * standardMs + 4n * highMs,
    };

    // The wallet-service paid all three as outputs of one transaction, at the indexes its description names.
    const payment = await api<Payment>(consumer, 'GET', `/payments/${encodeURIComponent(period.id)}`);
    expect(payment.body.amount).toBe(expected.producer.toString());
    expect(payment.body.shares?.map((s) => [s.role, s.to, s.amount])).toEqual([
      ['operator', operator, expected.operator.toString()],
      ['grid', grid, expected.grid.toString()],
    ]);
    const transactionId = payment.body.transactionId!;
    const block = (await node.includedBlock(transactionId)) as unknown as {
      payload: {
        essence: {
          outputs: {
            amount: string;
            unlockConditions: { type: number; address?: { pubKeyHash: string } }[];
          }[];
        };
      };
    };
    const outputs = block.payload.essence.outputs;
    const onLedger = (index: number) => ({
      amount: BigInt(outputs[index]!.amount),
      to: outputs[index]!.unlockConditions.find((u) => u.type === 0)!.address!.pubKeyHash,
    });
    const index = Number.parseInt(payment.body.outputId!.slice(-4, -2), 16); // little-endian u16, < 256 here
    expect(onLedger(index)).toEqual({
      amount: expected.producer,
      to: bech32ToHex(producer.service.address),
    });
    expect(onLedger(index + 1)).toEqual({ amount: expected.operator, to: bech32ToHex(operator) });
    expect(onLedger(index + 2)).toEqual({ amount: expected.grid, to: bech32ToHex(grid) });

    // A member with the tariff file recomputes the same amounts from the channel's readings …
    const args = ['--tx', transactionId, '--node', nodeUrl, '--period', period.id];
    const pass = await verifyPeriodArgs([...args, '--tariff', join(dir, 'tariff.json')]);
    expect(pass.stderr).toBe('');
    const lines = pass.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PASS: \d+ messages .* root matches; period /);
    expect(lines[1]).toBe(
      `PASS: tariff split-integration v1: producer ${expected.producer}, operator ${expected.operator}, grid ${expected.grid} recomputed from the readings`,
    );
    expect(pass.code).toBe(0);

    // … and a tariff file whose high-band grid fee was changed (5 units per ms instead of 4) fails in one line.
    await writeFile(join(dir, 'tampered.json'), JSON.stringify(tariffWithBoundaryAt(boundaryMs, '37500')));
    const fail = await verifyPeriodArgs([...args, '--tariff', join(dir, 'tampered.json')]);
    const tamperedGrid = 2n * standardMs + 5n * highMs;
    expect(fail.stdout.trimEnd().split('\n').slice(1)).toEqual([
      `FAIL SHARE_MISMATCH: grid: stated ${expected.grid}, tariff gives ${tamperedGrid} (exact ${tamperedGrid}/1 + carry 0/1)`,
    ]);
    expect(fail.code).toBe(1);
  }, 600_000); // an outer bound only: the wait inside fails on a stall
});
