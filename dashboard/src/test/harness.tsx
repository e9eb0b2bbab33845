/** What the component tests share: the fake browser network around each test, and a node's /node/info. */
import { cleanup, render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, vi } from 'vitest';
import type { DashboardConfig } from '../api/config';
import { ServicesProvider } from '../context';
import { closeAllFeeds } from '../live/feed';
import { FakeEventSource } from './fakes';

/**
 * Registers, for every test of the file: a fresh `FakeEventSource` as the page's EventSource before it;
 * after it, the page unmounted, the live feeds closed and every stubbed global restored.
 */
export function withFakeFeeds(): void {
  beforeEach(() => {
    FakeEventSource.instances = [];
    vi.stubGlobal('EventSource', FakeEventSource);
  });
  afterEach(() => {
    cleanup();
    closeAllFeeds();
    vi.unstubAllGlobals();
  });
}

/** Renders `ui` with the services (wallet-service and meter clients) that `config` names. */
export function renderWithServices(config: DashboardConfig, ui: ReactNode) {
  return render(<ServicesProvider config={config}>{ui}</ServicesProvider>);
}

const nowS = () => Math.floor(Date.now() / 1000);

/** GET /node/info as the wallet-service passes it on from HORNET, for a node at these milestones. */
export function nodeInfo({
  confirmed,
  latest = confirmed,
  healthy = true,
  timestampS = nowS(),
}: {
  confirmed: number;
  latest?: number;
  healthy?: boolean;
  /** When both milestones were issued, in unix seconds: now unless given. */
  timestampS?: number;
}) {
  return {
    name: 'HORNET',
    version: '2.0.1',
    status: {
      isHealthy: healthy,
      latestMilestone: { index: latest, timestamp: timestampS, milestoneId: `0x${'1'.repeat(64)}` },
      confirmedMilestone: { index: confirmed, timestamp: timestampS, milestoneId: `0x${'2'.repeat(64)}` },
    },
    protocol: { networkName: 'tanglewatt-local', bech32Hrp: 'watt' },
    baseToken: { name: 'TangleWatt', tickerSymbol: 'TWT', decimals: 6 },
    metrics: { blocksPerSecond: 2.5, referencedBlocksPerSecond: 2, referencedRate: 80 },
  };
}
