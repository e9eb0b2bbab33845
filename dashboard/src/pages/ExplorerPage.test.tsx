import { screen, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { DashboardConfig } from '../api/config';
import { fakeFetch, type Route } from '../test/fakes';
import { nodeInfo, renderWithServices, withFakeFeeds } from '../test/harness';
import { ExplorerPage } from './ExplorerPage';

const config: DashboardConfig = { wallets: [{ name: 'Producer', url: 'http://wallet.test' }], meters: [] };
const blockId = `0x${'ab'.repeat(32)}`;
const outputId = `0x${'cd'.repeat(32)}0000`;
const block = {
  protocolVersion: 2,
  parents: [`0x${'11'.repeat(32)}`],
  nonce: '0',
  payload: { type: 5, tag: '0x74657374', data: '0x6869' },
};
const metadata = { blockId, parents: block.parents, isSolid: true, referencedByMilestoneIndex: 7 };
const output = {
  metadata: {
    blockId,
    transactionId: `0x${'cd'.repeat(32)}`,
    outputIndex: 0,
    isSpent: false,
    milestoneIndexBooked: 7,
    milestoneTimestampBooked: 1_800_000_000,
    ledgerIndex: 9,
  },
  output: { type: 3, amount: '1000000', unlockConditions: [] },
};

/** The wallet-service's answers; each explorer read says where it came from as `sources` has it. */
function service(sources: Record<string, string>): Route {
  const sourced = (body: unknown, path: string) => ({
    body,
    ...(sources[path] ? { headers: { 'x-tanglewatt-source': sources[path] } } : {}),
  });
  return (url) => {
    if (url.pathname === '/node/info') return { body: nodeInfo({ confirmed: 9 }) };
    if (url.pathname === `/node/blocks/${blockId}`) return sourced(block, 'block');
    if (url.pathname === `/node/blocks/${blockId}/metadata`) return sourced(metadata, 'block');
    if (url.pathname === `/node/outputs/${outputId}`) return sourced(output, 'output');
    return { status: 404, body: { error: { code: 'NOT_FOUND', message: 'no such thing' } } };
  };
}

function renderLookup(query: string, route: Route) {
  vi.stubGlobal('fetch', fakeFetch(route));
  renderWithServices(config, <ExplorerPage query={query} />);
}

withFakeFeeds();

describe('ExplorerPage', () => {
  it('says a block came from the indexer because the node pruned it', async () => {
    renderLookup(blockId, service({ block: 'indexer' }));
    const found = await screen.findByRole('article', { name: 'Block' });
    const badge = within(found).getByTestId('explorer-source');
    expect(badge.textContent).toBe('◐ from indexer (node has pruned this)');
    // The symbol is decoration: the words say it.
    expect(within(badge).getByText('◐').getAttribute('aria-hidden')).toBe('true');
    expect(within(found).getByText('from indexer (node has pruned this)')).toBeTruthy();
  });

  it('says an output came from the node', async () => {
    renderLookup(outputId, service({ output: 'node' }));
    const found = await screen.findByRole('article', { name: 'Output' });
    expect(within(found).getByTestId('explorer-source').textContent).toBe('● from node');
  });

  it('claims no source when the service does not say one', async () => {
    renderLookup(blockId, service({}));
    const found = await screen.findByRole('article', { name: 'Block' });
    expect(within(found).queryByTestId('explorer-source')).toBeNull();
  });
});
