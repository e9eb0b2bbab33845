import {
  EXPLORER_SOURCE_HEADER,
  type Payment,
  paymentRequest,
  type RouteSpec,
  type WalletRouteId,
  walletRoutes,
} from '@tanglewatt/contract';
import { isBech32Address, outputSummaryToJson } from '@tanglewatt/ledger';
import { messageIdOf, type UnsignedMessage } from '@tanglewatt/market';
import cors from 'cors';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { z } from 'zod';
import { requireKnownHost, requireScope, TokenBook } from './access.js';
import { billsHandler } from './api-bills.js';
import { fromZod, type Handler, valid } from './api-common.js';
import type { ApiDeps } from './api-deps.js';
import { nodeHandlers } from './api-node.js';
import { parsePaymentsCsvQuery, paymentsCsv, paymentsInRange } from './csv.js';
import { HTTP_STATUS, HttpError, httpAnswer } from './http-errors.js';
import { WalletMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { paymentKindOn } from './payment-kind.js';
import type { ReceivedPayment } from './received.js';
import { receivedToJson } from './received.js';
import { PAYMENT_TAG } from './settlement.js';

export type { ApiDeps };

/** The routes an app built by createApi serves: express path → methods (upper case), in registration order. */
export function declaredRoutes(app: express.Express): Map<string, string[]> {
  return app.locals.routes as Map<string, string[]>;
}

/** The routes registered on an app so far (express path → methods). */
function routeMethods(app: express.Express): Map<string, string[]> {
  const routes = new Map<string, string[]>();
  const stack = (
    app.router as unknown as { stack: { route?: { path: string; methods: Record<string, boolean> } }[] }
  ).stack;
  for (const layer of stack) {
    if (!layer.route || typeof layer.route.path !== 'string') continue;
    const methods = routes.get(layer.route.path) ?? [];
    for (const [m, on] of Object.entries(layer.route.methods))
      if (on && m !== '_all' && !methods.includes(m.toUpperCase())) methods.push(m.toUpperCase());
    routes.set(layer.route.path, methods);
  }
  return routes;
}

export function createApi(deps: ApiDeps): express.Express {
  const { store, ledger, settlement, node, feed, config, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // First: a page that rebound its DNS name to this address gets nothing, not even a CORS preflight.
  app.use(requireKnownHost(deps.listenHost, config.allowedHosts));
  app.use(
    cors({
      origin: config.corsOrigins,
      methods: ['GET', 'POST'],
      allowedHeaders: ['authorization', 'content-type'],
      exposedHeaders: [EXPLORER_SOURCE_HEADER],
      // Every read carries the token, so each would be preflighted: browsers may keep the answer 10 minutes.
      maxAge: 600,
    }),
  );
  app.use(
    rateLimit({
      windowMs: 60_000,
      limit: config.rateLimitPerMinute,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      handler: (_req, res) => {
        res
          .status(HTTP_STATUS.RATE_LIMITED)
          .json({ error: { code: 'RATE_LIMITED', message: 'too many requests: slow down and retry' } });
      },
    }),
  );

  const book = new TokenBook(deps.tokens);
  // Bodies are parsed after the token is checked: a caller without one learns nothing from a parse error.
  const jsonBody = express.json({ limit: config.maxBodyBytes });

  const { listPayments, receivedPayments, payment, cancelPayment, blocks, did } = walletRoutes;
  const noMarket = () =>
    new HttpError('NOT_FOUND', 'the market is disabled in this service (market.enabled)');
  const publishAs =
    (kind: UnsignedMessage['kind']): Handler =>
    async (req, res) => {
      if (!deps.market) throw noMarket();
      try {
        const { message, blockId } = await deps.market.publish({ kind, body: req.body } as Pick<
          UnsignedMessage,
          'kind' | 'body'
        >);
        res.status(202).json({ messageId: messageIdOf(message), blockId, message });
      } catch (error) {
        if (error instanceof z.ZodError) throw fromZod(error);
        throw error;
      }
    };
  // Prometheus scrape: counts and sizes that tell about the household, so it takes a read token too.
  const metrics = deps.metrics ?? new WalletMetrics({ store, ledger, node });

  const handlers: Record<WalletRouteId, Handler> = {
    health: (_req, res) => {
      const status = feed.current;
      res.json({ ok: true, nodeSynced: status?.synced ?? null, ledgerIndex: ledger.ledgerIndex });
    },
    openapi: (_req, res) => {
      res.json(openApiDocument());
    },

    pay: async (req, res) => {
      const request = valid(paymentRequest, req.body);
      if (!isBech32Address(request.to, deps.bech32Hrp)) {
        throw new HttpError(
          'INVALID_REQUEST',
          `to: a bech32 Ed25519 address of this network (starting "${deps.bech32Hrp}1")`,
          'to',
        );
      }
      if (request.to === deps.address)
        throw new HttpError('INVALID_REQUEST', 'to: must not be this wallet itself', 'to');
      if (BigInt(request.amount) > deps.tokenSupply)
        throw new HttpError(
          'INVALID_REQUEST',
          `amount: at most ${deps.tokenSupply} base units (the network's total supply)`,
          'amount',
        );
      const shares = (request.shares ?? []).map((share, i) => {
        const field = `shares.${i}`;
        if (!isBech32Address(share.to, deps.bech32Hrp))
          throw new HttpError(
            'INVALID_REQUEST',
            `${field}.to: a bech32 Ed25519 address of this network (starting "${deps.bech32Hrp}1")`,
            `${field}.to`,
          );
        if (share.to === deps.address)
          throw new HttpError(
            'INVALID_REQUEST',
            `${field}.to: must not be this wallet itself`,
            `${field}.to`,
          );
        if (BigInt(share.amount) > deps.tokenSupply)
          throw new HttpError(
            'INVALID_REQUEST',
            `${field}.amount: at most ${deps.tokenSupply} base units (the network's total supply)`,
            `${field}.amount`,
          );
        return paymentKindOn(deps.rent, deps.address, share.to, BigInt(share.amount));
      });
      const kind = paymentKindOn(deps.rent, deps.address, request.to, BigInt(request.amount));
      const { payment, created } = await store.request(request, { ...kind, shares });
      if (created) settlement.notify();
      res.status(created ? 202 : 200).json(payment);
    },

    listPayments: (req, res) => {
      res.json(store.list(valid(listPayments.query, req.query)));
    },

    // Bookkeeping export, oldest first. Header token only, like every read but the event stream.
    paymentsCsv: (req, res) => {
      const query = parsePaymentsCsvQuery(req.query);
      if (!query.ok) throw new HttpError('INVALID_REQUEST', query.message, query.field);
      const all = store.list({ limit: Number.MAX_SAFE_INTEGER }).items.reverse();
      res.set({
        'content-type': 'text/csv; charset=utf-8; header=present',
        'content-disposition': 'attachment; filename="payments.csv"',
        'cache-control': 'no-store',
      });
      res.send(paymentsCsv(paymentsInRange(all, query.sinceMs, query.untilMs)));
    },

    receivedPayments: (req, res) => {
      const page = deps.received.list(valid(receivedPayments.query, req.query));
      if (!page)
        throw new HttpError(
          'INVALID_REQUEST',
          "before: the outputId of a listed received payment (the previous page's next)",
          'before',
        );
      res.json({ ...page, since: deps.received.beganAt ?? null });
    },

    payment: (req, res) => {
      const found = store.get(valid(payment.params, req.params).key);
      if (!found) throw new HttpError('NOT_FOUND', `no payment with idempotencyKey "${req.params.key}"`);
      res.json(found);
    },

    // Withdraws a payment no transaction carries yet; a signed one is on its way and cannot be stopped.
    bills: billsHandler(deps),

    cancelPayment: async (req, res) => {
      const { key } = valid(cancelPayment.params, req.params);
      const payment = await store.cancel(key);
      if (!payment) throw new HttpError('NOT_FOUND', `no payment with idempotencyKey "${key}"`);
      res.json(payment);
    },

    claim: (_req, res) => {
      settlement.requestClaim();
      res.status(202).json({ requested: true });
    },

    balance: (_req, res) => {
      const b = ledger.balance(Math.floor(Date.now() / 1000), settlement.lockedInputs());
      res.json({
        address: deps.address,
        totalUnits: b.totalUnits.toString(),
        availableUnits: b.availableUnits.toString(),
        claimableUnits: b.claimableUnits.toString(),
        outputs: b.outputs,
        ledgerIndex: b.ledgerIndex,
      });
    },

    addresses: (_req, res) => {
      res.json({ addresses: [deps.address] });
    },

    // The community market: the book as this household rebuilt it, and its own signed messages.
    market: async (_req, res) => {
      if (!deps.market) throw noMarket();
      res.json(await deps.market.book());
    },
    marketSell: publishAs('sell'),
    marketBuy: publishAs('buy'),
    marketCancel: publishAs('cancel'),
    marketAmend: publishAs('amend'),
    marketAck: publishAs('ack'),

    blocks: (req, res) => {
      const query = blocks.query.safeParse(req.query);
      if (!query.success)
        throw new HttpError('INVALID_REQUEST', 'limit: a whole number from 1 to 1000', 'limit');
      res.json({ tag: PAYMENT_TAG, items: store.postedBlocks(query.data.limit) });
    },

    // A meter's DID document history, for checking its channel's signatures against the keys it lists.
    did: async (req, res) => {
      const params = valid(did.params, req.params);
      const query = did.query.safeParse(req.query);
      if (!query.success) {
        const issue = query.error.issues[0]!;
        const field = issue.path.join('.') || 'origin';
        const message =
          field === 'origin'
            ? 'origin: the output that created the DID alias (0x and 68 hex digits): a ledger without an indexer finds the alias from it'
            : `${field}: ${issue.message}`;
        throw new HttpError('INVALID_REQUEST', message, field);
      }
      res.json(await deps.resolveDid({ did: params.did, originOutputId: query.data.origin }));
    },

    outputs: (_req, res) => {
      res.json({ ledgerIndex: ledger.ledgerIndex, items: ledger.all().map(outputSummaryToJson) });
    },

    ...nodeHandlers(deps),

    metrics: async (_req, res) => {
      const text = await metrics.render();
      res.set({ 'content-type': metrics.contentType, 'cache-control': 'no-store' });
      res.send(text);
    },

    events: (req, res) => {
      res.set({ 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.flushHeaders();
      res.write('retry: 2000\n\n');
      const send = (event: string) => (data: unknown) => {
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      const handlers = {
        node: send('node'),
        milestone: send('milestone'),
        tips: send('tips'),
        payment: send('payment') as (p: Payment) => void,
        received: (p: ReceivedPayment) => send('received')(receivedToJson(p, Math.floor(Date.now() / 1000))),
      };
      if (feed.current) handlers.node(feed.current);
      feed.on('node', handlers.node);
      feed.on('milestone', handlers.milestone);
      feed.on('tips', handlers.tips);
      store.on('payment', handlers.payment);
      deps.received.on('received', handlers.received);
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      req.on('close', () => {
        clearInterval(heartbeat);
        feed.off('node', handlers.node);
        feed.off('milestone', handlers.milestone);
        feed.off('tips', handlers.tips);
        store.off('payment', handlers.payment);
        deps.received.off('received', handlers.received);
      });
    },
  };

  // Every route of the table, guarded by its scope; bodies are parsed after the token is checked.
  for (const [id, route] of Object.entries(walletRoutes) as [WalletRouteId, RouteSpec][]) {
    const guard =
      route.scope === 'public' ? [] : [requireScope(book, route.scope, { stream: !!route.stream })];
    app[route.method](route.path, ...guard, ...(route.body ? [jsonBody] : []), handlers[id]);
  }

  // A known path asked with a method it does not have: 405 naming the ones it has.
  app.locals.routes = routeMethods(app);
  for (const [path, methods] of declaredRoutes(app)) {
    const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : [])].join(', ');
    app.all(path, (req: Request, res: Response) => {
      res.set('allow', allow);
      throw new HttpError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here: ${allow}`);
    });
  }
  app.use((_req, _res) => {
    throw new HttpError('NOT_FOUND', 'no such route: see /openapi.json');
  });

  // Statuses come from one table (http-errors.ts); only what no request should cause is logged.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const answer = httpAnswer(error, { maxBodyBytes: config.maxBodyBytes });
    if (answer.unexpected) log.error({ err: error }, 'request failed');
    res.status(answer.status).json(answer.body);
  });
  return app;
}
