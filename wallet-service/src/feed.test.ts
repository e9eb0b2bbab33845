import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeApi } from '@tanglewatt/ledger';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveFeed } from './feed.js';

let server: Server | undefined;
let feed: LiveFeed | undefined;

afterEach(async () => {
  feed?.stop();
  feed = undefined;
  const open = server;
  server = undefined;
  if (!open) return;
  open.closeAllConnections();
  await new Promise((resolve) => open.close(resolve));
});

describe('LiveFeed over MQTT', () => {
  it('backs off, doubling the wait, while the node answers its MQTT endpoint with 404', async () => {
    const attempts: number[] = [];
    server = createServer((req, res) => {
      if (req.url === '/api/mqtt/v1') attempts.push(Date.now());
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    feed = new LiveFeed(new NodeApi(url), pino({ level: 'silent' }), 250, { firstMs: 40, maxMs: 320 });
    feed.connectMqtt();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(feed.viaMqtt).toBe(false);
    // A fixed 40 ms would knock about 37 times; backing off (40, 40, 80, 160, 320, 320, …) about 8.
    expect(attempts.length).toBeGreaterThanOrEqual(4);
    expect(attempts.length).toBeLessThanOrEqual(9);
    const gaps = attempts.slice(1).map((at, i) => at - attempts[i]!);
    expect(gaps[3]!).toBeGreaterThan(gaps[0]! * 2);
    expect(Math.max(...gaps)).toBeLessThan(320 + 200);
  });
});
