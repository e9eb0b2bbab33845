import { screen, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { AgentSnapshot, PeriodRecord } from '../api/meter';
import { fakeFetch } from '../test/fakes';
import { renderWithServices, withFakeFeeds } from '../test/harness';
import { MetersPage } from './MetersPage';

const ADDRESS = 'watt1qzdmw527yuhn4x49qn28he6978wpwwfcadrj2l5esm99y7hu4s29s9rkfnf';
const T0 = 1_800_000_000_000;
const quality: PeriodRecord['quality'] = {
  samples: 60,
  readErrors: 1,
  overflows: 0,
  gapCount: 2,
  gapMs: 3000,
  gaps: [
    { fromMs: T0 + 10_000, toMs: T0 + 12_000 },
    { fromMs: T0 + 30_000, toMs: T0 + 31_000 },
  ],
  coveredMs: 57_000,
  clockSteps: 0,
  missedTicks: 1,
  minPowerUW: 1_000_000,
  meanPowerUW: 2_000_000,
  maxPowerUW: 3_000_000,
};

const snapshot: AgentSnapshot = {
  meterId: 'consumer-1',
  role: 'consumer',
  consumer: ADDRESS,
  producer: ADDRESS,
  running: false,
  pid: 4242,
  sensors: [
    { name: 'ina219', description: 'INA219 0x40 on /dev/i2c-1' },
    { name: 'spare', description: 'INA219 0x41 on /dev/i2c-1' },
  ],
  meteredSensor: 'ina219',
  ticks: { count: 60, missed: 1, lastLateMs: 3, maxLateMs: 12 },
  startedAtMs: T0,
  nowMs: T0,
  lastSample: {
    tMs: T0,
    readings: [
      { sensor: 'ina219', busVoltageMV: 12_000, currentUA: 500, powerUW: 6_000_000 },
      { sensor: 'spare', error: 'EIO' },
    ],
  },
  powerUW: 6_000_000,
  period: {
    id: 'p-3',
    seq: 3,
    startMs: T0,
    endMs: T0 + 60_000,
    energyMWs: '3600000',
    amountSoFar: '10',
    quality,
  },
  lastPeriod: null,
  outbox: {
    queued: [{ key: 'k', amount: '1', attempts: 2, lastError: 'wallet-service unreachable' }],
    nextAttemptAtMs: T0 + 5_000,
    consecutiveFailures: 2,
  },
  errors: [],
  relay: { description: 'GPIO 17', on: true },
  purchase: { id: 'buy-1', energyMWs: '7200000', deliveredMWs: '3600000', startMs: T0 },
};

/** What a closed period journals beside what the page shows. */
const journaled = {
  consumer: ADDRESS,
  producer: ADDRESS,
  pricing: 'carry',
  carry: { money: '0/1', energyHalfNJ: '0' },
  readingsHash: '00'.repeat(32),
  resume: { bridge: null, uncoveredSinceMs: null, lastTMs: null },
} as const;

const periods: PeriodRecord[] = [
  {
    id: 'consumer-1/2',
    seq: 2,
    meterId: 'consumer-1',
    role: 'consumer',
    startMs: T0 - 60_000,
    endMs: T0,
    closedAtMs: T0,
    energyMWs: '7200000',
    deliveredHalfNJ: '14400000000000',
    returnedHalfNJ: '0',
    price: { unitsPerWh: '250' },
    amountExact: '500/1',
    amount: '500',
    ...journaled,
    quality,
    payment: { state: 'due', key: 'k', to: ADDRESS, amount: '500' },
    outcome: { key: 'k', atMs: T0, result: 'rejected', reason: 'not enough funds' },
  },
  {
    id: 'consumer-1/1',
    seq: 1,
    meterId: 'consumer-1',
    role: 'consumer',
    startMs: T0 - 120_000,
    endMs: T0 - 60_000,
    closedAtMs: T0 - 60_000,
    energyMWs: '0',
    deliveredHalfNJ: '0',
    returnedHalfNJ: '0',
    price: { unitsPerWh: '250' },
    amountExact: '0/1',
    amount: '0',
    ...journaled,
    quality: { ...quality, minPowerUW: null },
    payment: { state: 'nothing-due' },
  },
];

withFakeFeeds();

describe('MetersPage', () => {
  it('shows the meter’s current period and its closed periods with their payments', async () => {
    vi.stubGlobal(
      'fetch',
      fakeFetch((url) => {
        if (url.pathname === '/status') return { body: snapshot };
        if (url.pathname === '/periods') return { body: { items: periods } };
        return undefined;
      }),
    );
    renderWithServices(
      { wallets: [], meters: [{ name: 'Kitchen', url: 'http://meter.test' }] },
      <MetersPage />,
    );

    const table = await screen.findByRole('table', { name: 'Closed periods of Kitchen, newest first' });
    expect(screen.getByRole('region', { name: 'Periods of Kitchen, scrollable' })).toBeTruthy();
    const [due, nothing] = within(table).getAllByRole('row').slice(1);
    expect(within(due!).getByRole('rowheader').getAttribute('title')).toBe('consumer-1/2');
    expect(due!.textContent).toContain('2.000 Wh');
    expect(due!.textContent).toContain('60 samples');
    expect(due!.textContent).toContain('2 gaps (3.0 s), 0 overflows, 1 read errors, 1 missed ticks');
    expect(due!.textContent).toContain('1.000 W / 2.000 W / 3.000 W');
    expect(within(due!).getByText('rejected')).toBeTruthy();
    expect(due!.textContent).toContain('not enough funds');
    expect(within(due!).getByRole('link', { name: 'see payments' }).getAttribute('href')).toBe('#/payments');
    expect(nothing!.textContent).toContain('— / 2.000 W / 3.000 W');
    expect(within(nothing!).queryByRole('link', { name: 'see payments' })).toBeNull();

    expect(screen.getByRole('alert').textContent).toBe('The agent reports that it is not running.');
    expect(screen.getByTestId('power-now').textContent).toBe('6.000 W');
    expect(screen.getByTestId('period-energy').textContent).toBe('1.000 Wh');
    expect(screen.getByLabelText('Latest sensor readings').textContent).toContain('read error: EIO');
    const current = screen.getByRole('heading', { name: 'This period' }).parentElement!;
    expect(current.textContent).toContain('on GPIO 17');
    expect(current.textContent).toContain('1.000 Wh of 2.000 Wh delivered');
    expect(current.textContent).toContain('1 period(s)');
    expect(within(current).getByText('wallet-service unreachable')).toBeTruthy();
    expect(within(current).getAllByTitle(ADDRESS)).toHaveLength(2);
  });

  it('shows this period’s cost so far per payee, the band in force and the registers per band', async () => {
    const tariffed: AgentSnapshot = {
      ...snapshot,
      period: {
        ...snapshot.period,
        // Above 2^53: the page adds and shows them exactly.
        amountSoFar: '9007199254740993',
        tariffSoFar: { producer: '9007199254740993', operator: '17', grid: '23' },
        tariffNow: {
          id: 'community',
          version: 2,
          band: 1,
          bandName: 'high',
          untilMs: T0 + 60_000,
          bandsMWs: { '2': '3600000', '1': '59000' },
        },
      },
      registers: {
        atMs: T0,
        events: [{ kind: 'METER_REPLACED', atMs: T0 - 1000, fromMeterId: 'old-1', toMeterId: 'consumer-1' }],
        // 1 Wh = 7.2e12 half-nJ.
        values: [
          { obis: '1-0:1.8.0', halfNJ: '21600000000000', wh: 3 },
          { obis: '1-0:2.8.0', halfNJ: '7200000000000', wh: 1 },
          { obis: '1-0:1.8.1', halfNJ: '14400000000000', wh: 2 },
          { obis: '1-0:2.8.1', halfNJ: '7200000000000', wh: 1 },
          { obis: '1-0:1.8.2', halfNJ: '7200000000000', wh: 1 },
        ],
      },
    };
    vi.stubGlobal(
      'fetch',
      fakeFetch((url) => {
        if (url.pathname === '/status') return { body: tariffed };
        if (url.pathname === '/periods') return { body: { items: [] } };
        return undefined;
      }),
    );
    renderWithServices(
      { wallets: [], meters: [{ name: 'Kitchen', url: 'http://meter.test' }] },
      <MetersPage />,
    );

    const costs = await screen.findByRole('table', { name: 'This period’s cost so far by payee, Kitchen' });
    const rows = within(costs)
      .getAllByRole('row')
      .slice(1)
      .map((r) => r.textContent);
    expect(rows).toEqual([
      'Producer (energy)9,007,199,254.740993 WATT (9,007,199,254,740,993 units)',
      'Operator fee0.000017 WATT (17 units)',
      'Grid fee0.000023 WATT (23 units)',
      'Total9,007,199,254.741033 WATT (9,007,199,254,741,033 units)',
    ]);
    const tariff = screen.getByRole('region', { name: 'Tariff so far of Kitchen' });
    expect(within(tariff).getByTestId('tariff-band').textContent).toMatch(/^high \(1\.8\.1\) until /);
    expect(tariff.textContent).toContain('community v2');
    expect(tariff.textContent).toContain('band 1: 0.016 Wh, band 2: 1.000 Wh');

    const registers = screen.getByRole('table', { name: 'OBIS registers of Kitchen, per tariff band' });
    const byBand = within(registers)
      .getAllByRole('row')
      .slice(1)
      .map((r) => [...r.children].map((c) => c.textContent));
    expect(byBand).toEqual([
      ['Band 1', '2.000 Wh', '1.000 Wh'],
      ['Band 2', '1.000 Wh', '—'],
      ['Total (0)', '3.000 Wh', '1.000 Wh'],
    ]);
    expect(within(registers).getByTitle('1-0:1.8.1: 14400000000000 half-nJ')).toBeTruthy();
    expect(screen.getByRole('list', { name: 'Register events of Kitchen' }).textContent).toContain(
      'meter replaced, old-1 → consumer-1',
    );
  });

  it('shows no tariff part for a meter priced at one price', async () => {
    vi.stubGlobal(
      'fetch',
      fakeFetch((url) => {
        if (url.pathname === '/status') return { body: snapshot };
        if (url.pathname === '/periods') return { body: { items: [] } };
        return undefined;
      }),
    );
    renderWithServices(
      { wallets: [], meters: [{ name: 'Kitchen', url: 'http://meter.test' }] },
      <MetersPage />,
    );
    await screen.findByRole('heading', { name: 'This period' });
    expect(screen.queryByRole('region', { name: 'Tariff so far of Kitchen' })).toBeNull();
    expect(screen.queryByRole('table', { name: /OBIS registers/ })).toBeNull();
  });
});
