import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DashboardConfig } from '../api/config';
import type { Payment, ReceivedPayment } from '../api/wallet';
import { FakeEventSource, fakeFetch, type Route } from '../test/fakes';
import { nodeInfo, renderWithServices, withFakeFeeds } from '../test/harness';
import { PaymentsPage } from './PaymentsPage';

const config: DashboardConfig = {
  wallets: [{ name: 'Producer', url: 'http://wallet.test', token: 'read-token' }],
  meters: [],
};
const consumer = 'watt1qzdmw527yuhn4x49qn28he6978wpwwfcadrj2l5esm99y7hu4s29s9rkfnf';
const tx = (n: number) => `0x${String(n).padStart(64, '0')}`;

const info = nodeInfo({ confirmed: 100, timestampS: 1_800_000_000 });
const balance = {
  address: consumer,
  totalUnits: '1000000',
  availableUnits: '1000000',
  claimableUnits: '0',
  outputs: 1,
  ledgerIndex: 100,
};

function received(n: number, extra: Partial<ReceivedPayment> = {}): ReceivedPayment {
  return {
    outputId: `${tx(n)}0000`,
    transactionId: tx(n),
    blockId: `0x${'b'.repeat(63)}${n}`,
    milestoneIndex: 90 + n,
    milestoneTimestamp: 1_800_000_000 + n,
    amountUnits: '24000',
    from: consumer,
    key: `consumer/period-${n}`,
    metadata: { periodId: `meter-1/${n}`, energyMWs: '7200000' },
    micro: false,
    ...extra,
  };
}

const sent: Payment = {
  idempotencyKey: 'trade-1',
  to: consumer,
  amount: '5000',
  state: 'included',
  micro: false,
  attempts: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:01.000Z',
};

function renderPage(answers: { sent?: Payment[]; received?: ReceivedPayment[]; csv?: Route }) {
  const fetch = fakeFetch((url) => {
    if (url.pathname === '/node/info') return { body: info };
    if (url.pathname === '/balance') return { body: balance };
    if (url.pathname === '/payments') {
      const items = answers.sent ?? [];
      return { body: { total: items.length, items } };
    }
    if (url.pathname === '/received-payments') {
      const items = answers.received ?? [];
      return { body: { total: items.length, items, next: null, since: 12 } };
    }
    if (url.pathname === '/payments.csv' && answers.csv) return answers.csv(url);
    return {
      status: 404,
      body: { error: { code: 'NOT_FOUND', message: 'no such route: see /openapi.json' } },
    };
  });
  vi.stubGlobal('fetch', fetch);
  renderWithServices(config, <PaymentsPage />);
  return fetch;
}

const tab = (name: RegExp) => screen.getByRole('tab', { name });

withFakeFeeds();
afterEach(() => vi.restoreAllMocks());

describe('PaymentsPage', () => {
  it('says which list is empty: nothing sent, nothing received', async () => {
    renderPage({});
    expect(await screen.findByText('No payments sent yet.')).toBeTruthy();
    fireEvent.click(tab(/^Received/));
    expect(tab(/^Received/).getAttribute('aria-selected')).toBe('true');
    expect(
      await screen.findByText(
        'No payments received yet (this wallet has followed the ledger since milestone 12).',
      ),
    ).toBeTruthy();
  });

  it('lists received payments with sender, period, exact amount and claim, and adds and updates them live', async () => {
    renderPage({
      sent: [sent],
      received: [
        received(2),
        received(1, { micro: true, amountUnits: '3', claim: 'unclaimed', expiresAt: 1_800_003_600 }),
      ],
    });
    // Sent is the first tab; both counts show before either is opened.
    await screen.findByRole('tab', { name: 'Received (2)' });
    expect(tab(/^Sent/).getAttribute('aria-selected')).toBe('true');
    fireEvent.click(tab(/^Received/));
    const table = await screen.findByRole('table', { name: /Payments received by Producer/ });
    const row = (n: number) => table.querySelector(`tr[data-output="${tx(n)}0000"]`) as HTMLElement;
    expect(within(row(2)).getByText('meter-1/2')).toBeTruthy();
    expect(row(2).querySelector('.amount')?.textContent).toBe('0.024 TWT(24,000 units)');
    expect(
      within(row(2))
        .getByRole('link', { name: /watt1qzdmw/ })
        .getAttribute('title'),
    ).toBe(consumer);
    expect(within(row(2)).getByRole('link', { name: '#92' })).toBeTruthy();
    expect(within(row(2)).getByText('none needed')).toBeTruthy();
    expect(within(row(1)).getByText('unclaimed')).toBeTruthy();
    expect(within(row(1)).getByText('micro-payment')).toBeTruthy();

    const source = FakeEventSource.latest('wallet.test/events')!;
    act(() => source.open());
    act(() => source.emit('received', received(3, { amountUnits: '18446744073709551615' })));
    await waitFor(() => expect(row(3)).toBeTruthy());
    expect(table.querySelector('tbody tr')?.getAttribute('data-output')).toBe(`${tx(3)}0000`);
    expect(row(3).querySelector('.amount-units')?.textContent).toBe('(18,446,744,073,709,551,615 units)');
    expect(tab(/^Received/).textContent).toBe('Received (3)');
    // The micro-payment, claimed: the same row, updated.
    act(() =>
      source.emit(
        'received',
        received(1, { micro: true, amountUnits: '3', claim: 'claimed', settledAtMilestone: 95 }),
      ),
    );
    await waitFor(() => expect(row(1).getAttribute('data-claim')).toBe('claimed'));
    expect(table.querySelectorAll('tbody tr')).toHaveLength(3);
  });

  it('downloads the sent payments as CSV with the token in the header, not the URL', async () => {
    // What the wallet-service's GET /payments.csv answers (wallet-service/src/csv.ts); the page only saves it.
    const csv = `key,createdAt,payee,amount,state,transactionId,blockId,milestoneIndex,includedAt\ntrade-1,2026-01-01T00:00:00.000Z,${consumer},5000,included,${tx(1)},${tx(2)},91,2026-01-01T00:00:05.000Z\n`;
    const fetch = renderPage({ sent: [sent], csv: () => ({ text: csv, contentType: 'text/csv' }) });
    const blobs: Blob[] = [];
    const create = vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => {
      blobs.push(b as Blob);
      return 'blob:http://dashboard.test/1';
    });
    const revoke = vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
    const clicked: { href: string; download: string }[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push({ href: this.href, download: this.download });
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Download CSV' }));
    await waitFor(() => expect(clicked).toHaveLength(1));
    const i = fetch.calls.indexOf('/payments.csv');
    expect(i).toBeGreaterThanOrEqual(0);
    expect(fetch.headers[i]!.authorization).toBe('Bearer read-token');
    expect(create).toHaveBeenCalledTimes(1);
    expect(await blobs[0]!.text()).toBe(csv);
    expect(clicked[0]).toEqual({ href: 'blob:http://dashboard.test/1', download: 'producer-payments.csv' });
    await waitFor(() => expect(revoke).toHaveBeenCalledWith('blob:http://dashboard.test/1'));
  });

  it('says so when the wallet-service has no CSV export', async () => {
    renderPage({ sent: [sent] });
    fireEvent.click(await screen.findByRole('button', { name: 'Download CSV' }));
    expect((await screen.findByText(/CSV download failed/)).textContent).toMatch(
      /no CSV export \(GET \/payments\.csv\)/,
    );
  });
});
