import { z } from 'zod';
import { bill, billFormats } from './bills.js';
import { apiError, balance, idempotencyKey, payment, paymentRequest, receivedPayment } from './schemas.js';
import { EXPLORER_SOURCE_HEADER, paymentStates } from './tables.js';

/**
 * The wallet-service's routes, declared once: the service registers a handler for each route id, and its
 * OpenAPI document is generated from the same entries. Path and query schemas here are the ones the
 * handlers validate with; a parameter's description is its schema's.
 */

/** Bounds the routes check and the document states. */
export const MAX_OFFSET = 1_000_000_000;
export const MAX_MILESTONE_INDEX = 4_294_967_295;

export type RouteScope = 'pay' | 'market' | 'read';
/** What a route may answer besides 401/403 (a token is needed), 400/413 (it takes a body) and 421/429/500. */
export type RouteErrorStatus = '400' | '404' | '409' | '413' | '502' | '503';

/** Named schemas of bodies this contract defines. */
export const wireSchemas = {
  PaymentRequest: paymentRequest,
  Payment: payment,
  Balance: balance,
  ReceivedPayment: receivedPayment,
  Bill: bill,
  Error: apiError,
} as const;
/** Market message bodies: @tanglewatt/market defines them and checks them when the service signs one. */
export type MarketBodyName = 'SellOffer' | 'BuyOrder' | 'Cancel' | 'Amend' | 'Ack';
export type SchemaName = keyof typeof wireSchemas | MarketBodyName;

export interface RouteReply {
  description: string;
  /** The body's named schema; without one the description states the JSON. */
  schema?: SchemaName;
  /** Not JSON: CSV, Prometheus text, or a server-sent event stream. */
  media?: 'text/csv' | 'text/plain' | 'text/event-stream' | 'application/pdf';
  /** Further media the route answers with on request (a `format` query parameter). */
  alsoMedia?: ('text/csv' | 'application/pdf')[];
}

export interface RouteSpec {
  method: 'get' | 'post';
  /** Express style: `:name` is a path parameter. */
  path: string;
  /** The token scope the route needs; `public` needs none. */
  scope: RouteScope | 'public';
  /** The token may also come as `?access_token=` (EventSource cannot send headers). */
  stream?: boolean;
  summary: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** A JSON body of this schema (parsed after the token is checked). */
  body?: SchemaName;
  replies: Partial<Record<'200' | '202', RouteReply>>;
  errors?: RouteErrorStatus[];
}

const hex = (digits: number) =>
  z.string().regex(new RegExp(`^0x[0-9a-f]{${digits}}$`), `0x and ${digits} lowercase hex digits`);
export const id32Hex = hex(64);
export const outputIdHex = hex(68);
const count = (max: number, fallback: number, description: string) =>
  z.coerce.number().int().min(1).max(max).default(fallback).describe(description);

/** A time bound: an ISO 8601 date-time with Z or an offset, or a date (its UTC midnight). */
export const timeBound = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

export const paymentsQuery = z.strictObject({
  state: z.enum(paymentStates).optional().describe('only payments in this state'),
  periodId: z
    .string()
    .max(128)
    .optional()
    .describe("only payments for this period (the payment's metadata.periodId)"),
  peer: z.string().max(100).optional().describe('only payments to this payee address'),
  limit: count(500, 100, 'at most this many (default 100)'),
  offset: z.coerce.number().int().min(0).max(MAX_OFFSET).default(0).describe('skip this many (default 0)'),
});

export const paymentsCsvQuery = z
  .strictObject({
    since: timeBound
      .optional()
      .describe(
        'only payments created at or after this time (ISO 8601 time with a zone, or a date: UTC midnight)',
      ),
    until: timeBound
      .optional()
      .describe(
        'only payments created before this time (ISO 8601 time with a zone, or a date: UTC midnight)',
      ),
  })
  .superRefine((q, ctx) => {
    if (q.since && q.until && Date.parse(q.since) > Date.parse(q.until))
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'must not be before since' });
  });
export type PaymentsCsvQuery = z.infer<typeof paymentsCsvQuery>;

export const receivedQuery = z.strictObject({
  limit: count(500, 100, 'at most this many (default 100)'),
  before: outputIdHex.optional().describe("the next page after this outputId (the previous answer's next)"),
});

/** A cycle bound of a bill: a local date in the bill's zone, or an ISO instant with Z or an offset. */
const billBound = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);
export const billsQuery = z.strictObject({
  from: billBound.describe("cycle start: a date YYYY-MM-DD (its midnight in the bill's zone) or an ISO time"),
  to: billBound.describe('cycle end: a date YYYY-MM-DD (included) or an ISO time (excluded)'),
  format: z.enum(billFormats).default('json').describe('json (default), csv or pdf'),
});
export type BillsQuery = z.infer<typeof billsQuery>;

export const blocksQuery = z.object({ limit: count(1000, 100, 'at most this many (default 100)') });
export const milestonesQuery = z.object({ count: count(50, 10, 'how many (default 10)') });

const paymentKey = z.object({ key: idempotencyKey.describe("the payment's idempotencyKey") });

export const didParams = z.object({
  did: z
    .string()
    .regex(/^did:iota:(?:[a-z0-9]{1,6}:)?0x[0-9a-f]{64}$/, 'an IOTA DID, did:iota:<hrp>:0x<alias id>')
    .describe('an IOTA DID, did:iota:<hrp>:0x<alias id>'),
});
export const didQuery = z.strictObject({
  origin: outputIdHex.describe('the output that created the DID alias (found without an indexer)'),
});

const milestoneId = z
  .string()
  .regex(/^(?:[1-9][0-9]{0,9}|0x[0-9a-f]{64})$/)
  .describe(
    `a milestone index (from 1; none above ${MAX_MILESTONE_INDEX} exists) or a milestone id (0x and 64 hex digits)`,
  );

const addressParams = z.object({
  address: z
    .string()
    .regex(/^[a-z]{1,83}1[02-9ac-hj-np-z]{59}$/)
    .describe("a bech32 Ed25519 address of this network (its prefix is the node's bech32Hrp)"),
});

const json = (description: string, schema?: SchemaName): RouteReply =>
  schema ? { description, schema } : { description };

const marketPost = (kind: string, body: MarketBodyName, summary: string): RouteSpec => ({
  method: 'post',
  path: `/market/${kind}`,
  scope: 'market',
  summary: `${summary}: signed with the wallet key and posted as a tagged-data block (404: the market is disabled)`,
  body,
  replies: {
    '202': json('{ messageId, blockId, message }: posted; books take it once a milestone confirms it'),
  },
  errors: ['404', '502', '503'],
});

/** A node read by one id in the path, relayed as the node answers it. */

const nodeRead = (
  path: string,
  summary: string,
  id: z.ZodString,
): RouteSpec & { params: z.ZodObject<{ id: z.ZodString }> } => ({
  method: 'get',
  path,
  scope: 'read',
  summary,
  params: z.object({ id }),
  replies: {
    '200': json(
      `As HORNET core API v2 answers; header ${EXPLORER_SOURCE_HEADER}: node, or indexer when the node pruned it (a milestone from the indexer has its summary, not its parents or Merkle roots)`,
    ),
  },
  errors: ['400', '404', '502', '503'],
});

const nodeJson = (path: string, summary: string, reply: string): RouteSpec => ({
  method: 'get',
  path,
  scope: 'read',
  summary,
  replies: { '200': json(reply) },
  errors: ['502', '503'],
});

/** Every route of the wallet-service, by id, in the order the document lists them. */
export const walletRoutes = {
  pay: {
    method: 'post',
    path: '/payments',
    scope: 'pay',
    summary: 'Pay: durable before acknowledged; the same idempotencyKey is the same payment',
    body: 'PaymentRequest',
    replies: {
      '202': json('New payment queued', 'Payment'),
      '200': json('The payment this key already names', 'Payment'),
    },
    errors: ['409'],
  },
  listPayments: {
    method: 'get',
    path: '/payments',
    scope: 'read',
    summary: 'Payments, newest first',
    query: paymentsQuery,
    replies: { '200': json('{ total, items: Payment[] }') },
    errors: ['400'],
  },
  paymentsCsv: {
    method: 'get',
    path: '/payments.csv',
    scope: 'read',
    summary:
      'Payments as CSV for bookkeeping (RFC 4180, oldest first), one row per output (a payment split by a tariff gives rows for its payee, operator and grid): key, createdAt, role (payee, operator, grid), payee, amount (base units), state, transactionId, blockId, outputId, milestoneIndex, includedAt (the milestone time)',
    query: paymentsCsvQuery,
    replies: { '200': { description: 'The CSV file', media: 'text/csv' } },
    errors: ['400'],
  },
  payment: {
    method: 'get',
    path: '/payments/:key',
    scope: 'read',
    summary: 'One payment by idempotency key',
    params: paymentKey,
    replies: { '200': json('The payment', 'Payment') },
    errors: ['400', '404'],
  },
  receivedPayments: {
    method: 'get',
    path: '/received-payments',
    scope: 'read',
    summary:
      "Payments received, newest first, from the ledger: sender, the payer's key and period when its transaction's description names them, amount, output, transaction, milestone, and a micro-payment's claim",
    query: receivedQuery,
    replies: {
      '200': json(
        '{ total, items: ReceivedPayment[], next: outputId | null, since: the milestone this history began at (earlier payments are listed only if still unspent then) }',
      ),
    },
    errors: ['400'],
  },
  bills: {
    method: 'get',
    path: '/bills',
    scope: 'read',
    summary:
      "This household's bill for a cycle, built from the community indexer (the ledger's payments and the meter channels, not this service's own records): energy per band bought and sold, paid, earned, fees, savings against the retail baseline, self-sufficiency, CO2 avoided, a line per paid period (409: no indexer configured)",
    query: billsQuery,
    replies: {
      '200': {
        ...json('The bill (format=csv: RFC 4180 CSV; format=pdf: a PDF)', 'Bill'),
        alsoMedia: ['text/csv', 'application/pdf'],
      },
    },
    errors: ['400', '409', '502', '503'],
  },
  cancelPayment: {
    method: 'post',
    path: '/payments/:key/cancel',
    scope: 'pay',
    summary: 'Cancel a payment no transaction carries yet (cancelling again answers the same)',
    params: paymentKey,
    replies: { '200': json('The payment, now cancelled', 'Payment') },
    errors: ['400', '404', '409'],
  },
  claim: {
    method: 'post',
    path: '/claims',
    scope: 'pay',
    summary: 'Claim received micro-payments now (also runs on a schedule)',
    replies: { '202': json('{ requested: true }') },
  },
  balance: {
    method: 'get',
    path: '/balance',
    scope: 'read',
    summary: "The wallet's balance",
    replies: { '200': json('Balance', 'Balance') },
  },
  addresses: {
    method: 'get',
    path: '/addresses',
    scope: 'read',
    summary: "The wallet's addresses",
    replies: { '200': json('{ addresses: string[] }') },
  },
  blocks: {
    method: 'get',
    path: '/blocks',
    scope: 'read',
    summary: 'Blocks this service posted (its tagged payment blocks), newest first',
    query: blocksQuery,
    replies: { '200': json('{ tag, items: { blockId, transactionId, kind, state }[] }') },
    errors: ['400'],
  },
  did: {
    method: 'get',
    path: '/dids/:did',
    scope: 'read',
    summary:
      "A meter DID's document history from the ledger: each version with the milestones it was in force between and its Ed25519 verification methods (to check the meter's channel signatures)",
    params: didParams,
    query: didQuery,
    replies: {
      '200': json(
        '{ did, originOutputId, aliasId, versions: { outputId, fromMilestone, untilMilestone?, deactivated, methods: { id, publicKey }[] }[], document }',
      ),
    },
    errors: ['400', '404', '502', '503'],
  },
  outputs: {
    method: 'get',
    path: '/outputs',
    scope: 'read',
    summary: 'Outputs the wallet owns or is owed',
    replies: { '200': json('{ ledgerIndex, items }') },
  },
  market: {
    method: 'get',
    path: '/market',
    scope: 'read',
    summary:
      "The community market as this household rebuilt it from the milestones: orders, trades, acks, rejections with reasons, and each trade's payments on the ledger (settlements)",
    replies: {
      '200': json(
        '{ market, rule, nowMs, ledgerIndex, orders, trades, acks, accepted, pending, rejections, settlements }',
      ),
    },
    errors: ['404', '502', '503'],
  },
  marketSell: marketPost(
    'sell',
    'SellOffer',
    'Offer energy: Wh, price in base units per Wh, delivery window, minimum lot, optional payee',
  ),
  marketBuy: marketPost('buy', 'BuyOrder', 'Ask for energy: Wh, highest price, window'),
  marketCancel: marketPost('cancel', 'Cancel', "Cancel one of this household's open orders"),
  marketAmend: marketPost('amend', 'Amend', "Change an open order's energy or price"),
  marketAck: marketPost('ack', 'Ack', 'Acknowledge a trade this household is party to'),
  events: {
    method: 'get',
    path: '/events',
    scope: 'read',
    stream: true,
    summary:
      'Live feed (server-sent events): node, milestone, tips, payment (sent), received (a ReceivedPayment: when it arrives, and again when a micro-payment is claimed or returned)',
    replies: { '200': { description: 'The stream', media: 'text/event-stream' } },
  },
  metrics: {
    method: 'get',
    path: '/metrics',
    scope: 'read',
    summary:
      'Prometheus metrics (text exposition format): payments, settlement latency, transactions, queue, journals, node',
    replies: { '200': { description: 'Prometheus text format 0.0.4', media: 'text/plain' } },
  },
  health: {
    method: 'get',
    path: '/health',
    scope: 'public',
    summary: 'Liveness and node sync (public: it says nothing about the household)',
    replies: { '200': json('{ ok, nodeSynced, ledgerIndex }') },
  },
  openapi: {
    method: 'get',
    path: '/openapi.json',
    scope: 'public',
    summary: 'This document (public: the same as in the source repository)',
    replies: { '200': json('OpenAPI 3.1') },
  },
  nodeInfo: nodeJson('/node/info', "The node's info", 'HORNET /api/core/v2/info'),
  nodeTips: nodeJson('/node/tips', 'Current tips', '{ tips: string[] }'),
  nodeMilestones: {
    method: 'get',
    path: '/node/milestones',
    scope: 'read',
    summary: 'Latest confirmed milestones',
    query: milestonesQuery,
    replies: { '200': json('{ items }') },
    errors: ['400', '502', '503'],
  },
  nodeMilestone: nodeRead('/node/milestones/:id', 'A milestone', milestoneId),
  nodeBlock: nodeRead('/node/blocks/:id', 'A block', id32Hex.describe('block id')),
  nodeBlockMetadata: nodeRead(
    '/node/blocks/:id/metadata',
    "A block's metadata",
    id32Hex.describe('block id'),
  ),
  nodeTransaction: nodeRead(
    '/node/transactions/:id',
    'The block that included a transaction',
    id32Hex.describe('transaction id'),
  ),
  nodeTransactionMetadata: nodeRead(
    '/node/transactions/:id/metadata',
    "That block's metadata",
    id32Hex.describe('transaction id'),
  ),
  nodeAddress: {
    method: 'get',
    path: '/node/addresses/:address',
    scope: 'read',
    summary:
      "An address's unspent outputs (the wallet's own: all; others: those seen since the service started)",
    params: addressParams,
    replies: { '200': json('{ address, ledgerIndex, seenSinceMilestone, items }') },
    errors: ['400'],
  },
  nodeOutput: nodeRead(
    '/node/outputs/:id',
    'An output with its metadata and a readable summary',
    outputIdHex.describe('output id (0x and 68 hex digits)'),
  ),
} satisfies Record<string, RouteSpec>;

export type WalletRouteId = keyof typeof walletRoutes;
