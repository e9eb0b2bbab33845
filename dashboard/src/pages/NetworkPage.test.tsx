import { act, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { DashboardConfig } from '../api/config';
import { FakeEventSource, fakeFetch, type Route } from '../test/fakes';
import { nodeInfo, renderWithServices, withFakeFeeds } from '../test/harness';
import { NetworkPage } from './NetworkPage';

const config: DashboardConfig = {
  wallets: [{ name: 'Producer', url: 'http://wallet.test' }],
  meters: [],
};

const nowS = () => Math.floor(Date.now() / 1000);

const milestones = (latest: number) => ({
  items: Array.from({ length: 5 }, (_, i) => ({
    type: 7,
    index: latest - i,
    timestamp: nowS() - i,
    parents: [],
  })),
});

function renderPage(route: Route) {
  const fetch = fakeFetch(route);
  vi.stubGlobal('fetch', fetch);
  renderWithServices(config, <NetworkPage />);
  return fetch;
}

/** A node at these milestones, with no tips; other paths as `otherwise` answers them. */
function node(
  confirmed: number,
  latest = confirmed,
  healthy = true,
  otherwise: Route = () => undefined,
): Route {
  return (url) => {
    if (url.pathname === '/node/info') return { body: nodeInfo({ confirmed, latest, healthy }) };
    if (url.pathname === '/node/milestones') return { body: milestones(confirmed) };
    if (url.pathname === '/node/tips') return { body: { tips: [] } };
    return otherwise(url);
  };
}

withFakeFeeds();

describe('NetworkPage', () => {
  it('shows the node synced, its milestones and metrics', async () => {
    renderPage(
      node(100, 100, false, () => ({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'nope' } } })),
    );
    expect((await screen.findByTestId('confirmed-index')).textContent).toBe('100');
    expect(screen.getByText('synced')).toBeTruthy();
    // A lone node is unhealthy in HORNET's terms; the page explains rather than alarms.
    expect(screen.getByText(/judged by sync/)).toBeTruthy();
    expect(screen.queryByText(/Node not synced/)).toBeNull();
    expect(screen.getByText('tanglewatt-local')).toBeTruthy();
    expect(screen.getByText('80.0 %')).toBeTruthy();
    expect(await screen.findByText('60.0/min')).toBeTruthy();
    expect(screen.getByRole('link', { name: '#96' })).toBeTruthy();
    expect(screen.getByText('The node has no tips right now.')).toBeTruthy();
  });

  it('warns when the node is not synced', async () => {
    renderPage(node(90, 100));
    const alert = await screen.findByText(/Node not synced/);
    expect(alert.closest('[role="alert"]')?.textContent).toMatch(
      /Confirmed milestone 90 of 100 \(10 behind\)/,
    );
    expect(screen.getByText('not synced')).toBeTruthy();
  });

  it('turns a live status into the not-synced warning, and back', async () => {
    renderPage(node(100));
    await screen.findByTestId('confirmed-index');
    const source = FakeEventSource.latest('wallet.test/events')!;
    act(() => source.open());
    const i = nodeInfo({ confirmed: 100 });
    act(() =>
      source.emit('node', {
        healthy: false,
        synced: false,
        networkName: 'tanglewatt-local',
        latestMilestone: i.status.latestMilestone,
        confirmedMilestone: i.status.confirmedMilestone,
        blocksPerSecond: 0,
        referencedBlocksPerSecond: 0,
        referencedRate: 0,
      }),
    );
    expect(await screen.findByText(/Node not synced/)).toBeTruthy();
    act(() =>
      source.emit('milestone', { index: 101, timestamp: nowS(), milestoneId: '0x01', confirmed: true }),
    );
    await waitFor(() => expect(screen.getByTestId('confirmed-index').textContent).toBe('101'));
  });

  it('says so when the wallet-service cannot reach its node (503)', async () => {
    renderPage(() => ({
      status: 503,
      body: { error: { code: 'NODE_UNREACHABLE', message: 'node at http://127.0.0.1:14265 is unreachable' } },
    }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toMatch(/Could not load node status from Producer/);
    expect(alert.textContent).toMatch(/unreachable/);
    expect(alert.textContent).toMatch(/cannot reach its node/);
  });

  it('says so when the wallet-service itself is down, and retries on request', async () => {
    let up = false;
    const fetch = renderPage((url) => (up ? node(7)(url) : undefined));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toMatch(/cannot reach wallet.test/);
    up = true;
    act(() => screen.getByRole('button', { name: 'Try again' }).click());
    expect((await screen.findByTestId('confirmed-index')).textContent).toBe('7');
    expect(fetch.calls.filter((c) => c === '/node/info')).toHaveLength(2);
  });

  it('refetches after the live stream reconnects', async () => {
    const fetch = renderPage(node(5));
    await screen.findByTestId('confirmed-index');
    const source = FakeEventSource.latest('wallet.test/events')!;
    act(() => source.open());
    act(() => source.fail(0));
    expect(await screen.findByText('reconnecting…')).toBeTruthy();
    const before = fetch.calls.length;
    act(() => source.open());
    await waitFor(() => expect(fetch.calls.length).toBeGreaterThanOrEqual(before + 3));
    expect(await screen.findByText('live')).toBeTruthy();
  });

  it('has nothing to show without a wallet-service', () => {
    renderWithServices({ wallets: [], meters: [] }, <NetworkPage />);
    expect(screen.getByText(/No wallet-service is configured/)).toBeTruthy();
  });
});
