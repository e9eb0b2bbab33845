import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeFetch } from '../test/fakes';
import { ApiError, getJson, postJson } from './http';

afterEach(() => vi.unstubAllGlobals());

describe('getJson', () => {
  it('returns the JSON body', async () => {
    vi.stubGlobal(
      'fetch',
      fakeFetch(() => ({ body: { ok: 1 } })),
    );
    expect(await getJson('http://svc/', '/x')).toEqual({ ok: 1 });
  });

  it('turns the service error body into an ApiError with code and field', async () => {
    vi.stubGlobal(
      'fetch',
      fakeFetch(() => ({
        status: 404,
        body: { error: { code: 'NOT_FOUND', message: 'no such block', field: 'id' } },
      })),
    );
    const error = (await getJson('http://svc', '/node/blocks/0x1').catch((e) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      kind: 'http',
      status: 404,
      code: 'NOT_FOUND',
      message: 'no such block',
      field: 'id',
    });
    expect(error.notFound).toBe(true);
  });

  it('tells an unreachable service from an unreachable node', async () => {
    vi.stubGlobal(
      'fetch',
      fakeFetch(() => undefined),
    );
    const down = (await getJson('http://svc:8481', '/x').catch((e) => e)) as ApiError;
    expect(down.kind).toBe('network');
    expect(down.unreachable).toBe(true);
    vi.stubGlobal(
      'fetch',
      fakeFetch(() => ({ status: 503, body: { error: { code: 'NODE_UNREACHABLE', message: 'x' } } })),
    );
    const node = (await getJson('http://svc', '/node/info').catch((e) => e)) as ApiError;
    expect(node.status).toBe(503);
    expect(node.unreachable).toBe(true);
  });

  it('times out', async () => {
    vi.stubGlobal('fetch', (_url: string, init: RequestInit) => {
      return new Promise((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      });
    });
    const error = (await getJson('http://svc', '/slow', { timeoutMs: 10 }).catch((e) => e)) as ApiError;
    expect(error.kind).toBe('timeout');
  });

  it('times out when the headers come but the body stalls', async () => {
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
      // As fetch does: aborting its signal errors a body still being read.
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"tips":['));
          init.signal?.addEventListener('abort', () =>
            controller.error(new DOMException('aborted', 'AbortError')),
          );
        },
      });
      return new Response(body, { status: 200 });
    });
    const error = (await getJson('http://svc', '/tips', { timeoutMs: 20 }).catch((e) => e)) as ApiError;
    expect(error.kind).toBe('timeout');
  });

  it('reports a non-JSON answer', async () => {
    vi.stubGlobal('fetch', async () => new Response('<html>', { status: 200 }));
    const error = (await getJson('http://svc', '/x').catch((e) => e)) as ApiError;
    expect(error.kind).toBe('parse');
  });

  it('posts JSON with the bearer token, and keeps the field a 400 names', async () => {
    const seen: { method?: string; body?: unknown; auth?: string | null; type?: string | null }[] = [];
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
      const headers = new Headers(init.headers);
      seen.push({
        method: init.method,
        body: JSON.parse(String(init.body)),
        auth: headers.get('authorization'),
        type: headers.get('content-type'),
      });
      return new Response(
        JSON.stringify({
          error: { code: 'INVALID_REQUEST', message: 'body.energyWh: too big', field: 'body.energyWh' },
        }),
        { status: 400 },
      );
    });
    const error = (await postJson('http://svc', '/market/sell', { energyWh: 5 }, { token: 't0k' }).catch(
      (e) => e,
    )) as ApiError;
    expect(seen).toEqual([
      { method: 'POST', body: { energyWh: 5 }, auth: 'Bearer t0k', type: 'application/json' },
    ]);
    expect(error).toMatchObject({
      kind: 'http',
      status: 400,
      code: 'INVALID_REQUEST',
      field: 'body.energyWh',
    });
  });
});
