import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isError } from '@tanglewatt/errors';
import { afterEach, describe, expect, it } from 'vitest';
import { IndexerApi, type IndexerEvent } from './indexer-api.js';

// Responses shaped as the indexer's REST API answers them (indexer/README.md, indexer/api_test.go).
const OUTPUT_ID = `0x${'11'.repeat(32)}0000`;
const BLOCK_ID = `0x${'22'.repeat(32)}`;

let server: Server | undefined;

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  const open = server;
  server = undefined;
  if (!open) return;
  open.closeAllConnections();
  await new Promise((resolve) => open.close(resolve));
});

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

describe('IndexerApi', () => {
  it('follows next/after through every page of an address and sends the bearer token', async () => {
    const seen: string[] = [];
    const url = await serve((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization}`);
      const after = new URL(req.url!, 'http://x').searchParams.get('after');
      const item = (n: number) => ({
        metadata: { outputId: `${OUTPUT_ID.slice(0, -4)}000${n}`, isSpent: false, milestoneIndexBooked: n },
        output: { type: 3, amount: String(1000 * n) },
        roles: ['address'],
      });
      json(
        res,
        200,
        after ? { address: 'watt1q', items: [item(2)] } : { address: 'watt1q', items: [item(1)], next: 'k1' },
      );
    });
    const api = new IndexerApi(url, { token: 's3cret' });
    const outputs = await api.allAddressOutputs('watt1q', { unspent: true });
    expect(outputs.map((o) => o.output.amount)).toEqual(['1000', '2000']);
    expect(seen).toEqual([
      '/api/v1/addresses/watt1q/outputs?unspent=true&limit=1000 Bearer s3cret',
      '/api/v1/addresses/watt1q/outputs?unspent=true&limit=1000&after=k1 Bearer s3cret',
    ]);
  });

  it('encodes a text tag and passes from', async () => {
    let path = '';
    const url = await serve((req, res) => {
      path = req.url!;
      json(res, 200, { tag: 'tanglewatt/pay/v1', items: [] });
    });
    await new IndexerApi(url).tagBlocks('tanglewatt/pay/v1', { from: 12 });
    expect(path).toBe('/api/v1/tags/tanglewatt%2Fpay%2Fv1/blocks?from=12');
  });

  it('maps 404 to NOT_FOUND and keeps the one-line 400 text', async () => {
    const url = await serve((req, res) => {
      if (req.url!.startsWith('/api/v1/blocks/')) json(res, 404, { error: 'block: not indexed' });
      else json(res, 400, { error: 'limit: "0" is not a whole number from 1 to 1000' });
    });
    const api = new IndexerApi(url);
    const missing = await api.block(BLOCK_ID).catch((e: unknown) => e);
    expect(isError(missing, 'NOT_FOUND')).toBe(true);
    const bad = await api.tagBlocks('tw/ch/', { limit: 0 }).catch((e: unknown) => e);
    expect(isError(bad, 'NODE_REQUEST_FAILED')).toBe(true);
    expect((bad as Error).message).toContain('limit: "0" is not a whole number from 1 to 1000');
  });

  it('answers health while the indexer is disconnected (503)', async () => {
    const url = await serve((_req, res) =>
      json(res, 503, { status: 'disconnected', connected: false, indexedMilestone: 7, gaps: [] }),
    );
    const health = await new IndexerApi(url).health();
    expect(health).toMatchObject({ status: 'disconnected', connected: false, indexedMilestone: 7 });
  });

  it('is NODE_UNREACHABLE when nothing listens', async () => {
    const url = await serve((_req, res) => res.end());
    const closed = url;
    server!.close();
    server = undefined;
    const error = await new IndexerApi(closed, { timeoutMs: 2_000 }).milestone(3).catch((e: unknown) => e);
    expect(isError(error, 'NODE_UNREACHABLE')).toBe(true);
  });

  it('parses stream events split across chunks, skips keep-alives, and ends when aborted', async () => {
    const url = await serve((req, res) => {
      expect(req.url).toBe('/api/v1/stream?tag=tw%2Fch%2F');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': keep-alive\n\n');
      res.write('event: tagged-data\ndata: {"blockId":"');
      res.write(
        `${BLOCK_ID}","milestoneIndex":9,"tag":"0x74772f","data":"0x","ledgerInclusionState":"noTransaction"}\n\n`,
      );
      res.write('event: milestone\ndata: {"index":9,"milestoneId":"0xab","timestamp":1}\n\n');
    });
    const events: IndexerEvent[] = [];
    const abort = new AbortController();
    await new IndexerApi(url).stream(
      { tag: 'tw/ch/' },
      (event) => {
        events.push(event);
        if (event.type === 'milestone') abort.abort();
      },
      abort.signal,
    );
    expect(events.map((e) => e.type)).toEqual(['tagged-data', 'milestone']);
    expect(events[0]!.data).toMatchObject({ blockId: BLOCK_ID, milestoneIndex: 9 });
  });
});
