import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isError } from '@tanglewatt/errors';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonHttp } from './http-json.js';
import { NodeApi } from './node-api.js';

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

describe('JsonHttp', () => {
  it('reuses kept-alive connections for requests in a row and asks for no compression', async () => {
    const sockets = new Set<unknown>();
    const encodings: (string | undefined)[] = [];
    const url = await serve((req, res) => {
      sockets.add(req.socket);
      encodings.push(req.headers['accept-encoding']);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"tips":["0x01"]}');
    });
    const api = new NodeApi(url);
    for (let i = 0; i < 10; i++) expect(await api.tips()).toEqual(['0x01']);
    // undici's pool may open a second connection while the first finishes its answer; never one each.
    expect(sockets.size).toBeLessThanOrEqual(2);
    expect(encodings).toEqual(Array(10).fill(undefined));
  });

  it('rejects with NODE_UNREACHABLE naming the timeout when no answer comes in time', async () => {
    const url = await serve(() => {
      // never answers
    });
    const http = new JsonHttp(url, 200);
    const started = Date.now();
    const error = await http.get('/slow').catch((e: unknown) => e);
    expect(isError(error, 'NODE_UNREACHABLE')).toBe(true);
    expect((error as Error).message).toBe(`node at ${url} did not answer within 200 ms`);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('rejects with NODE_UNREACHABLE when a body stalls longer than the timeout', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"tips":'); // and nothing more
    });
    const error = await new NodeApi(url, { timeoutMs: 200 }).tips().catch((e: unknown) => e);
    expect(isError(error, 'NODE_UNREACHABLE')).toBe(true);
    expect((error as Error).message).toContain('did not answer within 200 ms');
  });

  it('is NODE_UNREACHABLE without a timeout when nothing listens', async () => {
    const error = await new JsonHttp('http://127.0.0.1:9', 2_000).get('/health').catch((e: unknown) => e);
    expect(isError(error, 'NODE_UNREACHABLE')).toBe(true);
    expect((error as Error).message).toBe('node at http://127.0.0.1:9 is unreachable');
  });

  it('keeps a path prefix of the base URL and answers any status with its body', async () => {
    let path = '';
    const url = await serve((req, res) => {
      path = req.url!;
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"no such block"}}');
    });
    const res = await new JsonHttp(`${url}/node`, 2_000).get('/api/core/v2/blocks/0x01');
    expect(path).toBe('/node/api/core/v2/blocks/0x01');
    expect(res).toEqual({ status: 404, text: '{"error":{"message":"no such block"}}' });
    const error = await new NodeApi(`${url}/node`).block('0x01').catch((e: unknown) => e);
    expect(isError(error, 'NOT_FOUND')).toBe(true);
    expect((error as Error).message).toContain('no such block');
  });

  it('posts a block as JSON and answers its id; a refusal is a typed error with the node’s reason', async () => {
    const bodies: unknown[] = [];
    const url = await serve((req, res) => {
      let text = '';
      req.on('data', (chunk) => {
        text += chunk;
      });
      req.on('end', () => {
        bodies.push({ type: req.headers['content-type'], block: JSON.parse(text) });
        if (bodies.length === 1)
          res.writeHead(201, { 'content-type': 'application/json' }).end('{"blockId":"0xb1"}');
        else
          res
            .writeHead(400, { 'content-type': 'application/json' })
            .end('{"error":{"message":"invalid payload"}}');
      });
    });
    const api = new NodeApi(url);
    const block = {
      protocolVersion: 2,
      parents: ['0x01'],
      payload: { type: 5, tag: '0x74', data: '0x' },
      nonce: '0',
    };
    expect(await api.postBlock(block)).toBe('0xb1');
    const error = await api.postBlock(block).catch((e: unknown) => e);
    expect(isError(error, 'NODE_REQUEST_FAILED')).toBe(true);
    expect((error as Error).message).toBe('/api/core/v2/blocks: HTTP 400 invalid payload');
    expect(bodies).toEqual([
      { type: 'application/json', block },
      { type: 'application/json', block },
    ]);
  });
});
