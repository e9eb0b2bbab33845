import type { PeriodRecord } from '@tanglewatt/contract';
import { exampleTariff } from '@tanglewatt/tariff/testing';
import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { parseConfig } from './config.js';
import { cycleAt, cyclePayment, withCycle } from './money/cycle.js';
import { FakeWallet } from './payments/fake-wallet.js';
import { paymentRequestFor } from './period-record.js';
import { readState } from './store/state.js';
import { agentConfig, constantLoad, freshDataDir, PRODUCER } from './testing/fixtures.js';
import { run, TestAgents } from './testing/in-process.js';
import { config, GRID, OPERATOR, splitTariff } from './testing/tariff-fixtures.js';

const WH = 7_200_000_000_000n;
const agents = new TestAgents();

describe('net cycles', () => {
  const netConfig = parseConfig(
    agentConfig('/tmp/unused', {
      tariff: { schedule: exampleTariff(), operator: OPERATOR, grid: GRID, mode: 'net', cycle: 'monthly' },
    }),
  );
  const tariff = netConfig.tariff!;
  const jan = cycleAt(tariff, Date.UTC(2026, 0, 14, 12));
  /** A closed period's record with import and export per band (version 1), in Wh. */
  const period = (seq: number, startMs: number, endMs: number, bands: [number, bigint, bigint][]) =>
    ({
      id: `house-12/${seq}`,
      seq,
      meterId: 'house-12',
      startMs,
      endMs,
      amount: '9',
      payment: { state: 'due', key: `house-12/${seq}`, to: PRODUCER, amount: '9' },
      tariff: {
        gapMs: 10_000,
        energy: bands.map(([band, i, e]) => ({
          version: 1,
          band,
          importHalfNJ: (i * WH).toString(),
          exportHalfNJ: (e * WH).toString(),
        })),
      },
    }) as unknown as PeriodRecord;

  it('settles the README’s net example once at the cycle end and pays it under one key', () => {
    // The cycle is January 2026 in Berlin. low: 1 Wh in, 5 out → surplus 4 Wh; standard 10 in, 4 out → net
    // 6 Wh: producer 1.8, operator 0.18, grid 0.3; high 2 in → producer 1, operator 0.1, grid 0.2.
    // Producer 2.8 → 2 units (carry 0.8), operator 0.28 → 0, grid 0.5 → 0.
    expect(jan).toEqual({
      id: '2026-01',
      startMs: Date.UTC(2025, 11, 31, 23),
      endMs: Date.UTC(2026, 0, 31, 23),
    });
    const p1 = cyclePayment(
      withCycle(period(1, jan.startMs, jan.startMs + 3_600_000, [[3, 1n, 5n]]), undefined, tariff),
      netConfig,
    );
    const p2 = cyclePayment(
      withCycle(period(2, jan.startMs + 3_600_000, jan.endMs - 3_600_000, [[2, 10n, 4n]]), p1, tariff),
      netConfig,
    );
    const p3 = cyclePayment(
      withCycle(period(3, jan.endMs - 3_600_000, jan.endMs, [[1, 2n, 0n]]), p2, tariff),
      netConfig,
    );
    for (const p of [p1, p2]) {
      expect(p.payment).toEqual({ state: 'nothing-due' });
      expect(p.cycle!.settled).toBeUndefined();
    }
    const net = p3.cycle!.settled!.net!;
    expect(
      net.lines.map((l) => [l.bandName, BigInt(l.netHalfNJ.split('/')[0]!) / WH, l.surplusHalfNJ]),
    ).toEqual([
      ['high', 2n, '0/1'],
      ['standard', 6n, '0/1'],
      ['low', -4n, `${4n * WH}/1`],
    ]);
    expect(net.exact).toEqual({ producer: '14/5', operator: '7/25', grid: '1/2' });
    expect(net.units).toEqual({ producer: '2', operator: '0', grid: '0' });
    expect(net.carryOut).toEqual({ producer: '4/5', operator: '7/25', grid: '1/2' });
    expect(p3.payment).toEqual({ state: 'due', key: 'house-12/net/2026-01', to: PRODUCER, amount: '2' });
    expect(paymentRequestFor(p3).metadata?.note).toBe(
      'net cycle 2026-01 (2025-12-31T23:00:00.000Z to 2026-01-31T23:00:00.000Z), net mW·s by band 1:+7200000 2:+21600000 3:-14400000',
    );
    // What a verifier recomputes from the readings: 1 Wh = 3 600 000 mW·s per band, import and export.
    expect(paymentRequestFor(p3).metadata?.cycle).toEqual({
      id: '2026-01',
      start: '2025-12-31T23:00:00.000Z',
      end: '2026-01-31T23:00:00.000Z',
      bands: {
        '1': { importMWs: '7200000', exportMWs: '0' },
        '2': { importMWs: '36000000', exportMWs: '14400000' },
        '3': { importMWs: '3600000', exportMWs: '18000000' },
      },
      carry: { producer: '0/1', operator: '0/1', grid: '0/1' },
      gapMs: 10_000,
    });
  });

  it('settles a cycle that ended while no period closed on the next period, carrying into the new cycle', () => {
    const p1 = withCycle(period(1, jan.startMs, jan.startMs + 3_600_000, [[2, 10n, 4n]]), undefined, tariff);
    // The next period is in February, but the tariff's only version ends with January: a cycle of days instead.
    const feb = jan.endMs + 3_600_000;
    const p2 = withCycle(period(2, feb - 3_600_000, feb, []), p1, { ...tariff, cycle: { days: 31 } });
    expect(p2.cycle!.settled!.id).toBe('2026-01');
    expect(p2.cycle!.settled!.net!.units.producer).toBe('1');
    expect(p2.cycle!.carryIn.producer).toBe('4/5');
    expect(p2.cycle!.id).not.toBe('2026-01');
  });
});

/** 23:56 UTC on Saturday 31 January 2026: two 120 s periods before the February cycle starts. */
const T_END = Date.UTC(2026, 0, 31, 23, 56);

describe('an agent under net', () => {
  it('pays a cycle once at its end, and not again after restarts at the cycle boundary', async () => {
    const clock = new ManualClock(T_END);
    const wallet = new FakeWallet();
    const dir = await freshDataDir('net-agent-');
    const net = (d: string) =>
      config(d, {
        tariff: { schedule: splitTariff(), operator: OPERATOR, grid: GRID, mode: 'net', cycle: 'monthly' },
      });
    const first = await agents.start(clock, { config: net(dir), wallet });
    await run(clock, first, 125_000); // period 23:56–23:58 closed: paid nothing of its own
    await agents.drainAndStop(first);
    expect(wallet.calls).toEqual([]);
    const second = await agents.start(clock, { config: net(dir), wallet });
    await run(clock, second, 115_000); // 00:00:00 closes 23:58–00:00, the last period of January
    await agents.drainAndStop(second);
    const third = await agents.start(clock, { config: net(dir), wallet });
    await run(clock, third, 120_000); // the first February period
    await agents.drainAndStop(third);

    // January at 1 W, all high (7200 units/Wh): 23:56:00–23:57:59 119 000 mW·s, then 23:57:59–23:59:59
    // 120 000 mW·s: 239/3600 Wh → producer 478, operator 47.8 → 47, grid 1080 × 239/3600 = 71.7 → 71.
    expect(wallet.calls.map((c) => [c.idempotencyKey, c.amount, c.shares])).toEqual([
      [
        'house-12/net/2026-01',
        '478',
        [
          { role: 'operator', to: OPERATOR, amount: '47' },
          { role: 'grid', to: GRID, amount: '71' },
        ],
      ],
    ]);
    const periods = (await readState(dir)).periods;
    expect(periods.map((p) => [p.cycle!.id, p.payment.state])).toEqual([
      ['2026-01', 'nothing-due'],
      ['2026-01', 'due'],
      ['2026-02', 'nothing-due'],
    ]);
    expect(periods[2]!.cycle!.carryIn).toEqual({ producer: '0/1', operator: '4/5', grid: '7/10' });
  });
});

describe('an agent under feed-in', () => {
  it('pays import per period and records what the cycle’s export is owed, in the record and snapshot', async () => {
    const clock = new ManualClock(T_END);
    const dir = await freshDataDir('feed-in-agent-');
    const withFeedIn = splitTariff();
    withFeedIn.bands = withFeedIn.bands.map((b) => ({ ...b, feedInUnitsPerWh: '3600' }));
    const agent = await agents.start(clock, {
      config: config(dir, {
        sensors: [constantLoad(5000, -200)],
        tariff: { schedule: withFeedIn, operator: OPERATOR, grid: GRID, mode: 'feed-in' },
      }),
      wallet: new FakeWallet(),
    });
    await run(clock, agent, 241_000); // 00:00:00 closes January
    // 1 W exported, all high: 119 000 + 120 000 mW·s = 239/3600 Wh at 3600 units/Wh: 239 units owed.
    expect(agent.snapshot().registers!.lastCycle).toEqual({
      id: '2026-01',
      startMs: Date.UTC(2026, 0, 1),
      endMs: Date.UTC(2026, 1, 1),
      feedIn: {
        lines: [{ version: 1, band: 1, exportHalfNJ: (239_000n * 2_000_000n).toString(), owed: '239/1' }],
        owed: '239/1',
      },
    });
    expect((await readState(dir)).periods.map((p) => p.payment.state)).toEqual([
      'nothing-due',
      'nothing-due',
    ]);
  });
});

describe('tariff mode and cycle in the config', () => {
  const base = { schedule: splitTariff(), operator: OPERATOR, grid: GRID };
  it('refuses a bad mode, a bad cycle, a cycle under metered and feed-in without feed-in prices, in one line', () => {
    const dir = '/tmp/unused';
    expect(() => parseConfig(config(dir, { tariff: { ...base, mode: 'gross' as 'net' } }))).toThrow(
      /^config: tariff\.mode: one of "metered", "net", "feed-in"/,
    );
    expect(() => parseConfig(config(dir, { tariff: { ...base, mode: 'net', cycle: { days: 0 } } }))).toThrow(
      /^config: tariff\.cycle(\.days)?: /,
    );
    expect(() => parseConfig(config(dir, { tariff: { ...base, cycle: 'monthly' } }))).toThrow(
      'config: tariff.cycle: only with mode "net" or "feed-in" (metered pays each period)',
    );
    expect(() => parseConfig(config(dir, { tariff: { ...base, mode: 'feed-in' } }))).toThrow(
      'config: tariff.mode: "feed-in" needs feedInUnitsPerWh on every band: band high of version 1 has none',
    );
    expect(parseConfig(config(dir, { tariff: base })).tariff!.mode).toBe('metered');
  });
});
