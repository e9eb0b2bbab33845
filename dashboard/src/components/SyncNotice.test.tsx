import { act, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { createWalletClient } from '../api/wallet';
import { FakeEventSource, fakeFetch } from '../test/fakes';
import { nodeInfo, withFakeFeeds } from '../test/harness';
import { SyncNotice } from './SyncNotice';

const ref = (index: number) => ({ index, timestamp: 1, milestoneId: '0x' });

withFakeFeeds();

describe('SyncNotice', () => {
  it('warns while the node is behind, and clears when it catches up', async () => {
    vi.stubGlobal(
      'fetch',
      fakeFetch(() => ({ body: nodeInfo({ confirmed: 8, latest: 10 }) })),
    );
    render(<SyncNotice client={createWalletClient('http://w.test')} name="Consumer" />);
    expect((await screen.findByRole('alert')).textContent).toMatch(
      /Consumer’s node is not synced \(confirmed milestone 8 of 10\)/,
    );
    const source = FakeEventSource.latest('w.test/events')!;
    act(() =>
      source.emit('node', {
        healthy: true,
        synced: true,
        networkName: 'n',
        latestMilestone: ref(11),
        confirmedMilestone: ref(11),
        blocksPerSecond: 0,
        referencedBlocksPerSecond: 0,
        referencedRate: 0,
      }),
    );
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('shows nothing when synced or unknown', async () => {
    const fetch = fakeFetch(() => ({ body: nodeInfo({ confirmed: 10 }) }));
    vi.stubGlobal('fetch', fetch);
    const { container } = render(<SyncNotice client={createWalletClient('http://w.test')} name="P" />);
    await vi.waitFor(() => expect(fetch.calls).toContain('/node/info'));
    expect(container.textContent).toBe('');
  });
});
