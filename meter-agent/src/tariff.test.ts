import type { AgentSnapshot } from '@tanglewatt/contract';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { parseConfig } from './config.js';
import { FakeWallet } from './payments/fake-wallet.js';
import { paymentRequestFor } from './period-record.js';
import { readState } from './store/state.js';
import { freshDataDir, PRODUCER } from './testing/fixtures.js';
import { run, TestAgents } from './testing/in-process.js';
import { config, GRID, OPERATOR, splitTariff, T0 } from './testing/tariff-fixtures.js';

const agents = new TestAgents();

describe('an agent with a tariff', () => {
  it('pays producer, operator and grid per band, carrying each fraction, across a restart', async () => {
    const clock = new ManualClock(T0);
    const wallet = new FakeWallet();
    const dir = await freshDataDir('tariff-agent-');
    const first = await agents.start(clock, { config: config(dir), wallet });
    await run(clock, first, 125_000); // period 1 (16:00–16:02) closed, period 2 begun
    await agents.drainAndStop(first);
    const second = await agents.start(clock, { config: config(dir), wallet });
    await run(clock, second, 120_000); // period 2 (16:02–16:04) closed from the journal and new samples
    await agents.drainAndStop(second);

    // Period 1: readings at 16:00:00 … 16:01:59, 1 W. 16:00:00–16:01:00 standard, 60 s = 1/60 Wh:
    //   energy 3600/60 = 60, operator 6, grid 360/60 = 6.
    // 16:01:00–16:01:59 high, 59 s = 59/3600 Wh: energy 7200 × 59/3600 = 118, operator 11.8,
    //   grid 1080 × 59/3600 = 17.7. Totals 178, 17.8, 23.7 → pays 178, 17, 23; carries 0.8 and 0.7.
    // Period 2: 16:01:59 (the reading before it) to 16:03:59, 120 s high = 1/30 Wh: energy 240,
    //   operator 24, grid 36; with the carries 24.8 → 24 and 36.7 → 36, carrying 0.8 and 0.7 again.
    const [p1, p2] = (await readState(dir)).periods;
    expect(p1!.tariff).toMatchObject({
      id: 'split-test',
      version: '1',
      bandsMWs: { '1': '59000', '2': '60000' },
      exact: { producer: '178/1', operator: '89/5', grid: '237/10' },
      units: { producer: '178', operator: '17', grid: '23' },
      carryOut: { producer: '0/1', operator: '4/5', grid: '7/10' },
    });
    expect(p1!.tariff!.from).toBeUndefined();
    expect(p2!.tariff).toMatchObject({
      from: { tMs: T0 + 119_000, powerMW: 1000 },
      bandsMWs: { '1': '120000' },
      carryIn: { producer: '0/1', operator: '4/5', grid: '7/10' },
      units: { producer: '240', operator: '24', grid: '36' },
      carryOut: { producer: '0/1', operator: '4/5', grid: '7/10' },
    });
    expect(p1!.amount).toBe('178');

    expect(wallet.calls.map((c) => [c.to, c.amount, c.shares])).toEqual([
      [
        PRODUCER,
        '178',
        [
          { role: 'operator', to: OPERATOR, amount: '17' },
          { role: 'grid', to: GRID, amount: '23' },
        ],
      ],
      [
        PRODUCER,
        '240',
        [
          { role: 'operator', to: OPERATOR, amount: '24' },
          { role: 'grid', to: GRID, amount: '36' },
        ],
      ],
    ]);
    expect(wallet.calls[1]!.metadata).toMatchObject({
      tariff: { id: 'split-test', version: '1' },
      bands: { '1': '120000' },
      carry: { producer: '0/1', operator: '4/5', grid: '7/10' },
      pricedFrom: { t: T0 + 119_000, mW: 1000 },
      gapMs: 3000,
    });
    expect(wallet.calls[1]!.metadata?.priceUnitsPerWh).toBeUndefined();
    expect(paymentRequestFor(p2!)).toEqual(wallet.calls[1]);
  });

  it('shows each payee’s units so far in the snapshot, equal to what the close pays, across a restart', async () => {
    const clock = new ManualClock(T0);
    const wallet = new FakeWallet();
    const dir = await freshDataDir('tariff-so-far-');
    const soFar = (agent: { snapshot(): AgentSnapshot }) => {
      const { amountSoFar, tariffSoFar } = agent.snapshot().period;
      return { amountSoFar, ...tariffSoFar };
    };
    const first = await agents.start(clock, { config: config(dir), wallet });
    await run(clock, first, 30_000);
    // 16:00:00–16:00:30 standard, 30 s = 1/120 Wh: energy 3600/120 = 30, operator 3, grid 360/120 = 3.
    expect(soFar(first)).toEqual({ amountSoFar: '30', producer: '30', operator: '3', grid: '3' });
    await run(clock, first, 89_000); // the last reading of period 1, at 16:01:59
    const beforeClose = soFar(first);
    expect(beforeClose).toEqual({ amountSoFar: '178', producer: '178', operator: '17', grid: '23' });
    await run(clock, first, 1_000); // 16:02:00 closes period 1
    const [p1] = (await readState(dir)).periods;
    expect({ amountSoFar: p1!.amount, ...p1!.tariff!.units }).toEqual(beforeClose);
    // Period 2 so far: 16:01:59–16:02:00 high, 1 s: energy 2, operator 0.2, grid 0.3; with the carries
    // 0.8 and 0.7 the operator and grid are owed 1 each.
    expect(soFar(first)).toEqual({ amountSoFar: '2', producer: '2', operator: '1', grid: '1' });
    await run(clock, first, 4_000);
    await agents.drainAndStop(first);

    // After a restart at 16:02:04 the open period's readings come back from the journal: 16:01:59–16:02:04,
    // 5 s high: energy 10, operator 1 + 0.8 = 1.8 → 1, grid 1.5 + 0.7 = 2.2 → 2.
    const second = await agents.start(clock, { config: config(dir), wallet });
    expect(soFar(second)).toEqual({ amountSoFar: '10', producer: '10', operator: '1', grid: '2' });
    await run(clock, second, 115_000); // the last reading of period 2, at 16:03:59
    const beforeClose2 = soFar(second);
    await run(clock, second, 1_000);
    await agents.drainAndStop(second);
    const [, p2] = (await readState(dir)).periods;
    expect(beforeClose2).toEqual({ amountSoFar: '240', producer: '240', operator: '24', grid: '36' });
    expect({ amountSoFar: p2!.amount, ...p2!.tariff!.units }).toEqual(beforeClose2);
  });

  it('shows the band in force now, until when, and the open period’s energy per band', async () => {
    const clock = new ManualClock(T0);
    const dir = await freshDataDir('tariff-now-');
    const agent = await agents.start(clock, { config: config(dir), wallet: new FakeWallet() });
    await run(clock, agent, 30_000);
    // 16:00:30: standard (digit 2) until 16:01, the band boundary; 30 s of 1 W so far.
    expect(agent.snapshot().period.tariffNow).toEqual({
      id: 'split-test',
      version: 1,
      band: 2,
      bandName: 'standard',
      untilMs: T0 + 60_000,
      bandsMWs: { '2': '30000' },
    });
    await run(clock, agent, 89_000);
    // 16:01:59: high (digit 1) until the period's end at 16:02.
    expect(agent.snapshot().period.tariffNow).toEqual({
      id: 'split-test',
      version: 1,
      band: 1,
      bandName: 'high',
      untilMs: T0 + 120_000,
      bandsMWs: { '1': '59000', '2': '60000' },
    });
    await agents.drainAndStop(agent);
  });

  it('warns once and holds the operator and grid carries when the tariff is removed, until it returns', async () => {
    const clock = new ManualClock(T0);
    const wallet = new FakeWallet();
    const dir = await freshDataDir('tariff-removed-');
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
    const first = await agents.start(clock, { config: config(dir), wallet });
    await run(clock, first, 125_000); // period 1 (16:00–16:02) carries operator 4/5, grid 7/10
    await agents.drainAndStop(first);
    const second = await agents.start(clock, { config: config(dir, { tariff: undefined }), wallet, log });
    await run(clock, second, 240_000); // periods 2 and 3 (16:02–16:06) at the single price
    await agents.drainAndStop(second);
    const third = await agents.start(clock, { config: config(dir), wallet });
    await run(clock, third, 120_000); // period 4 (16:06–16:08) under the tariff again
    await agents.drainAndStop(third);

    expect(warnings.filter((w) => w.includes('carr'))).toEqual([
      'tariff removed from the config with fee carries left: operator 4/5, grid 7/10 base units; held in the period records (feeCarry) until a tariff is configured again',
    ]);
    const [, p2, p3, p4] = (await readState(dir)).periods;
    // 1 W for 120 s = 1/30 Wh at the single 3600 units/Wh: 120, nothing carried.
    for (const p of [p2!, p3!]) {
      expect(p.tariff).toBeUndefined();
      expect([p.amount, p.carry.money]).toEqual(['120', '0/1']);
      expect(p.feeCarry).toEqual({ operator: '4/5', grid: '7/10' });
    }
    // Period 4: 16:05:59 to 16:07:59, 120 s high: energy 240, operator 24, grid 36; with the held carries
    // 24.8 → 24 and 36.7 → 36, carrying 4/5 and 7/10 on.
    expect(p4!.tariff).toMatchObject({
      carryIn: { producer: '0/1', operator: '4/5', grid: '7/10' },
      units: { producer: '240', operator: '24', grid: '36' },
      carryOut: { producer: '0/1', operator: '4/5', grid: '7/10' },
    });
    expect(p4!.feeCarry).toBeUndefined();
    expect(wallet.calls.map((c) => [c.amount, c.shares?.length ?? 0])).toEqual([
      ['178', 2],
      ['120', 0],
      ['120', 0],
      ['240', 2],
    ]);
  });

  it('refuses a bad tariff or a missing fee address in one line naming the field', () => {
    const dir = '/tmp/unused';
    const bad = { ...splitTariff(), bands: [{ digit: 0, name: 'high', priceUnitsPerWh: '1' }] };
    expect(() => parseConfig(config(dir, { tariff: { schedule: bad, grid: GRID } }))).toThrow(
      'config: tariff.schedule: history[0].bands[0].digit: must be 1–9',
    );
    expect(() => parseConfig(config(dir, { tariff: { schedule: splitTariff(), grid: GRID } }))).toThrow(
      'config: tariff.operator: required: the tariff has operator fees, paid to this bech32 address',
    );
    expect(() => parseConfig(config(dir, { tariff: { schedule: 'no-such-tariff.json' } }))).toThrow(
      /^config: tariff\.schedule: \/.*no-such-tariff\.json cannot be read: give a tariff JSON file$/,
    );
  });
});
