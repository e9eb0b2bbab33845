import { idempotencyKey, type Payment, paymentRequest, paymentStates } from '@tanglewatt/contract';
import {
  basicOutputDeposit,
  bech32ToHex,
  isBech32Address,
  microOutputDeposit,
  type NodeApi,
  outputSummaryToJson,
  type RentStructure,
  summarizeOutput,
} from '@tanglewatt/ledger';
import { messageIdOf, type UnsignedMessage } from '@tanglewatt/market';
import cors from 'cors';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Logger } from 'pino';
import { z } from 'zod';
import { type ApiToken, requireKnownHost, requireScope, TokenBook } from './access.js';
import type { AddressIndex } from './address-index.js';
import type { WalletConfig } from './config.js';
import { parsePaymentsCsvQuery, paymentsCsv, paymentsInRange } from './csv.js';
import type { DidResolver } from './dids.js';
import type { LiveFeed } from './feed.js';
import { HTTP_STATUS, HttpError, httpAnswer } from './http-errors.js';
import type { MarketView } from './market.js';
import { WalletMetrics } from './metrics.js';
import { MAX_MILESTONE_INDEX, MAX_OFFSET, openApiDocument } from './openapi.js';
import type { PaymentsStore } from './payments-store.js';
import type { ReceivedPayment, ReceivedPayments } from './received.js';
import { receivedToJson } from './received.js';
import { PAYMENT_TAG, type Settlement } from './settlement.js';
import type { WalletLedger } from './wallet-ledger.js';

export interface ApiDeps {
  store: PaymentsStore;
  ledger: WalletLedger;
  addresses: AddressIndex;
  market?: MarketView;
  settlement: Settlement;
  received: ReceivedPayments;
  /** Resolves meter DIDs from the ledger (GET /dids/:did). */
  resolveDid: DidResolver;
  node: NodeApi;
  feed: LiveFeed;
  address: string;
  bech32Hrp: string;
  rent: RentStructure;
  /** The network's total supply: no payment can be more. */
  tokenSupply: bigint;
  config: WalletConfig['api'];
  /** The address the server listens on: its name is one the Host header may carry. */
  listenHost: string;
  tokens: readonly ApiToken[];
  log: Logger;
  /** What GET /metrics serves; by default one built on the store, ledger and node (no journal sizes). */
  metrics?: WalletMetrics;
}

function fromZod(error: z.ZodError): HttpError {
  const issue = error.issues[0]!;
  const field = issue.path.join('.');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
  return new HttpError('INVALID_REQUEST', field ? `${field}: ${message}` : message, field || undefined);
}

const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/, '0x and 64 lowercase hex digits');
const outputIdParam = z.string().regex(/^0x[0-9a-f]{68}$/, '0x and 68 lowercase hex digits');
const listQuery = z.strictObject({
  state: z.enum(paymentStates).optional(),
  periodId: z.string().max(128).optional(),
  peer: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(MAX_OFFSET).default(0),
});

const didParam = z
  .string()
  .regex(/^did:iota:(?:[a-z0-9]{1,6}:)?0x[0-9a-f]{64}$/, 'an IOTA DID, did:iota:<hrp>:0x<alias id>');
const didQuery = z.strictObject({ origin: outputIdParam });

const receivedQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: outputIdParam.optional(),
});

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
  const { store, ledger, settlement, node, feed, config, log, addresses } = deps;
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
  const needsPay = requireScope(book, 'pay');
  const needsMarket = requireScope(book, 'market');
  const needsRead = requireScope(book, 'read');
  // Bodies are parsed after the token is checked: a caller without one learns nothing from a parse error.
  const jsonBody = express.json({ limit: config.maxBodyBytes });

  app.get('/health', (_req, res) => {
    const status = feed.current;
    res.json({ ok: true, nodeSynced: status?.synced ?? null, ledgerIndex: ledger.ledgerIndex });
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });

  app.post('/payments', needsPay, jsonBody, async (req, res) => {
    const parsed = paymentRequest.safeParse(req.body);
    if (!parsed.success) throw fromZod(parsed.error);
    const request = parsed.data;
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
    const micro = BigInt(request.amount) < basicOutputDeposit(request.to, deps.rent);
    const { payment, created } = await store.request(request, {
      micro,
      ...(micro ? { depositUnits: microOutputDeposit(request.to, deps.address, deps.rent) } : {}),
    });
    if (created) settlement.notify();
    res.status(created ? 202 : 200).json(payment);
  });

  app.get('/payments', needsRead, (req, res) => {
    const parsed = listQuery.safeParse(req.query);
    if (!parsed.success) throw fromZod(parsed.error);
    res.json(store.list(parsed.data));
  });

  // Bookkeeping export, oldest first. Header token only, like every read but the event stream.
  app.get('/payments.csv', needsRead, (req, res) => {
    const query = parsePaymentsCsvQuery(req.query);
    if (!query.ok) throw new HttpError('INVALID_REQUEST', query.message, query.field);
    const all = store.list({ limit: Number.MAX_SAFE_INTEGER }).items.reverse();
    res.set({
      'content-type': 'text/csv; charset=utf-8; header=present',
      'content-disposition': 'attachment; filename="payments.csv"',
      'cache-control': 'no-store',
    });
    res.send(paymentsCsv(paymentsInRange(all, query.sinceMs, query.untilMs)));
  });

  app.get('/received-payments', needsRead, (req, res) => {
    const parsed = receivedQuery.safeParse(req.query);
    if (!parsed.success) throw fromZod(parsed.error);
    const page = deps.received.list(parsed.data);
    if (!page)
      throw new HttpError(
        'INVALID_REQUEST',
        "before: the outputId of a listed received payment (the previous page's next)",
        'before',
      );
    res.json({ ...page, since: deps.received.beganAt ?? null });
  });

  app.get('/payments/:key', needsRead, (req, res) => {
    const key = idempotencyKey.safeParse(req.params.key);
    if (!key.success) throw new HttpError('INVALID_REQUEST', `key: ${key.error.issues[0]!.message}`, 'key');
    const payment = store.get(key.data);
    if (!payment) throw new HttpError('NOT_FOUND', `no payment with idempotencyKey "${req.params.key}"`);
    res.json(payment);
  });

  // Withdraws a payment no transaction carries yet; a signed one is on its way and cannot be stopped.
  app.post('/payments/:key/cancel', needsPay, async (req, res) => {
    const parsedKey = idempotencyKey.safeParse(req.params.key);
    if (!parsedKey.success)
      throw new HttpError('INVALID_REQUEST', `key: ${parsedKey.error.issues[0]!.message}`, 'key');
    const key = parsedKey.data;
    const payment = await store.cancel(key);
    if (!payment) throw new HttpError('NOT_FOUND', `no payment with idempotencyKey "${key}"`);
    res.json(payment);
  });

  app.post('/claims', needsPay, (_req, res) => {
    settlement.requestClaim();
    res.status(202).json({ requested: true });
  });

  app.get('/balance', needsRead, (_req, res) => {
    const b = ledger.balance(Math.floor(Date.now() / 1000), settlement.lockedInputs());
    res.json({
      address: deps.address,
      totalUnits: b.totalUnits.toString(),
      availableUnits: b.availableUnits.toString(),
      claimableUnits: b.claimableUnits.toString(),
      outputs: b.outputs,
      ledgerIndex: b.ledgerIndex,
    });
  });

  app.get('/addresses', needsRead, (_req, res) => {
    res.json({ addresses: [deps.address] });
  });

  // The community market: the book as this household rebuilt it, and its own signed messages.
  app.get('/market', needsRead, async (_req, res) => {
    if (!deps.market)
      throw new HttpError('NOT_FOUND', 'the market is disabled in this service (market.enabled)');
    res.json(await deps.market.book());
  });
  for (const kind of ['sell', 'buy', 'cancel', 'amend', 'ack'] as const) {
    app.post(`/market/${kind}`, needsMarket, jsonBody, async (req, res) => {
      if (!deps.market)
        throw new HttpError('NOT_FOUND', 'the market is disabled in this service (market.enabled)');
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
    });
  }

  app.get('/blocks', needsRead, (req, res) => {
    const limit = z.coerce.number().int().min(1).max(1000).default(100).safeParse(req.query.limit);
    if (!limit.success)
      throw new HttpError('INVALID_REQUEST', 'limit: a whole number from 1 to 1000', 'limit');
    res.json({ tag: PAYMENT_TAG, items: store.postedBlocks(limit.data) });
  });

  // A meter's DID document history, for checking its channel's signatures against the keys it lists.
  app.get('/dids/:did', needsRead, async (req, res) => {
    const did = didParam.safeParse(req.params.did);
    if (!did.success) throw new HttpError('INVALID_REQUEST', `did: ${did.error.issues[0]!.message}`, 'did');
    const query = didQuery.safeParse(req.query);
    if (!query.success) {
      const issue = query.error.issues[0]!;
      const field = issue.path.join('.') || 'origin';
      const message =
        field === 'origin'
          ? 'origin: the output that created the DID alias (0x and 68 hex digits): a ledger without an indexer finds the alias from it'
          : `${field}: ${issue.message}`;
      throw new HttpError('INVALID_REQUEST', message, field);
    }
    res.json(await deps.resolveDid({ did: did.data, originOutputId: query.data.origin }));
  });

  app.get('/outputs', needsRead, (_req, res) => {
    res.json({ ledgerIndex: ledger.ledgerIndex, items: ledger.all().map(outputSummaryToJson) });
  });

  // Network reads for the dashboard: the node's core API, validated and relayed.
  const relay = (path: string, read: (id: string) => Promise<unknown>, param: z.ZodType<string>) => {
    app.get(path, needsRead, async (req, res) => {
      const id = param.safeParse(req.params.id);
      if (!id.success) throw new HttpError('INVALID_REQUEST', `id: ${id.error.issues[0]!.message}`, 'id');
      res.json(await read(id.data));
    });
  };
  app.get('/node/info', needsRead, async (_req, res) => {
    res.json(await node.info());
  });
  app.get('/node/tips', needsRead, async (_req, res) => {
    res.json({ tips: await node.tips() });
  });
  app.get('/node/milestones', needsRead, async (req, res) => {
    const count = z.coerce.number().int().min(1).max(50).default(10).safeParse(req.query.count);
    if (!count.success) throw new HttpError('INVALID_REQUEST', 'count: a whole number from 1 to 50', 'count');
    const latest = (await node.info()).status.confirmedMilestone.index;
    const indexes = Array.from({ length: Math.min(count.data, latest) }, (_, i) => latest - i);
    const items = await Promise.all(indexes.map((i) => node.milestoneByIndex(i).catch(() => undefined)));
    res.json({ items: items.filter(Boolean) });
  });
  app.get('/node/milestones/:id', needsRead, async (req, res) => {
    const id = String(req.params.id);
    if (/^[1-9][0-9]{0,9}$/.test(id)) {
      const index = Number(id);
      // Indexes are uint32: a larger one names no milestone.
      if (index > MAX_MILESTONE_INDEX) throw new HttpError('NOT_FOUND', `no milestone ${index}`);
      return void res.json(await node.milestoneByIndex(index));
    }
    if (!hex32.safeParse(id).success)
      throw new HttpError(
        'INVALID_REQUEST',
        'id: a milestone index (from 1) or a milestone id (0x and 64 hex digits)',
        'id',
      );
    res.json(await node.milestoneById(id));
  });
  relay('/node/blocks/:id', (id) => node.block(id), hex32);
  relay('/node/blocks/:id/metadata', (id) => node.blockMetadata(id), hex32);
  relay('/node/transactions/:id', (id) => node.includedBlock(id), hex32);
  relay('/node/transactions/:id/metadata', (id) => node.includedBlockMetadata(id), hex32);
  app.get('/node/addresses/:address', needsRead, (req, res) => {
    const address = String(req.params.address);
    if (!isBech32Address(address, deps.bech32Hrp)) {
      throw new HttpError(
        'INVALID_REQUEST',
        `address: a bech32 Ed25519 address starting "${deps.bech32Hrp}1"`,
        'address',
      );
    }
    const hex = bech32ToHex(address).toLowerCase();
    const own = hex === ledger.addressHex;
    const items = own ? ledger.all().filter((o) => o.ownerHex === hex) : addresses.unspentOf(hex);
    res.json({
      address,
      ledgerIndex: ledger.ledgerIndex,
      // Outputs older than this milestone are known only for the wallet's own address.
      seenSinceMilestone: own ? null : (addresses.firstMilestone ?? null),
      items: items.map(outputSummaryToJson),
    });
  });
  relay(
    '/node/outputs/:id',
    async (id) => {
      const output = await node.output(id);
      return { ...output, summary: outputSummaryToJson(summarizeOutput(id, output)) };
    },
    outputIdParam,
  );

  // Prometheus scrape: counts and sizes that tell about the household, so it takes a read token too.
  const metrics = deps.metrics ?? new WalletMetrics({ store, ledger, node });
  app.get('/metrics', needsRead, async (_req, res) => {
    const text = await metrics.render();
    res.set({ 'content-type': metrics.contentType, 'cache-control': 'no-store' });
    res.send(text);
  });

  app.get('/events', requireScope(book, 'read', { stream: true }), (req, res) => {
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
  });

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
