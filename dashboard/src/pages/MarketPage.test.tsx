import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DashboardConfig } from '../api/config';
import type { MarketBook, OrderView, Trade } from '../api/market';
import { FakeEventSource } from '../test/fakes';
import { nodeInfo, renderWithServices, withFakeFeeds } from '../test/harness';
import { MarketPage } from './MarketPage';

const ME = 'watt1qzdmw527yuhn4x49qn28he6978wpwwfcadrj2l5esm99y7hu4s29s9rkfnf';
const NEIGHBOUR = 'watt1qrk5v6jfh2lsdvzl7c6nhrlq4lrnyz0lgw4pzz7ea0lfk4pk3dk9s2rphjp';
const id = (c: string) => c.repeat(64);
const HOUR = 3_600_000;
const T0 = Date.now() - 60_000;

const config: DashboardConfig = {
  wallets: [
    { name: 'Producer', url: 'http://producer.test', token: 'secret-token' },
    { name: 'Neighbour', url: 'http://neighbour.test' },
  ],
  meters: [],
};

function order(o: Partial<OrderView> & Pick<OrderView, 'id' | 'side' | 'owner'>): OrderView {
  return {
    ownerKey: o.owner === ME ? 'aa' : 'bb',
    window: { startMs: T0, endMs: T0 + HOUR },
    energyWh: 1000,
    filledWh: 0,
    remainingWh: 1000,
    priceUnitsPerWh: '250',
    minLotWh: 1,
    status: 'open',
    placedAtMs: T0,
    priority: { timestampMs: T0, author: o.owner, seq: 1, id: o.id },
    ...o,
  };
}

const trade: Trade = {
  id: id('7'),
  market: 'community',
  rule: 'cda',
  sellOrderId: id('1'),
  buyOrderId: id('3'),
  causeId: id('3'),
  fill: 0,
  seller: ME,
  sellerKey: 'aa',
  buyer: NEIGHBOUR,
  buyerKey: 'bb',
  energyWh: 4000,
  priceUnitsPerWh: '10000',
  window: { startMs: T0 + 1000, endMs: T0 + HOUR },
  matchedAtMs: T0 + 1000,
};

function fixtureBook(extra: Partial<MarketBook> = {}): MarketBook {
  return {
    market: 'community',
    rule: 'cda',
    nowMs: T0 + 5000,
    orders: [
      order({
        id: id('1'),
        side: 'sell',
        owner: ME,
        energyWh: 10_000,
        filledWh: 4000,
        remainingWh: 6000,
        priceUnitsPerWh: '10000',
        minLotWh: 500,
      }),
      order({
        id: id('2'),
        side: 'sell',
        owner: NEIGHBOUR,
        energyWh: 500,
        remainingWh: 500,
        priceUnitsPerWh: '0.5',
      }),
      order({
        id: id('3'),
        side: 'buy',
        owner: NEIGHBOUR,
        energyWh: 4000,
        filledWh: 4000,
        remainingWh: 0,
        priceUnitsPerWh: '12000',
        status: 'filled',
        closedAtMs: T0 + 1000,
      }),
      order({
        id: id('4'),
        side: 'buy',
        owner: NEIGHBOUR,
        energyWh: 2000,
        remainingWh: 2000,
        priceUnitsPerWh: '9000',
      }),
    ],
    trades: [trade],
    acks: [{ tradeId: trade.id, party: 'buyer', messageId: id('8') }],
    accepted: [id('1'), id('2'), id('3'), id('4'), id('8')],
    pending: [],
    rejections: [
      {
        reason: 'BAD_SIGNATURE',
        detail: 'Ed25519 verification failed',
        messageId: id('d'),
        kind: 'sell',
        identity: ME,
        timestampMs: T0 + 2000,
      },
      {
        reason: 'EXPIRED',
        detail: 'window ended at 1, before the message (2)',
        messageId: id('e'),
        kind: 'buy',
        identity: NEIGHBOUR,
        timestampMs: T0 + 3000,
      },
      { reason: 'MALFORMED', detail: 'body.energyWh: Too small' },
    ],
    ledgerIndex: 42,
    ...extra,
  };
}

/** The book with the trade paid on the ledger: this much, in this many payments. */
const paidFor = (paidUnits: string, payments: number) =>
  fixtureBook({ settlements: [{ tradeId: trade.id, paidUnits, payments, lastMilestoneIndex: 41 }] });

const info = nodeInfo({ confirmed: 42 });

interface Call {
  method: string;
  url: URL;
  body: unknown;
  authorization: string | null;
}

/** A fetch for both wallets: GETs from the current book, POSTs answered by `onPost`. */
function stubServices(options: {
  book: () => MarketBook;
  onPost?: (path: string, body: unknown) => { status: number; body: unknown };
  /** What the meters' GET /trades answers (404 without). */
  meterTrades?: unknown[];
}) {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (input: string, init: RequestInit = {}) => {
    const url = new URL(input);
    const headers = new Headers(init.headers);
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method: init.method ?? 'GET', url, body, authorization: headers.get('authorization') });
    const json = (status: number, value: unknown) =>
      new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
    if (init.method === 'POST') {
      const answer = options.onPost?.(url.pathname, body) ?? { status: 500, body: {} };
      return json(answer.status, answer.body);
    }
    if (url.pathname === '/market') return json(200, options.book());
    if (url.pathname === '/addresses')
      return json(200, { addresses: [url.host === 'producer.test' ? ME : NEIGHBOUR] });
    if (url.pathname === '/node/info') return json(200, info);
    if (url.pathname === '/trades' && options.meterTrades) return json(200, { items: options.meterTrades });
    return json(404, { error: { code: 'NOT_FOUND', message: 'no' } });
  });
  return calls;
}

function renderPage(household: string, withConfig: DashboardConfig = config) {
  return renderWithServices(withConfig, <MarketPage household={household} />);
}

const posted = (messageId: string) => ({
  status: 202,
  body: { messageId, blockId: `0x${'b'.repeat(64)}`, message: { kind: 'sell', timestampMs: 1, seq: 1 } },
});

withFakeFeeds();
afterEach(() => {
  window.location.hash = '';
});

describe('MarketPage', () => {
  it('renders the book, your offers, trades and rejections from the wallet’s book', async () => {
    stubServices({ book: () => fixtureBook() });
    renderPage('Producer');
    const sells = await screen.findByRole('table', { name: /Sell offers/ });
    // Sells cheapest first; "you" for the household's own, the address otherwise.
    const sellRows = within(sells).getAllByRole('row').slice(1);
    expect(sellRows.map((r) => r.getAttribute('data-order'))).toEqual([id('2'), id('1')]);
    const mine = sells.querySelector(`tr[data-order="${id('1')}"]`) as HTMLElement;
    await waitFor(() => expect(within(mine).getByText('you')).toBeTruthy());
    expect(mine.textContent).toContain('6,000 Wh / 10,000 Wh');
    expect(mine.textContent).toContain('4,000 Wh sold');
    expect(mine.textContent).toContain('lots of at least 500 Wh');
    await waitFor(() => expect(mine.textContent).toContain('10,000 units/Wh (10 TWT/kWh)'));
    expect(within(mine).getByText('open')).toBeTruthy();
    const theirs = sells.querySelector(`tr[data-order="${id('2')}"]`) as HTMLElement;
    expect(within(theirs).getByTitle(NEIGHBOUR).textContent).toBe('watt1qrk5v6…2rphjp');
    expect(theirs.textContent).toContain('0.5 units/Wh (0.0005 TWT/kWh)');

    // Buys: the filled one only with closed orders shown.
    const buys = screen.getByRole('table', { name: /Buy orders/ });
    expect(buys.querySelector(`tr[data-order="${id('3')}"]`)).toBeNull();
    expect(buys.textContent).toContain('9,000 units/Wh (9 TWT/kWh)');
    fireEvent.click(screen.getByLabelText('Show filled, cancelled and expired orders'));
    const filled = screen
      .getByRole('table', { name: /Buy orders/ })
      .querySelector(`tr[data-order="${id('3')}"]`) as HTMLElement;
    expect(within(filled).getByText('filled')).toBeTruthy();

    expect(screen.getByTestId('book-summary').textContent).toMatch(/community.*up to milestone #42/);

    // Your offers: only the household's own, with Cancel and Amend while open.
    const own = screen.getByRole('table', { name: /Your offers and orders/ });
    expect(own.querySelectorAll('tbody tr')).toHaveLength(1);
    expect(within(own).getByRole('button', { name: /^Cancel sell offer of 10,000 Wh/ })).toBeTruthy();
    expect(within(own).getByRole('button', { name: /^Amend sell offer/ })).toBeTruthy();

    // Trades: both parties, Wh, price, exact value, window, acks; Ack for the household's side.
    const trades = screen.getByRole('table', { name: /Trades/ });
    const row = trades.querySelector(`tr[data-trade="${trade.id}"]`) as HTMLElement;
    expect(within(row).getByTestId('trade-energy').textContent).toBe('4,000 Wh');
    expect(within(row).getByTestId('trade-price').textContent).toBe('10,000 units/Wh (10 TWT/kWh)');
    expect(row.textContent).toContain('40 TWT');
    expect(row.textContent).toContain('(40,000,000 units)');
    expect(row.textContent).toContain('seller not yet');
    expect(row.textContent).toContain('buyer acknowledged');
    expect(within(row).getByText('you')).toBeTruthy();
    expect(within(row).getByRole('button', { name: /^Acknowledge the trade of 4,000 Wh/ })).toBeTruthy();

    // Rejections: each with its reason in words.
    const rejected = screen.getByRole('table', { name: /Rejected messages/ });
    const bad = rejected.querySelector('tr[data-reason="BAD_SIGNATURE"]') as HTMLElement;
    expect(bad.textContent).toContain('the signature does not match the message and its author key');
    expect(bad.textContent).toContain('Ed25519 verification failed');
    expect(within(bad).getByText('you')).toBeTruthy();
    const expired = rejected.querySelector('tr[data-reason="EXPIRED"]') as HTMLElement;
    expect(expired.textContent).toContain('its delivery window had ended');
    const malformed = rejected.querySelector('tr[data-reason="MALFORMED"]') as HTMLElement;
    expect(malformed.textContent).toContain('not a market message');
    expect(malformed.textContent).toContain('unknown kind');
  });

  it('shows each trade’s delivery from the buyer’s meter and its payments from the ledger', async () => {
    stubServices({
      book: () => paidFor('15000000', 2),
      meterTrades: [
        {
          id: trade.id,
          seller: ME,
          payTo: ME,
          energyWh: 4000,
          priceUnitsPerWh: '10000',
          window: trade.window,
          state: 'shortfall',
          creditedMWs: (1500n * 3_600_000n).toString(),
          shortfallMWs: (2500n * 3_600_000n).toString(),
          owedUnits: '15000000',
          paidUnits: '15000000',
          unanswered: 0,
        },
      ],
    });
    renderPage('Producer', { ...config, meters: [{ name: 'Neighbour meter', url: 'http://meter.test' }] });
    const trades = await screen.findByRole('table', { name: /Trades/ });
    const row = trades.querySelector(`tr[data-trade="${trade.id}"]`) as HTMLElement;
    const delivery = await within(row).findByTestId('trade-delivery');
    expect(delivery.getAttribute('data-state')).toBe('shortfall');
    expect(delivery.textContent).toContain('closed short');
    expect(delivery.textContent).toContain('1.500 kWh of 4.000 kWh');
    expect(delivery.textContent).toContain('short by 2.500 kWh');
    const paid = within(row).getByTestId('trade-settlement');
    await waitFor(() => expect(paid.textContent).toContain('15 TWT'));
    expect(paid.textContent).toContain('on the ledger (2 payments)');
  });

  it('shows what the ledger paid for a trade no meter of the dashboard runs', async () => {
    stubServices({
      book: () => paidFor('4000', 1),
    });
    renderPage('Producer');
    const trades = await screen.findByRole('table', { name: /Trades/ });
    const row = trades.querySelector(`tr[data-trade="${trade.id}"]`) as HTMLElement;
    expect(row.textContent).toContain('no meter here runs it');
    expect(within(row).getByTestId('trade-settlement').textContent).toContain('(1 payment)');
  });

  it('says when nothing was paid for a trade yet', async () => {
    stubServices({ book: () => fixtureBook() });
    renderPage('Producer');
    const trades = await screen.findByRole('table', { name: /Trades/ });
    const row = trades.querySelector(`tr[data-trade="${trade.id}"]`) as HTMLElement;
    expect(within(row).getByTestId('trade-settlement').textContent).toBe('nothing paid on the ledger yet');
  });

  it('is read-only without a token: no forms, no buttons, a short note', async () => {
    stubServices({ book: () => fixtureBook() });
    renderPage('Neighbour');
    await screen.findByRole('table', { name: /Sell offers/ });
    expect(screen.getByRole('note').textContent).toMatch(/Read-only.*no API token for Neighbour/);
    expect(screen.queryByRole('form')).toBeNull();
    expect(screen.queryByLabelText('Energy')).toBeNull();
    expect(screen.queryByRole('button', { name: /Cancel|Amend|Acknowledge/ })).toBeNull();
    // The neighbour's own orders are still its own.
    expect(screen.getByRole('heading', { name: 'Neighbour’s offers and trades' })).toBeTruthy();
    const own = await screen.findByRole('table', { name: /Your offers and orders/ });
    expect(own.querySelectorAll('tbody tr')).toHaveLength(3);
    // The household picker says which wallets are read-only, and switches by the route.
    const picker = screen.getByLabelText('Household') as HTMLSelectElement;
    expect([...picker.options].map((o) => o.textContent)).toEqual(['Producer', 'Neighbour (read-only)']);
    fireEvent.change(picker, { target: { value: 'Producer' } });
    expect(window.location.hash).toBe('#/market/Producer');
  });

  it('checks the sell form and names each field at fault', async () => {
    const calls = stubServices({ book: () => fixtureBook() });
    renderPage('Producer');
    const form = await screen.findByRole('form', { name: 'Sell energy' });
    const energy = within(form).getByLabelText('Energy') as HTMLInputElement;
    fireEvent.change(within(form).getByLabelText('Price (base units per Wh)'), {
      target: { value: '2.5.0' },
    });
    fireEvent.click(within(form).getByRole('button', { name: 'Post sell offer' }));
    expect(energy.getAttribute('aria-invalid')).toBe('true');
    const energyError = document.getElementById(`${energy.id}-error`)!;
    expect(energyError.textContent).toBe('Energy: enter an amount in Wh.');
    expect(energy.getAttribute('aria-describedby')).toContain(energyError.id);
    expect(document.activeElement).toBe(energy);
    expect(within(form).getByText(/^Price: a decimal number of base units per Wh/)).toBeTruthy();

    // kWh with more than 3 decimals is not whole Wh; the minimum lot must fit.
    fireEvent.change(within(form).getByLabelText('Energy unit'), { target: { value: 'kWh' } });
    fireEvent.change(energy, { target: { value: '1.2345' } });
    fireEvent.change(within(form).getByLabelText('Price (base units per Wh)'), { target: { value: '250' } });
    fireEvent.change(within(form).getByLabelText('Minimum lot (kWh, optional)'), { target: { value: '2' } });
    fireEvent.change(within(form).getByLabelText('End'), { target: { value: '2020-01-01T00:00' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Post sell offer' }));
    expect(within(form).getByText(/^Energy: 1.2345 kWh is not a whole number of Wh/)).toBeTruthy();
    expect(within(form).getByText('Window end: must be after the start.')).toBeTruthy();
    fireEvent.change(energy, { target: { value: '1.5' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Post sell offer' }));
    expect(within(form).getByText('Minimum lot: must not exceed the energy offered.')).toBeTruthy();
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);

    // The echoes: exact Wh, the price per kWh in tokens, the total.
    expect(within(form).getByText('= 1,500 Wh')).toBeTruthy();
    await waitFor(() => expect(within(form).getByText('= 0.25 TWT/kWh')).toBeTruthy());
    expect(within(form).getByText('Worth 0.375 TWT (375,000 units) in all.')).toBeTruthy();
  });

  it('posts a sell offer, then follows it from "waiting for a milestone" into the book', async () => {
    let book = fixtureBook();
    const newId = id('9');
    const calls = stubServices({
      book: () => book,
      onPost: (path) => (path === '/market/sell' ? posted(newId) : { status: 500, body: {} }),
    });
    renderPage('Producer');
    const form = await screen.findByRole('form', { name: 'Sell energy' });
    fireEvent.change(within(form).getByLabelText('Energy unit'), { target: { value: 'kWh' } });
    fireEvent.change(within(form).getByLabelText('Energy'), { target: { value: '2.5' } });
    fireEvent.change(within(form).getByLabelText('Price (base units per Wh)'), {
      target: { value: '0.250' },
    });
    fireEvent.change(within(form).getByLabelText('Minimum lot (kWh, optional)'), {
      target: { value: '0.1' },
    });
    fireEvent.click(within(form).getByRole('button', { name: 'Post sell offer' }));

    const status = await within(form).findByText(/Sell offer posted, waiting for a milestone/);
    const post = calls.find((c) => c.method === 'POST')!;
    expect(post.url.href).toBe('http://producer.test/market/sell');
    expect(post.authorization).toBe('Bearer secret-token');
    const body = post.body as { window: { startMs: number; endMs: number } };
    expect(body).toMatchObject({ energyWh: 2500, priceUnitsPerWh: '0.25', minLotWh: 100 });
    expect(body.window.endMs - body.window.startMs).toBe(HOUR);
    expect(Object.keys(body).sort()).toEqual(['energyWh', 'minLotWh', 'priceUnitsPerWh', 'window']);
    expect(within(status.closest('p')!).getByRole('link').getAttribute('href')).toBe(
      `#/explorer/0x${'b'.repeat(64)}`,
    );

    // A milestone confirms it: the book is fetched again and the offer is in it.
    book = fixtureBook({
      orders: [
        ...fixtureBook().orders,
        order({
          id: newId,
          side: 'sell',
          owner: ME,
          energyWh: 2500,
          remainingWh: 2500,
          priceUnitsPerWh: '0.25',
        }),
      ],
      accepted: [...fixtureBook().accepted, newId],
      ledgerIndex: 43,
    });
    const source = FakeEventSource.latest('producer.test/events')!;
    act(() => source.emit('milestone', { index: 43, timestamp: 1, milestoneId: '0x', confirmed: true }));
    await waitFor(() => expect(within(form).getByText(/Sell offer is in the book/)).toBeTruthy(), {
      timeout: 3000,
    });
    const sells = screen.getByRole('table', { name: /Sell offers/ });
    expect(sells.querySelector(`tr[data-order="${newId}"]`)?.textContent).toContain('2,500 Wh');
  });

  it('shows a wallet-service 400 next to the field it names, and other failures on the form', async () => {
    let answer = {
      status: 400,
      body: {
        error: {
          code: 'INVALID_REQUEST',
          message: 'body.energyWh: Too big: expected number to be <=1000000000',
          field: 'body.energyWh',
        },
      },
    };
    stubServices({ book: () => fixtureBook(), onPost: () => answer });
    renderPage('Producer');
    const form = await screen.findByRole('form', { name: 'Buy energy' });
    const energy = within(form).getByLabelText('Energy');
    fireEvent.change(energy, { target: { value: '100' } });
    fireEvent.change(within(form).getByLabelText('Highest price (base units per Wh)'), {
      target: { value: '300' },
    });
    fireEvent.click(within(form).getByRole('button', { name: 'Post buy order' }));
    const error = await within(form).findByText(
      /^Energy: the wallet-service refused it: body.energyWh: Too big/,
    );
    expect(energy.getAttribute('aria-describedby')).toContain(error.id);
    expect(energy.getAttribute('aria-invalid')).toBe('true');

    answer = {
      status: 401,
      body: { error: { code: 'UNAUTHORIZED', message: 'missing or wrong bearer token', field: '' } },
    };
    fireEvent.click(within(form).getByRole('button', { name: 'Post buy order' }));
    expect((await within(form).findByRole('alert')).textContent).toMatch(
      /refused this dashboard’s token \(401\)/,
    );
  });

  it('cancels and acknowledges through the wallet-service', async () => {
    const calls = stubServices({
      book: () => fixtureBook(),
      onPost: (path) => posted(path === '/market/cancel' ? id('c') : id('a')),
    });
    renderPage('Producer');
    const own = await screen.findByRole('table', { name: /Your offers and orders/ });
    fireEvent.click(within(own).getByRole('button', { name: /^Cancel sell offer/ }));
    expect(await within(own).findByText(/Cancellation posted, waiting for a milestone/)).toBeTruthy();
    const trades = screen.getByRole('table', { name: /Trades/ });
    await waitFor(() => expect(within(trades).getByText('you')).toBeTruthy());
    fireEvent.click(within(trades).getByRole('button', { name: /^Acknowledge/ }));
    expect(await within(trades).findByText(/Acknowledgement posted, waiting for a milestone/)).toBeTruthy();
    expect(within(trades).queryByRole('button', { name: /^Acknowledge/ })).toBeNull();
    const posts = calls.filter((c) => c.method === 'POST').map((c) => [c.url.pathname, c.body]);
    expect(posts).toEqual([
      ['/market/cancel', { orderId: id('1') }],
      ['/market/ack', { tradeId: trade.id }],
    ]);

    // Amend: only what changed is sent.
    fireEvent.click(within(own).getByRole('button', { name: /^Amend sell offer/ }));
    const amend = screen.getByRole('form', { name: 'Amend sell order' });
    fireEvent.change(within(amend).getByLabelText('New price (units per Wh)'), { target: { value: '9500' } });
    fireEvent.click(within(amend).getByRole('button', { name: 'Post amendment' }));
    await waitFor(() => expect(calls.filter((c) => c.method === 'POST')).toHaveLength(3));
    expect(calls.at(-1)?.body).toEqual({ orderId: id('1'), priceUnitsPerWh: '9500' });
  });

  it('shows loading, then an error with a retry, when the book cannot be had', async () => {
    let up = false;
    stubServices({
      book: () => {
        if (!up) throw new TypeError('Failed to fetch');
        return fixtureBook({ orders: [], trades: [], acks: [], rejections: [] });
      },
    });
    renderPage('Producer');
    expect(screen.getByText(/Loading the order book/)).toBeTruthy();
    const alert = await screen.findByText(/Could not load the order book from Producer/);
    up = true;
    fireEvent.click(
      within(alert.closest('[role="alert"]') as HTMLElement).getByRole('button', { name: 'Try again' }),
    );
    expect(await screen.findByText('Nobody offers energy right now.')).toBeTruthy();
    expect(screen.getByText('Nobody is asking for energy right now.')).toBeTruthy();
    expect(screen.getByText(/No trades yet/)).toBeTruthy();
    expect(screen.getByText('No message has been rejected.')).toBeTruthy();
  });
});
