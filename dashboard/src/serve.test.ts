// @vitest-environment node
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServedDashboard, serveDashboard } from '../serve';

/** Raw requests: fetch would normalise away the `..` segments this test sends. */
function get(base: string, path: string, method = 'GET', host?: string) {
  return new Promise<{
    status: number;
    type: string | undefined;
    body: string;
    headers: Record<string, unknown>;
  }>((resolve, reject) => {
    const url = new URL(base);
    const headers = host ? { host } : {};
    const req = request({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: res.headers['content-type'],
          body,
          headers: res.headers,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('serveDashboard', () => {
  let dir: string;
  let served: ServedDashboard;
  const config = {
    wallets: [
      { name: 'Producer', url: 'http://127.0.0.1:8481', token: 'producer-token' },
      { name: 'Consumer', url: 'http://127.0.0.1:8482' },
    ],
    meters: [{ name: 'Meter', url: 'http://127.0.0.1:8491' }],
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dashboard-serve-'));
    await mkdir(join(dir, 'dist', 'assets'), { recursive: true });
    await writeFile(join(dir, 'dist', 'index.html'), '<!doctype html><title>app</title>');
    await writeFile(join(dir, 'dist', 'assets', 'index-abc.js'), 'console.log(1)');
    await writeFile(join(dir, 'dist', 'assets', 'index-abc.css'), 'body{}');
    await writeFile(join(dir, 'secret.txt'), 'outside');
    served = await serveDashboard({ port: 0, config, root: join(dir, 'dist'), allowedHosts: ['pi.local'] });
  });
  afterAll(async () => {
    await served?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves files with their content types and cache headers', async () => {
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const index = await get(served.url, '/');
    expect(index).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toContain(
      "connect-src 'self' http://127.0.0.1:8481 http://127.0.0.1:8482 http://127.0.0.1:8491",
    );
    const js = await get(served.url, '/assets/index-abc.js');
    expect(js).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8', body: 'console.log(1)' });
    expect(js.headers['cache-control']).toContain('immutable');
    expect((await get(served.url, '/assets/index-abc.css')).type).toBe('text/css; charset=utf-8');
    const head = await get(served.url, '/assets/index-abc.js', 'HEAD');
    expect(head).toMatchObject({ status: 200, body: '' });
  });

  it('answers 421 with a one-line JSON error to a Host that is not its own, config.json included', async () => {
    const port = new URL(served.url).port;
    for (const host of [`rebind.example:${port}`, 'rebind.example', `localhost:${Number(port) + 1}`]) {
      const res = await get(served.url, '/config.json', 'GET', host);
      expect(res.status, host).toBe(421);
      expect(res.type).toBe('application/json; charset=utf-8');
      expect(res.body).not.toContain('token');
      expect(res.body.trimEnd()).not.toContain('\n');
      expect(JSON.parse(res.body).error.code).toBe('MISDIRECTED_REQUEST');
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, 'pi.local'])
      expect((await get(served.url, '/config.json', 'GET', host)).status, host).toBe(200);
  });

  it('answers /config.json from the given object, tokens included and never cached', async () => {
    const res = await get(served.url, '/config.json');
    expect(res.type).toBe('application/json; charset=utf-8');
    expect(JSON.parse(res.body)).toEqual(config);
    expect(JSON.parse(res.body).wallets[0].token).toBe('producer-token');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('falls back to index.html for app paths, 404 for missing assets', async () => {
    const page = await get(served.url, '/explorer/0x12');
    expect(page).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect((await get(served.url, '/assets/gone.js')).status).toBe(404);
    expect((await get(served.url, '/favicon.ico')).status).toBe(404);
  });

  it('never serves outside the build directory', async () => {
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
    ]) {
      const res = await get(served.url, path);
      expect(res.body).not.toContain('outside');
      expect([403, 404, 200]).toContain(res.status);
      if (res.status === 200) expect(res.type).toBe('text/html; charset=utf-8');
    }
    expect((await get(served.url, '/%00')).status).toBe(400);
    expect((await get(served.url, '/%E0%A4%A')).status).toBe(400);
  });

  it('refuses other methods', async () => {
    expect((await get(served.url, '/', 'POST')).status).toBe(405);
  });

  it('refuses to start without a build', async () => {
    await expect(serveDashboard({ config, root: join(dir, 'nothing') })).rejects.toThrow(/build it first/);
  });
});
