import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DashboardConfig } from '../api/config';
import type { BillJson } from '../api/wallet';
import type { BillSeries } from '../components/BillChart';
import { fakeFetch } from '../test/fakes';
import { nodeInfo, renderWithServices, withFakeFeeds } from '../test/harness';
import { BillsPage, costChart, currentMonth, energyChart } from './BillsPage';

const config: DashboardConfig = {
  wallets: [{ name: 'Household 7', url: 'http://wallet.test', token: 'read-token' }],
  meters: [],
};
const producer = 'watt1qzdmw527yuhn4x49qn28he6978wpwwfcadrj2l5esm99y7hu4s29s9rkfnf';
const tx = (n: number) => `0x${String(n).padStart(64, '0')}`;
const WH = 3_600_000;

// As the wallet-service's GET /bills answers it (bills/src/json.ts): 3 Wh bought in band 1, 1 Wh in band 2.
const bill: BillJson = {
  household: 'watt1household',
  cycle: { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', timeZone: 'UTC' },
  bands: [
    {
      digit: 1,
      boughtMWs: String(3 * WH),
      boughtWh: '3',
      soldMWs: '0',
      soldWh: '0',
      retailUnitsPerWh: '500',
      feedInUnitsPerWh: '0',
      retailBaselineUnits: '1500',
      feedInBaselineUnits: '0',
    },
    {
      digit: 2,
      boughtMWs: String(WH),
      boughtWh: '1',
      soldMWs: '0',
      soldWh: '0',
      retailUnitsPerWh: '300',
      feedInUnitsPerWh: '0',
      retailBaselineUnits: '300',
      feedInBaselineUnits: '0',
    },
  ],
  totals: {
    boughtMWs: String(4 * WH),
    boughtWh: '4',
    soldMWs: '0',
    soldWh: '0',
    paidUnits: '1500',
    energyPaidUnits: '1400',
    operatorFeeUnits: '60',
    gridFeeUnits: '40',
    earnedUnits: '0',
    netUnits: '-1500',
    retailBaselineUnits: '1800',
    feedInBaselineUnits: '0',
    savingsUnits: '300',
  },
  readings: {
    consumptionMWs: String(5 * WH),
    consumptionWh: '5',
    productionMWs: '0',
    productionWh: '0',
    periods: [],
  },
  selfSufficiency: '4/5',
  selfConsumption: null,
  co2AvoidedGrams: '1.52',
  lines: [1, 2].map((n) => ({
    direction: 'bought' as const,
    key: `house-7/p${n}`,
    periodId: `house-7/p${n}`,
    periodStart: `2026-11-0${n}T10:00:00.000Z`,
    transactionId: tx(n),
    blockId: tx(n + 10),
    milestoneIndex: 100 + n,
    milestoneTimestamp: 1_800_000_000 + n,
    counterparty: producer,
    energyMWs: String(2 * WH),
    bands: (n === 1 ? { '1': String(2 * WH) } : { '1': String(WH), '2': String(WH) }) as Record<
      string,
      string
    >,
    amountUnits: '700',
    operatorUnits: '30',
    gridUnits: '20',
  })),
  warnings: [],
};

function renderPage(
  answer: (url: URL) => { status?: number; body?: unknown; text?: string; contentType?: string },
) {
  const fetch = fakeFetch((url) => {
    if (url.pathname === '/node/info')
      return { body: nodeInfo({ confirmed: 100, timestampS: 1_800_000_000 }) };
    if (url.pathname === '/bills') return answer(url);
    return { status: 404, body: { error: { code: 'NOT_FOUND', message: 'no such route' } } };
  });
  vi.stubGlobal('fetch', fetch);
  renderWithServices(config, <BillsPage />);
  return fetch;
}

// happy-dom has no canvas for uPlot to draw on: the chart is replaced by one that records what it was given.
const charted: { times: number[]; series: BillSeries[]; label: string }[] = [];
vi.mock('../components/BillChart', () => ({
  default: (props: { times: number[]; series: BillSeries[]; label: string }) => {
    charted.push(props);
    return <div role="img" aria-label={props.label} />;
  },
}));

withFakeFeeds();
afterEach(() => vi.restoreAllMocks());

describe('BillsPage', () => {
  it('answers "did joining save me money?" and shows the totals, bands and paid periods', async () => {
    const fetch = renderPage(() => ({ body: bill }));
    expect((await screen.findByTestId('bill-verdict')).textContent).toBe(
      'Joining saved 300 units against the retail supplier and feed-in.',
    );
    const cycle = currentMonth();
    expect(fetch.calls).toContain(`/bills?from=${cycle.from}&to=${cycle.to}`);
    const totals = screen.getByText('Self-sufficiency').closest('dl')!;
    expect(within(totals).getByText('80.0 %')).toBeTruthy();
    expect(within(totals).getByText('1800 units')).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Paid periods (2)' })).toBeTruthy();
    expect(screen.getByText('house-7/p2')).toBeTruthy();
    expect(
      await screen.findByRole('img', { name: 'What Household 7 paid against the retail baseline' }),
    ).toBeTruthy();
  });

  it('charts the running totals of paid and retail baseline, and the energy per period', () => {
    // Line 1: 750 paid, 2 Wh × 500; line 2: 750 more, 1 Wh × 500 + 1 Wh × 300.
    expect(costChart(bill).series.map((s) => s.values)).toEqual([
      [750, 1500],
      [1000, 1800],
    ]);
    expect(energyChart(bill).series.map((s) => s.values)).toEqual([
      [2, 2],
      [null, null],
    ]);
  });

  it('asks again for a new cycle', async () => {
    const fetch = renderPage(() => ({ body: bill }));
    await screen.findByTestId('bill-verdict');
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-10-01' } });
    await waitFor(() =>
      expect(fetch.calls.some((c) => c.startsWith('/bills?from=2026-10-01&to='))).toBe(true),
    );
  });

  it('downloads the CSV and the PDF with the token in the header, not the URL', async () => {
    const fetch = renderPage((url) => {
      const format = url.searchParams.get('format');
      if (format === 'csv') return { text: 'row,name\r\ntotal,paid\r\n', contentType: 'text/csv' };
      if (format === 'pdf') return { text: '%PDF-1.7 fake', contentType: 'application/pdf' };
      return { body: bill };
    });
    const blobs: Blob[] = [];
    vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => {
      blobs.push(b as Blob);
      return `blob:http://dashboard.test/${blobs.length}`;
    });
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
    const clicked: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.download);
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Download CSV' }));
    await waitFor(() => expect(clicked).toHaveLength(1));
    fireEvent.click(screen.getByRole('button', { name: 'Download PDF' }));
    await waitFor(() => expect(clicked).toHaveLength(2));
    const cycle = currentMonth();
    expect(clicked).toEqual([`household-7-bill-${cycle.from}.csv`, `household-7-bill-${cycle.from}.pdf`]);
    expect(await blobs[0]!.text()).toBe('row,name\r\ntotal,paid\r\n');
    expect(await blobs[1]!.text()).toBe('%PDF-1.7 fake');
    const pdfCall = fetch.calls.findIndex((c) => c.endsWith('format=pdf'));
    expect(fetch.headers[pdfCall]!.authorization).toBe('Bearer read-token');
    expect(fetch.calls[pdfCall]).not.toContain('token');
  });

  it('says what is missing when the wallet-service has no indexer', async () => {
    renderPage(() => ({
      status: 409,
      body: {
        error: {
          code: 'NOT_CONFIGURED',
          message:
            'indexer: bills are built from the community indexer; set indexer.url in the wallet config',
        },
      },
    }));
    expect((await screen.findByRole('alert')).textContent).toContain('set indexer.url in the wallet config');
  });
});
