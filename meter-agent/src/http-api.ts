import type { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostAllowed, misdirectedBody } from '@tanglewatt/contract';
import { errorMessage } from './errors.js';
import type { AgentEventMap } from './events.js';
import type { Logger } from './log.js';
import { meteredValue, type SampleRecord } from './metering/records.js';
import type { AgentSnapshot } from './status.js';
import type { PaymentOutcome, PaymentState, PeriodRecord } from './store/state.js';

/** A period as the read API serves it: the record plus what became of its payment. */
export type PeriodView = PeriodRecord & { paymentState: PaymentState; outcome?: PaymentOutcome };

/** What the read API needs from a running agent. */
export interface ReadApiSource {
  snapshot(): AgentSnapshot;
  periods(limit: number): PeriodView[];
  readonly meteredSensor: string;
  readonly events: EventEmitter<AgentEventMap>;
  /** A closed period's channel messages ([{seq, blockId}]); absent or [] without a channel. */
  channelBlocks?(periodId: string): { seq: number; blockId: string }[];
  /** Where the agent keeps its journals (for their sizes in /metrics). */
  readonly config?: { readonly dataDir: string };
}

/**
 * The channel's newest messages as seq → block id, oldest first: whole closed periods, newest first, while
 * they fit in `limit` (a restricted period starts with its epoch announcement, so it reads on its own); the
 * newest period alone is cut to its last `limit` messages when it is longer.
 */
export function channelBlockIndex(source: ReadApiSource, limit: number): { seq: number; blockId: string }[] {
  if (!source.channelBlocks) return [];
  const out: { seq: number; blockId: string }[] = [];
  for (const period of source.periods(1000)) {
    const blocks = source.channelBlocks(period.id);
    if (blocks.length === 0) continue;
    if (out.length === 0 && blocks.length > limit) return blocks.slice(-limit);
    if (out.length + blocks.length > limit) break;
    out.unshift(...blocks);
  }
  return out.sort((a, b) => a.seq - b.seq);
}

export interface ReadApiOptions {
  host: string;
  port: number;
  /** Origins allowed to read from a browser (the dashboard); none by default. */
  corsOrigins: string[];
  /** Host names answered besides the loopback names and `host` (see hostAllowed); others get 421. */
  allowedHosts?: string[];
  log: Logger;
}

export interface ReadApi {
  url: string;
  close(): Promise<void>;
}

const HEARTBEAT_MS = 15_000;

/**
 * The agent's read-only HTTP API for the dashboard: `GET /status` (the live snapshot), `GET /periods?limit=n`
 * (newest first), `GET /trades` (market trades, newest first), `GET /channel/blocks?limit=n` (the channel's newest messages: seq → block id) and
 * `GET /events` (server-sent events: `sample`, `period`, `payment`, `status`). It changes nothing and
 * carries no secret, so it has no token (EventSource cannot send one); it binds 127.0.0.1 unless told
 * otherwise, and answers only its own Host names (421 otherwise).
 */
export async function startReadApi(source: ReadApiSource, options: ReadApiOptions): Promise<ReadApi> {
  const streams = new Set<ServerResponse>();
  // Counting starts with the API, before the first sample: /metrics is served by this same server. Loaded
  // here, so an agent without the API never loads prom-client (its memory counts on a Pi).
  const { AgentMetrics } = await import('./metrics.js');
  const metrics = new AgentMetrics({
    events: source.events,
    snapshot: () => source.snapshot(),
    ...(source.config ? { dataDir: source.config.dataDir } : {}),
    processMetrics: true,
  });
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const allowOrigin = (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    if (!origin) return;
    if (options.corsOrigins.includes(origin) || options.corsOrigins.includes('*')) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
    }
  };

  const events = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    const send = (event: string) => (data: unknown) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const onSample = (s: SampleRecord) => {
      const v = meteredValue(s, source.meteredSensor);
      send('sample')({
        tMs: s.tMs,
        powerUW: v.kind === 'valid' ? v.point.powerUW : null,
        readings: s.readings,
      });
    };
    const onPeriod = send('period');
    const onPayment = send('payment');
    const onStatus = send('status');
    source.events.on('sample', onSample);
    source.events.on('period', onPeriod);
    source.events.on('payment', onPayment);
    source.events.on('status', onStatus);
    onStatus(source.snapshot());
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    streams.add(res);
    req.on('close', () => {
      clearInterval(heartbeat);
      streams.delete(res);
      source.events.off('sample', onSample);
      source.events.off('period', onPeriod);
      source.events.off('payment', onPayment);
      source.events.off('status', onStatus);
    });
  };

  const server = createServer((req, res) => {
    try {
      // A page that rebinds its DNS name to this address sends its own name: it reads nothing.
      const hostRule = { boundHost: options.host, allowedHosts: options.allowedHosts ?? [] };
      if (!hostAllowed(req.headers.host, req.socket.localPort ?? 0, hostRule))
        return json(res, 421, misdirectedBody(req.headers.host));
      allowOrigin(req, res);
      const url = new URL(req.url ?? '/', 'http://agent');
      if (req.method === 'OPTIONS') {
        res.setHeader('access-control-allow-methods', 'GET');
        res.writeHead(204).end();
        return;
      }
      if (req.method !== 'GET')
        return json(res, 405, {
          error: { code: 'METHOD_NOT_ALLOWED', message: 'this API is read-only: GET only' },
        });
      switch (url.pathname) {
        case '/health':
          return json(res, 200, { ok: true, running: source.snapshot().running });
        case '/status':
          return json(res, 200, source.snapshot());
        case '/periods': {
          const limit = Number(url.searchParams.get('limit') ?? '50');
          if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
            return json(res, 400, {
              error: { code: 'INVALID_REQUEST', message: 'limit: 1 to 1000', field: 'limit' },
            });
          return json(res, 200, { items: source.periods(limit) });
        }
        case '/channel/blocks': {
          const limit = Number(url.searchParams.get('limit') ?? '20');
          if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
            return json(res, 400, {
              error: { code: 'INVALID_REQUEST', message: 'limit: 1 to 1000', field: 'limit' },
            });
          const channel = source.snapshot().channel;
          if (!channel)
            return json(res, 404, {
              error: { code: 'NOT_FOUND', message: 'this meter publishes no channel' },
            });
          return json(res, 200, { channelId: channel.channelId, items: channelBlockIndex(source, limit) });
        }
        case '/trades': {
          const trades = source.snapshot().trades;
          if (!trades)
            return json(res, 404, {
              error: { code: 'NOT_FOUND', message: 'this meter runs no market trades (market)' },
            });
          return json(res, 200, { items: trades });
        }
        case '/events':
          return events(req, res);
        case '/metrics':
          return void metrics.render().then(
            (text) => {
              res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
              res.end(text);
            },
            (error) => {
              options.log.error({ error: errorMessage(error) }, 'metrics failed');
              json(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
            },
          );
        default:
          return json(res, 404, {
            error: {
              code: 'NOT_FOUND',
              message: 'GET /status, /periods, /trades, /channel/blocks, /events or /metrics',
            },
          });
      }
    } catch (error) {
      options.log.error({ error: errorMessage(error) }, 'read API request failed');
      if (!res.headersSent) json(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error) => {
    metrics.close();
    throw error;
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  options.log.info({ url }, 'read API listening');
  return {
    url,
    close: async () => {
      metrics.close();
      for (const res of streams) res.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
