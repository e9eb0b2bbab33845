import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../api/http';
import type { Payment } from '../api/wallet';
import { PaymentsTable } from './PaymentsTable';

afterEach(cleanup);

const payee = 'watt1qzdmw527yuhn4x49qn28he6978wpwwfcadrj2l5esm99y7hu4s29s9rkfnf';
const blockId = `0x${'b1'.repeat(32)}`;
const txId = `0x${'c2'.repeat(32)}`;

function payment(key: string, state: Payment['state'], extra: Partial<Payment> = {}): Payment {
  return {
    idempotencyKey: key,
    to: payee,
    amount: '50000',
    state,
    micro: false,
    attempts: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:01.000Z',
    metadata: {
      periodId: `house-12/${key}`,
      energyMWs: '180000000',
      priceUnitsPerWh: '250',
      periodStart: '2026-01-01T00:00:00.000Z',
      periodEnd: '2026-01-01T01:00:00.000Z',
    },
    ...extra,
  };
}

describe('PaymentsTable', () => {
  it('shows loading, then an error with a retry, then an empty table', () => {
    const { rerender } = render(
      <PaymentsTable payments={undefined} loading error={undefined} label="Consumer" />,
    );
    expect(screen.getByRole('status').textContent).toMatch(/Loading payments/);

    let retried = 0;
    rerender(
      <PaymentsTable
        payments={undefined}
        loading={false}
        error={
          new ApiError(
            'network',
            'cannot reach 127.0.0.1:8482: Failed to fetch',
            'http://127.0.0.1:8482/payments',
          )
        }
        retry={() => retried++}
        label="Consumer"
      />,
    );
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toMatch(/Could not load payments/);
    expect(alert.textContent).toMatch(/CORS/);
    within(alert).getByRole('button', { name: 'Try again' }).click();
    expect(retried).toBe(1);

    rerender(<PaymentsTable payments={[]} loading={false} error={undefined} label="Consumer" />);
    expect(screen.getByText('No payments yet.')).toBeTruthy();
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('shows why a payment waits, failed or was cancelled', () => {
    const rows = [
      payment('w', 'queued', { error: 'waiting for funds: needs 50000 base units, 1200 spendable now' }),
      payment('f', 'failed', { error: 'to: not a bech32 Ed25519 address of this network' }),
      payment('x', 'cancelled'),
    ];
    render(<PaymentsTable payments={rows} loading={false} error={undefined} label="Consumer" />);
    const table = screen.getByRole('table');
    const row = (key: string) => table.querySelector(`tr[data-key="${key}"]`) as HTMLElement;
    expect(within(row('w')).getByTitle('why').textContent).toBe(
      'waiting for funds: needs 50000 base units, 1200 spendable now',
    );
    expect(within(row('f')).getByText('failed')).toBeTruthy();
    expect(within(row('f')).getByTitle('why').textContent).toMatch(/^to: not a bech32/);
    expect(row('f').textContent).toContain('never paid');
    expect(within(row('x')).getByText('cancelled')).toBeTruthy();
    expect(row('x').textContent).toContain('cancelled before signing');
  });

  it('renders each payment with energy, price, amount, payee and its state', () => {
    const rows = [
      payment('q', 'queued'),
      payment('s', 'submitted', { blockId }),
      payment('i', 'included', { blockId, transactionId: txId, milestoneIndex: 1234, amount: '1500000' }),
      payment('c', 'conflicting', { blockId, attempts: 2 }),
      payment('m', 'included', {
        micro: true,
        amount: '120',
        depositUnits: '5060',
        blockId,
        milestoneIndex: 9,
      }),
    ];
    render(
      <PaymentsTable
        payments={rows}
        total={12}
        loading={false}
        error={undefined}
        label="Consumer"
        token={{ decimals: 6, ticker: 'TWT' }}
      />,
    );
    const table = screen.getByRole('table');
    expect(within(table).getByText(/Payments of Consumer \(latest 5 of 12\)/)).toBeTruthy();
    const headers = within(table)
      .getAllByRole('columnheader')
      .map((h) => h.textContent);
    expect(headers).toEqual(['Period', 'Energy', 'Price', 'Amount', 'Payee', 'State', 'On the tangle']);

    const row = (key: string) => table.querySelector(`tr[data-key="${key}"]`) as HTMLElement;
    expect(row('q').textContent).toContain('50.000 Wh');
    expect(row('q').textContent).toContain('250 units/Wh (0.25 TWT/kWh)');
    expect(row('q').textContent).toContain('0.05 TWT');
    expect(row('q').textContent).toContain('(50,000 units)');
    expect(row('q').textContent).toContain('not posted');
    expect(row('i').textContent).toContain('1.5 TWT');

    for (const [key, state] of [
      ['q', 'queued'],
      ['s', 'submitted'],
      ['i', 'included'],
      ['c', 'conflicting'],
    ] as const) {
      expect(row(key).getAttribute('data-state')).toBe(state);
      expect(within(row(key)).getByText(state)).toBeTruthy();
    }

    // Payee shortened, whole in the title; links into the explorer.
    const payeeLink = within(row('i')).getByTitle(payee);
    expect(payeeLink.textContent).toBe('watt1qzdmw5…9rkfnf');
    expect(payeeLink.getAttribute('href')).toBe(`#/explorer/${payee}`);
    const links = within(row('i'))
      .getAllByRole('link')
      .map((a) => a.getAttribute('href'));
    expect(links).toContain(`#/explorer/${blockId}`);
    expect(links).toContain('#/explorer/1234');
    expect(links).toContain(`#/explorer/${txId}`);

    expect(row('c').textContent).toContain('2 attempts');
    expect(row('m').textContent).toContain('micro-payment');
    expect(row('m').textContent).toContain('(120 units)');
  });

  it('keeps showing the last payments when a refresh fails', () => {
    render(
      <PaymentsTable
        payments={[payment('i', 'included')]}
        loading={false}
        error={new ApiError('timeout', 'did not answer in time', 'x')}
        label="Consumer"
      />,
    );
    expect(screen.getByRole('alert').textContent).toMatch(/Could not load the latest payments/);
    expect(screen.getByRole('table')).toBeTruthy();
  });
});
