import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IndexerApi, NodeApi } from '@tanglewatt/ledger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaymentsStore } from './payments-store.js';
import type { Settlement } from './settlement.js';
import { type ListeningApi, listenTestApi } from './testing/api.js';
import { FakeIndexer } from './testing/fake-indexer.js';
import type { WalletLedger } from './wallet-ledger.js';

/**
 * A node that has pruned everything: every core API read answers 404 with HORNET 2's error body
 * (echo's HTTPError: `{"error":{"code":"404","message":"Not Found, error: …"}}`).
 */
async function prunedNode(): Promise<{ url: string; server: Server; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(404, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(
      JSON.stringify({
        error: { code: '404', message: `Not Found, error: ${req.url}: not found: record not found` },
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, paths };
}

const OWNER = `0x${'1'.repeat(64)}`;
const TX = `0x${'7'.repeat(64)}`;
// The fake indexer names this block as the one that included every transaction it holds.
const TX_BLOCK = `0x${'b'.repeat(64)}`;
const UNTAGGED = `0x${'c'.repeat(64)}`;
const txBlock = {
  protocolVersion: 2,
  parents: [`0x${'a'.repeat(64)}`, `0x${'d'.repeat(64)}`],
  payload: { type: 6, essence: { type: 1 }, unlocks: [] },
  nonce: '42',
};

describe('explorer reads after the node pruned them', () => {
  const token = 'explorer-reader';
  const indexer = new FakeIndexer();
  let node: Awaited<ReturnType<typeof prunedNode>>;
  let withIndexer: ListeningApi;
  let withoutIndexer: ListeningApi;

  beforeAll(async () => {
    await indexer.start();
    node = await prunedNode();
    indexer.commit();
    indexer.commit({
      created: [{ outputId: `${TX}0000`, amount: 1_000_000n, ownerHex: OWNER, address: 'watt1q' }],
      tagged: [{ blockId: TX_BLOCK, tag: 'tanglewatt/pay/v1', block: txBlock }],
    });
    const parts = async () => ({
      store: await PaymentsStore.open(await mkdtemp(join(tmpdir(), 'api-explorer-'))),
      ledger: { ledgerIndex: 9 } as unknown as WalletLedger,
      settlement: {} as Settlement,
      tokens: [{ name: 'reader', secret: token, scopes: ['read' as const] }],
      node: new NodeApi(node.url, { timeoutMs: 2000 }),
    });
    withIndexer = await listenTestApi({ ...(await parts()), indexer: new IndexerApi(indexer.url) });
    withoutIndexer = await listenTestApi(await parts());
  });
  afterAll(async () => {
    await withIndexer?.close();
    await withoutIndexer?.close();
    await indexer.kill();
    await new Promise((r) => node?.server.close(r));
  });

  const get = async (api: ListeningApi, path: string) => {
    const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    // biome-ignore lint/suspicious/noExplicitAny: the routes answer several shapes; each test reads its own
    const body = (await res.json()) as any;
    return { status: res.status, source: res.headers.get('x-tanglewatt-source'), body };
  };

  it('serves a pruned block from the indexer, exactly as the node served it, saying so in a header', async () => {
    const answer = await get(withIndexer, `/node/blocks/${TX_BLOCK}`);
    expect(answer).toEqual({ status: 200, source: 'indexer', body: txBlock });
    expect(node.paths).toContain(`/api/core/v2/blocks/${TX_BLOCK}`);
  });

  it("serves a pruned block's metadata in HORNET's shape, its parents from the stored block", async () => {
    const answer = await get(withIndexer, `/node/blocks/${TX_BLOCK}/metadata`);
    expect(answer.status).toBe(200);
    expect(answer.source).toBe('indexer');
    expect(answer.body).toEqual({
      blockId: TX_BLOCK,
      parents: txBlock.parents,
      isSolid: true,
      referencedByMilestoneIndex: 2,
      ledgerInclusionState: 'noTransaction',
    });
  });

  it("finds a pruned transaction's block (and its metadata) through its output 0", async () => {
    const block = await get(withIndexer, `/node/transactions/${TX}`);
    expect(block).toEqual({ status: 200, source: 'indexer', body: txBlock });
    const metadata = await get(withIndexer, `/node/transactions/${TX}/metadata`);
    expect(metadata.source).toBe('indexer');
    expect(metadata.body.blockId).toBe(TX_BLOCK);
  });

  it("serves a pruned output with the node's metadata fields, the wallet's ledger index and a summary", async () => {
    const answer = await get(withIndexer, `/node/outputs/${TX}0000`);
    expect(answer.status).toBe(200);
    expect(answer.source).toBe('indexer');
    expect(answer.body.metadata).toMatchObject({
      blockId: TX_BLOCK,
      transactionId: TX,
      outputIndex: 0,
      isSpent: false,
      milestoneIndexBooked: 2,
      ledgerIndex: 9,
    });
    expect(answer.body.metadata.outputId).toBeUndefined();
    expect(answer.body.summary).toMatchObject({ outputId: `${TX}0000`, amount: '1000000', ownerHex: OWNER });
  });

  it("serves a pruned milestone's summary from the indexer", async () => {
    const answer = await get(withIndexer, '/node/milestones/2');
    expect(answer.status).toBe(200);
    expect(answer.source).toBe('indexer');
    expect(answer.body).toEqual({
      type: 7,
      index: 2,
      timestamp: 1_800_000_002,
      milestoneId: `0x${'2'.padStart(64, '0')}`,
      previousMilestoneId: `0x${'1'.padStart(64, '0')}`,
      blocksReferenced: 1,
      createdOutputs: 1,
      consumedOutputs: 0,
      taggedBlocks: 1,
    });
  });

  it("answers the node's 404 when the indexer does not hold it either", async () => {
    for (const path of [`/node/blocks/${UNTAGGED}`, `/node/transactions/${UNTAGGED}`, '/node/milestones/3']) {
      const answer = await get(withIndexer, path);
      expect(answer.status, path).toBe(404);
      expect(answer.body.error.code, path).toBe('NOT_FOUND');
    }
  });

  it("answers the node's 404 without an indexer", async () => {
    for (const path of [`/node/blocks/${TX_BLOCK}`, `/node/outputs/${TX}0000`, '/node/milestones/2']) {
      const answer = await get(withoutIndexer, path);
      expect(answer.status, path).toBe(404);
      expect(answer.body.error.code, path).toBe('NOT_FOUND');
    }
  });
});
