import { mkdtemp } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RouteSpec, walletRoutes } from '@tanglewatt/contract';
import { LedgerError, type NodeApi } from '@tanglewatt/ledger';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiToken } from './access.js';
import { declaredRoutes } from './api.js';
import { DidUnresolvedError } from './errors.js';
import { openApiDocument } from './openapi.js';
import { PaymentsStore } from './payments-store.js';
import { ReceivedPayments } from './received.js';
import type { Settlement } from './settlement.js';
import { type ListeningApi, listenTestApi, TEST_ADDRESS } from './testing/api.js';
import type { WalletLedger } from './wallet-ledger.js';

const ADDRESS = TEST_ADDRESS;
const tokens: ApiToken[] = [
  { name: 'all', secret: 'all-scopes-secret', scopes: ['pay', 'market', 'read'] },
  { name: 'agent', secret: 'pay-secret', scopes: ['pay'] },
  { name: 'dashboard', secret: 'dashboard-secret', scopes: ['market', 'read'] },
  { name: 'reader', secret: 'read-secret', scopes: ['read'] },
];
const PUBLIC = new Set(['GET /health', 'GET /openapi.json']);

/** A value each path parameter accepts, so a request reaches the route's own checks. */
const example: Record<string, string> = {
  key: 'period-1',
  id: '1',
  address: ADDRESS,
  did: `did:iota:watt:0x${'a1'.repeat(32)}`,
};
const blockId = `0x${'0'.repeat(64)}`;
const concrete = (path: string) =>
  path
    .replace(/^\/node\/(blocks|transactions)\/:id/, `/node/$1/${blockId}`)
    .replace(/^\/node\/outputs\/:id/, `/node/outputs/0x${'0'.repeat(68)}`)
    .replace(/:([a-z]+)/g, (_, name: string) => example[name]!);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let api: ListeningApi;
let port: number;
let app: ListeningApi['app'];
let claims = 0;
let received: ReceivedPayments;
const OURS = `0x${'ab'.repeat(32)}`;
const ORIGIN = `0x${'0c'.repeat(34)}`;
const METHOD = { id: 'did:iota:watt:0x…#channel-key-01', publicKey: 'ee'.repeat(32) };

/** node:http rather than fetch: fetch will not send a forged Host header. */
function call(
  method: string,
  path: string,
  options: { token?: string; host?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          host: options.host ?? `127.0.0.1:${port}`,
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
      },
      (res) => {
        // A stream never ends: its head is enough.
        if (String(res.headers['content-type']).startsWith('text/event-stream')) {
          res.destroy();
          return resolve({ status: res.statusCode!, headers: res.headers, body: '' });
        }
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  const log = pino({ level: 'silent' });
  received = await ReceivedPayments.open(await mkdtemp(join(tmpdir(), 'api-received-')), {
    // The node no longer has the transactions (pruned): payments are listed without a sender.
    api: {
      includedBlock: async () => {
        throw new LedgerError('NOT_FOUND', 'pruned');
      },
      includedBlockMetadata: async () => {
        throw new LedgerError('NOT_FOUND', 'pruned');
      },
    } as unknown as NodeApi,
    addressHex: OURS,
    bech32Hrp: 'watt',
    paymentTag: 'tanglewatt/pay/v1',
    ownTransaction: () => false,
    log,
  });
  api = await listenTestApi({
    store: await PaymentsStore.open(await mkdtemp(join(tmpdir(), 'api-'))),
    ledger: { ledgerIndex: 7 } as unknown as WalletLedger,
    settlement: {
      requestClaim: () => {
        claims++;
      },
    } as unknown as Settlement,
    received,
    resolveDid: async (ref) => {
      if (ref.originOutputId !== ORIGIN)
        throw new DidUnresolvedError(`${ref.did} cannot be resolved: output ${ref.originOutputId} not found`);
      return {
        did: ref.did,
        originOutputId: ref.originOutputId,
        aliasId: ref.did.slice(-66),
        versions: [{ outputId: ORIGIN, fromMilestone: 5, deactivated: false, methods: [METHOD] }],
        document: {},
      };
    },
    api: { allowedHosts: ['pi.local', 'wallet.home:8480'] },
    tokens,
    log,
  });
  ({ app, port } = api);
});

afterAll(() => api.close());

const routes = () =>
  [...declaredRoutes(app)].flatMap(([path, methods]) => methods.map((method) => ({ method, path })));

describe('wallet-service API access', () => {
  it('answers /health and /openapi.json without a token', async () => {
    expect((await call('GET', '/health')).status).toBe(200);
    expect((await call('GET', '/openapi.json')).status).toBe(200);
  });

  it('answers 401 on every other route without a token or with an unknown one, reads included', async () => {
    const guarded = routes().filter((r) => !PUBLIC.has(`${r.method} ${r.path}`));
    expect(guarded.length).toBeGreaterThan(20);
    for (const { method, path } of guarded) {
      for (const token of [undefined, 'not-a-token']) {
        const answer = await call(method, concrete(path), token ? { token } : {});
        expect(answer.status, `${method} ${path}`).toBe(401);
        expect(answer.headers['www-authenticate']).toMatch(/^Bearer/);
        expect(JSON.parse(answer.body).error.code).toBe('UNAUTHORIZED');
      }
    }
  });

  it('lets a read token read and answers 403 naming the scope on every mutating route', async () => {
    for (const { method, path } of routes()) {
      if (PUBLIC.has(`${method} ${path}`)) continue;
      const answer = await call(method, concrete(path), { token: 'read-secret', body: {} });
      if (method === 'GET') expect([401, 403], `${method} ${path}`).not.toContain(answer.status);
      else {
        expect(answer.status, `${method} ${path}`).toBe(403);
        const needs = path.startsWith('/market/') ? 'market' : 'pay';
        expect(JSON.parse(answer.body).error.message).toContain(`"${needs}"`);
      }
    }
    expect((await call('GET', '/payments', { token: 'read-secret' })).body).toBe('{"total":0,"items":[]}');
  });

  it('lets a pay token pay and claim, and nothing else', async () => {
    const paid = await call('POST', '/payments', { token: 'pay-secret', body: { amount: '1' } });
    expect(paid.status).toBe(400);
    expect(JSON.parse(paid.body).error.field).toBe('idempotencyKey');
    const before = claims;
    expect((await call('POST', '/claims', { token: 'pay-secret' })).status).toBe(202);
    expect(claims).toBe(before + 1);
    const read = await call('GET', '/payments', { token: 'pay-secret' });
    expect(read.status).toBe(403);
    expect(JSON.parse(read.body).error.message).toContain('"read"');
    expect((await call('POST', '/market/sell', { token: 'pay-secret', body: {} })).status).toBe(403);
  });

  it('lets the dashboard token read and post market messages but not pay', async () => {
    // Past the scope check, the disabled market answers 404.
    expect((await call('POST', '/market/sell', { token: 'dashboard-secret', body: {} })).status).toBe(404);
    expect((await call('GET', '/addresses', { token: 'dashboard-secret' })).status).toBe(200);
    const pay = await call('POST', '/payments', {
      token: 'dashboard-secret',
      body: { idempotencyKey: 'x', to: ADDRESS, amount: '1' },
    });
    expect(pay.status).toBe(403);
    expect(JSON.parse(pay.body).error.message).toContain('"pay"');
    expect((await call('POST', '/claims', { token: 'dashboard-secret' })).status).toBe(403);
  });

  it('checks the token before it parses a body', async () => {
    const answer = await call('POST', '/payments', {
      headers: { 'content-type': 'application/json' },
      body: undefined,
    });
    expect(answer.status).toBe(401);
    const broken = await new Promise<number>((resolve) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/payments',
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.end('{not json');
    });
    expect(broken).toBe(401);
  });

  it('takes the token as ?access_token= on the event stream only', async () => {
    const stream = await call('GET', '/events?access_token=read-secret');
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect((await call('GET', '/events?access_token=pay-secret')).status).toBe(403);
    expect((await call('GET', '/events')).status).toBe(401);
    expect((await call('GET', '/payments?access_token=read-secret')).status).toBe(401);
  });
});

describe('wallet-service API Host check', () => {
  it('answers 421 with a one-line JSON error to a forged Host, even on /health and preflights', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `localhost:${port + 1}`, '127.0.0.1']) {
      const answer = await call('GET', '/health', { host });
      expect(answer.status, host).toBe(421);
      expect(answer.body).not.toContain('\n');
      expect(JSON.parse(answer.body).error.code).toBe('MISDIRECTED_REQUEST');
    }
    const preflight = await call('OPTIONS', '/payments', {
      host: `rebind.example:${port}`,
      headers: { origin: `http://rebind.example:${port}`, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(421);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers the loopback names with its port and the configured names', async () => {
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      `[::1]:${port}`,
      'pi.local',
      `pi.local:${port}`,
    ])
      expect((await call('GET', '/health', { host })).status, host).toBe(200);
    expect((await call('GET', '/health', { host: 'wallet.home:8480' })).status).toBe(200);
    expect((await call('GET', '/health', { host: `wallet.home:${port}` })).status).toBe(421);
  });
});

describe('wallet-service API contract', () => {
  it('lists received payments newest first with exact amounts, pages them, and refuses a bad cursor', async () => {
    const token = 'read-secret';
    const txId = (n: number) => `0x${String(n).padStart(64, '0')}`;
    for (const n of [1, 2, 3])
      await received.noteMilestone({
        index: 40 + n,
        timestamp: 1_800_000_000 + n,
        consumed: [],
        created: [
          {
            outputId: `${txId(n)}0000`,
            type: 3,
            amount: 18_446_744_073_709_551_612n + BigInt(n),
            ownerHex: OURS,
            hasNativeTokens: false,
            isSpent: false,
            milestoneIndexBooked: 40 + n,
            transactionId: txId(n),
            outputIndex: 0,
          },
        ],
      });
    const first = await call('GET', '/received-payments?limit=2', { token });
    expect(first.status).toBe(200);
    const page = JSON.parse(first.body);
    expect(page.total).toBe(3);
    expect(page.items.map((p: { amountUnits: string }) => p.amountUnits)).toEqual([
      '18446744073709551615',
      '18446744073709551614',
    ]);
    expect(page.next).toBe(`${txId(2)}0000`);
    const rest = JSON.parse(
      (await call('GET', `/received-payments?limit=2&before=${page.next}`, { token })).body,
    );
    expect(rest.items.map((p: { milestoneIndex: number }) => p.milestoneIndex)).toEqual([41]);
    expect(rest.next).toBeNull();
    for (const query of ['before=0x12', `before=${txId(9)}0000`, 'limit=0', 'limit=501', 'from=1']) {
      const bad = await call('GET', `/received-payments?${query}`, { token });
      expect(bad.status, query).toBe(400);
      expect(JSON.parse(bad.body).error.code).toBe('INVALID_REQUEST');
    }
  });

  it("resolves a meter DID's document history, and says in one line why one cannot be resolved", async () => {
    const token = 'read-secret';
    const did = `did:iota:watt:0x${'a1'.repeat(32)}`;
    const ok = await call('GET', `/dids/${did}?origin=${ORIGIN}`, { token });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).versions[0].methods).toEqual([METHOD]);
    const other = `0x${'0d'.repeat(34)}`;
    const missing = await call('GET', `/dids/${did}?origin=${other}`, { token });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error).toEqual({
      code: 'DID_UNRESOLVED',
      message: `${did} cannot be resolved: output ${other} not found`,
    });
    const noOrigin = await call('GET', `/dids/${did}`, { token });
    expect(noOrigin.status).toBe(400);
    expect(JSON.parse(noOrigin.body).error.field).toBe('origin');
    const badDid = await call('GET', `/dids/did:web:example.com?origin=${ORIGIN}`, { token });
    expect(badDid.status).toBe(400);
    expect(JSON.parse(badDid.body).error.field).toBe('did');
  });

  it('announces a received payment on the event stream', async () => {
    const events = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/events?access_token=read-secret',
          headers: { host: `127.0.0.1:${port}` },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk) => {
            text += chunk;
            if (text.includes('event: received')) {
              res.destroy();
              resolve(text);
            }
          });
          // Subscribed once the head arrived: now a milestone brings a payment.
          void received.noteMilestone({
            index: 50,
            timestamp: 1_800_000_050,
            consumed: [],
            created: [
              {
                outputId: `0x${'e'.repeat(64)}0000`,
                type: 3,
                amount: 123n,
                ownerHex: OURS,
                hasNativeTokens: false,
                isSpent: false,
                milestoneIndexBooked: 50,
                transactionId: `0x${'e'.repeat(64)}`,
                outputIndex: 0,
              },
            ],
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    const data = events.split('event: received\ndata: ')[1]!.split('\n')[0]!;
    expect(JSON.parse(data)).toMatchObject({ amountUnits: '123', milestoneIndex: 50 });
  });

  it('answers a method a known path lacks with 405 and Allow', async () => {
    const del = await call('DELETE', '/payments', { token: 'all-scopes-secret' });
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe('POST, GET, HEAD');
    expect(JSON.parse(del.body).error.code).toBe('METHOD_NOT_ALLOWED');
    const put = await call('PUT', '/node/blocks/0x00');
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, HEAD');
    expect((await call('POST', '/health')).headers.allow).toBe('GET, HEAD');
  });

  it('answers an unknown path with 404 JSON', async () => {
    const answer = await call('GET', '/nope', { token: 'all-scopes-secret' });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body).error.code).toBe('NOT_FOUND');
  });

  it('checks path and query parameters against the document', async () => {
    const token = 'all-scopes-secret';
    const badKey = await call('GET', '/payments/has%20space', { token });
    expect(badKey.status).toBe(400);
    expect(JSON.parse(badKey.body).error.field).toBe('key');
    expect((await call('GET', '/node/milestones/4294967296', { token })).status).toBe(404);
    expect((await call('GET', '/node/milestones/0', { token })).status).toBe(400);
    expect((await call('GET', '/node/milestones/01', { token })).status).toBe(400);
    expect((await call('GET', '/payments?offset=1000000001', { token })).status).toBe(400);
    expect((await call('GET', '/payments?limit=2&limit=3', { token })).status).toBe(400);
  });

  it('documents every registered route with the statuses it can answer, and nothing else', () => {
    const doc = openApiDocument() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; 'x-scope'?: string }>>;
    };
    const registered = new Set<string>();
    const takesBody = new Set(
      Object.values(walletRoutes as Record<string, RouteSpec>)
        .filter((r) => r.body)
        .map((r) => `${r.method.toUpperCase()} ${r.path}`),
    );
    expect(takesBody).toEqual(
      new Set([
        'POST /payments',
        ...routes()
          .filter((r) => r.path.startsWith('/market/'))
          .map((r) => `POST ${r.path}`),
      ]),
    );
    for (const { method, path } of routes()) {
      const documented = path.replace(/:([a-z]+)/g, '{$1}');
      registered.add(`${method} ${documented}`);
      const operation = doc.paths[documented]?.[method.toLowerCase()];
      expect(operation, `${method} ${path}`).toBeDefined();
      const statuses = Object.keys(operation!.responses);
      expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['421', '429', '500']));
      if (!PUBLIC.has(`${method} ${path}`)) {
        expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['401', '403']));
        expect(['pay', 'market', 'read']).toContain(operation!['x-scope']);
      }
      // 413 only where a body is read: a larger one is refused before the handler.
      if (takesBody.has(`${method} ${path}`))
        expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['400', '413']));
      else expect(statuses, `${method} ${path}`).not.toContain('413');
    }
    for (const [path, operations] of Object.entries(doc.paths))
      for (const method of Object.keys(operations))
        expect(registered, `${method} ${path}`).toContain(`${method.toUpperCase()} ${path}`);
  });
});
