import {
  apiError,
  balance,
  idempotencyKey,
  payment,
  paymentRequest,
  paymentStates,
  receivedPayment,
} from '@tanglewatt/contract';
import { ackBody, amendBody, buyBody, cancelBody, sellBody } from '@tanglewatt/market';
import { z } from 'zod';
import { timeBound } from './csv.js';

/** Bounds the API and this document share. */
export const MAX_OFFSET = 1_000_000_000;
export const MAX_MILESTONE_INDEX = 4_294_967_295;

type Scope = 'pay' | 'market' | 'read';
type Status = '200' | '202' | '400' | '404' | '409' | '413' | '502' | '503';

/** What each status means on every route that can answer it; the body is always an Error. */
const errorMeaning: Record<string, string> = {
  '400': 'Invalid request: the message names the field (`error.field`) and what is allowed',
  '401': 'Missing or unknown bearer token',
  '403': 'The token lacks the scope this route needs (the message names it)',
  '404': 'Not found (GET /dids/{did}: DID_UNRESOLVED, the message says why)',
  '409': 'The idempotencyKey names a different payment',
  '413': 'Body larger than api.maxBodyBytes',
  '421': 'The Host header is not a name of this server (api.allowedHosts)',
  '429': 'Rate limited (api.rateLimitPerMinute per client)',
  '500': 'Internal error: see the service log',
  '502': 'The node answered with an error',
  '503': 'The node cannot be reached',
};

/**
 * What a zod refinement checks, which zod cannot emit as JSON Schema: merged into the generated schema so the
 * document says all the request schema allows (a test compares them with examples).
 */
function withRefinements(
  generated: Record<string, unknown>,
  extra: { properties?: Record<string, Record<string, unknown>>; anyOf?: unknown[] },
): Record<string, unknown> {
  const properties = { ...(generated.properties as Record<string, Record<string, unknown>>) };
  for (const [name, patch] of Object.entries(extra.properties ?? {}))
    properties[name] = { ...properties[name], ...patch };
  return { ...generated, properties, ...(extra.anyOf ? { anyOf: extra.anyOf } : {}) };
}

/**
 * The OpenAPI 3.1 description of the API, generated from the same zod schemas that validate requests
 * (OpenAPI 3.1 schemas are JSON Schema 2020-12, which zod emits). Every route lists every status it can
 * answer; the scope a route needs is its security requirement (and `x-scope`).
 */
export function openApiDocument(): Record<string, unknown> {
  const schema = (s: z.ZodType) =>
    z.toJSONSchema(s, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const json = (name?: string) => ({ 'application/json': { schema: name ? ref(name) : {} } });
  const ok = (description: string, body?: string) => ({ description, content: json(body) });
  const path = (name: string, description: string, s: Record<string, unknown>) => ({
    name,
    in: 'path',
    required: true,
    description,
    schema: s,
  });
  const query = (name: string, description: string, s: Record<string, unknown>) => ({
    name,
    in: 'query',
    required: false,
    description,
    schema: s,
  });
  const hex = (digits: number) => ({ type: 'string', pattern: `^0x[0-9a-f]{${digits}}$` });

  const op = (o: {
    summary: string;
    scope: Scope | 'public';
    responses: Record<string, unknown>;
    errors?: Status[];
    parameters?: unknown[];
    body?: string;
    stream?: boolean;
  }) => {
    const statuses: string[] = [...(o.errors ?? [])];
    if (o.body) statuses.push('400', '413');
    if (o.scope !== 'public') statuses.push('401', '403');
    statuses.push('421', '429', '500');
    const errors = Object.fromEntries(
      [...new Set(statuses)].sort().map((s) => [s, { description: errorMeaning[s], content: json('Error') }]),
    );
    return {
      summary: o.summary,
      ...(o.scope === 'public'
        ? { security: [] }
        : {
            'x-scope': o.scope,
            security: o.stream
              ? [{ bearer: [o.scope] }, { accessToken: [o.scope] }]
              : [{ bearer: [o.scope] }],
          }),
      ...(o.parameters ? { parameters: o.parameters } : {}),
      ...(o.body ? { requestBody: { required: true, content: json(o.body) } } : {}),
      responses: { ...o.responses, ...errors },
    };
  };
  const posted = {
    '202': ok('{ messageId, blockId, message }: posted; books take it once a milestone confirms it'),
  };
  const marketPost = (summary: string, body: string) => ({
    post: op({ summary, scope: 'market', body, responses: posted, errors: ['404', '502', '503'] }),
  });
  const nodeRead = (summary: string, name: string, description: string, s: Record<string, unknown>) => ({
    get: op({
      summary,
      scope: 'read',
      parameters: [path(name, description, s)],
      responses: { '200': ok('As HORNET core API v2 answers') },
      errors: ['400', '404', '502', '503'],
    }),
  });

  return {
    openapi: '3.1.0',
    info: {
      title: 'TangleWatt wallet-service',
      version: '0.2.0',
      description: [
        'Key custody and exactly-once settlement of energy payments on a private IOTA Stardust tangle.',
        'Every route but /health and /openapi.json needs `Authorization: Bearer <token>` with the scope the route names (`x-scope`, and the role in its security requirement): `pay`, `market` or `read`. No or an unknown token: 401; a token without the scope: 403.',
        'GET /events also takes the token as `?access_token=` (EventSource cannot send headers).',
        'A Host header that is not a name of this server: 421. A method a known path does not have: 405 with `Allow`. An unknown path: 404. Every error body is `{ error: { code, message, field? } }`.',
      ].join(' '),
    },
    security: [{ bearer: ['read'] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token from api.tokens (or the api token)' },
        accessToken: {
          type: 'apiKey',
          in: 'query',
          name: 'access_token',
          description: 'The same token, for GET /events only',
        },
      },
      schemas: {
        PaymentRequest: withRefinements(schema(paymentRequest), {
          properties: { amount: { pattern: '^[1-9][0-9]*$' } },
        }),
        Payment: schema(payment),
        Balance: schema(balance),
        ReceivedPayment: schema(receivedPayment),
        Error: schema(apiError),
        SellOffer: schema(sellBody),
        BuyOrder: schema(buyBody),
        Cancel: schema(cancelBody),
        Amend: withRefinements(schema(amendBody), {
          anyOf: [{ required: ['energyWh'] }, { required: ['priceUnitsPerWh'] }],
        }),
        Ack: schema(ackBody),
      },
    },
    paths: {
      '/payments': {
        post: op({
          summary: 'Pay: durable before acknowledged; the same idempotencyKey is the same payment',
          scope: 'pay',
          body: 'PaymentRequest',
          responses: {
            '202': ok('New payment queued', 'Payment'),
            '200': ok('The payment this key already names', 'Payment'),
          },
          errors: ['409'],
        }),
        get: op({
          summary: 'Payments, newest first',
          scope: 'read',
          parameters: [
            query('state', 'only payments in this state', { type: 'string', enum: [...paymentStates] }),
            query('periodId', "only payments for this period (the payment's metadata.periodId)", {
              type: 'string',
              maxLength: 128,
            }),
            query('peer', 'only payments to this payee address', { type: 'string', maxLength: 100 }),
            query('limit', 'at most this many (default 100)', { type: 'integer', minimum: 1, maximum: 500 }),
            query('offset', 'skip this many (default 0)', {
              type: 'integer',
              minimum: 0,
              maximum: MAX_OFFSET,
            }),
          ],
          responses: { '200': ok('{ total, items: Payment[] }') },
          errors: ['400'],
        }),
      },
      '/payments.csv': {
        get: op({
          summary:
            'Payments as CSV for bookkeeping (RFC 4180, oldest first): key, createdAt, payee, amount (base units), state, transactionId, blockId, milestoneIndex, includedAt (the milestone time)',
          scope: 'read',
          parameters: [
            query(
              'since',
              'only payments created at or after this time (ISO 8601 time with a zone, or a date: UTC midnight)',
              schema(timeBound),
            ),
            query(
              'until',
              'only payments created before this time (ISO 8601 time with a zone, or a date: UTC midnight)',
              schema(timeBound),
            ),
          ],
          responses: {
            '200': { description: 'The CSV file', content: { 'text/csv': { schema: { type: 'string' } } } },
          },
          errors: ['400'],
        }),
      },
      '/payments/{key}': {
        get: op({
          summary: 'One payment by idempotency key',
          scope: 'read',
          parameters: [path('key', "the payment's idempotencyKey", schema(idempotencyKey))],
          responses: { '200': ok('The payment', 'Payment') },
          errors: ['400', '404'],
        }),
      },
      '/received-payments': {
        get: op({
          summary:
            "Payments received, newest first, from the ledger: sender, the payer's key and period when its transaction's description names them, amount, output, transaction, milestone, and a micro-payment's claim",
          scope: 'read',
          parameters: [
            query('limit', 'at most this many (default 100)', { type: 'integer', minimum: 1, maximum: 500 }),
            query('before', "the next page after this outputId (the previous answer's next)", hex(68)),
          ],
          responses: {
            '200': ok(
              '{ total, items: ReceivedPayment[], next: outputId | null, since: the milestone this history began at (earlier payments are listed only if still unspent then) }',
            ),
          },
          errors: ['400'],
        }),
      },
      '/payments/{key}/cancel': {
        post: op({
          summary: 'Cancel a payment no transaction carries yet (cancelling again answers the same)',
          scope: 'pay',
          parameters: [path('key', "the payment's idempotencyKey", schema(idempotencyKey))],
          responses: { '200': ok('The payment, now cancelled', 'Payment') },
          errors: ['400', '404', '409', '413'],
        }),
      },
      '/claims': {
        post: op({
          summary: 'Claim received micro-payments now (also runs on a schedule)',
          scope: 'pay',
          responses: { '202': ok('{ requested: true }') },
        }),
      },
      '/balance': {
        get: op({
          summary: "The wallet's balance",
          scope: 'read',
          responses: { '200': ok('Balance', 'Balance') },
        }),
      },
      '/addresses': {
        get: op({
          summary: "The wallet's addresses",
          scope: 'read',
          responses: { '200': ok('{ addresses: string[] }') },
        }),
      },
      '/blocks': {
        get: op({
          summary: 'Blocks this service posted (its tagged payment blocks), newest first',
          scope: 'read',
          parameters: [
            query('limit', 'at most this many (default 100)', { type: 'integer', minimum: 1, maximum: 1000 }),
          ],
          responses: { '200': ok('{ tag, items: { blockId, transactionId, kind, state }[] }') },
          errors: ['400'],
        }),
      },
      '/dids/{did}': {
        get: op({
          summary:
            "A meter DID's document history from the ledger: each version with the milestones it was in force between and its Ed25519 verification methods (to check the meter's channel signatures)",
          scope: 'read',
          parameters: [
            path('did', 'an IOTA DID, did:iota:<hrp>:0x<alias id>', {
              type: 'string',
              pattern: '^did:iota:(?:[a-z0-9]{1,6}:)?0x[0-9a-f]{64}$',
            }),
            {
              ...query('origin', 'the output that created the DID alias (found without an indexer)', hex(68)),
              required: true,
            },
          ],
          responses: {
            '200': ok(
              '{ did, originOutputId, aliasId, versions: { outputId, fromMilestone, untilMilestone?, deactivated, methods: { id, publicKey }[] }[], document }',
            ),
          },
          errors: ['400', '404', '502', '503'],
        }),
      },
      '/outputs': {
        get: op({
          summary: 'Outputs the wallet owns or is owed',
          scope: 'read',
          responses: { '200': ok('{ ledgerIndex, items }') },
        }),
      },
      '/market': {
        get: op({
          summary:
            "The community market as this household rebuilt it from the milestones: orders, trades, acks, rejections with reasons, and each trade's payments on the ledger (settlements)",
          scope: 'read',
          responses: {
            '200': ok(
              '{ market, rule, nowMs, ledgerIndex, orders, trades, acks, accepted, pending, rejections, settlements }',
            ),
          },
          errors: ['404', '502', '503'],
        }),
      },
      '/market/sell': marketPost(
        'Offer energy: Wh, price in base units per Wh, delivery window, minimum lot, optional payee: signed with the wallet key and posted as a tagged-data block (404: the market is disabled)',
        'SellOffer',
      ),
      '/market/buy': marketPost(
        'Ask for energy: Wh, highest price, window: signed with the wallet key and posted as a tagged-data block (404: the market is disabled)',
        'BuyOrder',
      ),
      '/market/cancel': marketPost(
        "Cancel one of this household's open orders: signed with the wallet key and posted as a tagged-data block (404: the market is disabled)",
        'Cancel',
      ),
      '/market/amend': marketPost(
        "Change an open order's energy or price: signed with the wallet key and posted as a tagged-data block (404: the market is disabled)",
        'Amend',
      ),
      '/market/ack': marketPost(
        'Acknowledge a trade this household is party to: signed with the wallet key and posted as a tagged-data block (404: the market is disabled)',
        'Ack',
      ),
      '/events': {
        get: op({
          summary:
            'Live feed (server-sent events): node, milestone, tips, payment (sent), received (a ReceivedPayment: when it arrives, and again when a micro-payment is claimed or returned)',
          scope: 'read',
          stream: true,
          responses: {
            '200': { description: 'The stream', content: { 'text/event-stream': { schema: {} } } },
          },
        }),
      },
      '/metrics': {
        get: op({
          summary:
            'Prometheus metrics (text exposition format): payments, settlement latency, transactions, queue, journals, node',
          scope: 'read',
          responses: {
            '200': {
              description: 'Prometheus text format 0.0.4',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        }),
      },
      '/health': {
        get: op({
          summary: 'Liveness and node sync (public: it says nothing about the household)',
          scope: 'public',
          responses: { '200': ok('{ ok, nodeSynced, ledgerIndex }') },
        }),
      },
      '/openapi.json': {
        get: op({
          summary: 'This document (public: the same as in the source repository)',
          scope: 'public',
          responses: { '200': ok('OpenAPI 3.1') },
        }),
      },
      '/node/info': {
        get: op({
          summary: "The node's info",
          scope: 'read',
          responses: { '200': ok('HORNET /api/core/v2/info') },
          errors: ['502', '503'],
        }),
      },
      '/node/tips': {
        get: op({
          summary: 'Current tips',
          scope: 'read',
          responses: { '200': ok('{ tips: string[] }') },
          errors: ['502', '503'],
        }),
      },
      '/node/milestones': {
        get: op({
          summary: 'Latest confirmed milestones',
          scope: 'read',
          parameters: [query('count', 'how many (default 10)', { type: 'integer', minimum: 1, maximum: 50 })],
          responses: { '200': ok('{ items }') },
          errors: ['400', '502', '503'],
        }),
      },
      '/node/milestones/{id}': nodeRead(
        'A milestone',
        'id',
        `a milestone index (from 1; none above ${MAX_MILESTONE_INDEX} exists) or a milestone id (0x and 64 hex digits)`,
        { type: 'string', pattern: '^(?:[1-9][0-9]{0,9}|0x[0-9a-f]{64})$' },
      ),
      '/node/blocks/{id}': nodeRead('A block', 'id', 'block id', hex(64)),
      '/node/blocks/{id}/metadata': nodeRead("A block's metadata", 'id', 'block id', hex(64)),
      '/node/transactions/{id}': nodeRead(
        'The block that included a transaction',
        'id',
        'transaction id',
        hex(64),
      ),
      '/node/transactions/{id}/metadata': nodeRead("That block's metadata", 'id', 'transaction id', hex(64)),
      '/node/addresses/{address}': {
        get: op({
          summary:
            "An address's unspent outputs (the wallet's own: all; others: those seen since the service started)",
          scope: 'read',
          parameters: [
            path('address', "a bech32 Ed25519 address of this network (its prefix is the node's bech32Hrp)", {
              type: 'string',
              pattern: '^[a-z]{1,83}1[02-9ac-hj-np-z]{59}$',
            }),
          ],
          responses: { '200': ok('{ address, ledgerIndex, seenSinceMilestone, items }') },
          errors: ['400'],
        }),
      },
      '/node/outputs/{id}': nodeRead(
        'An output with its metadata and a readable summary',
        'id',
        'output id (0x and 68 hex digits)',
        hex(68),
      ),
    },
  };
}

/** The committed copy of the document, kept in step by `npm run openapi` and checked by a test. */
export const OPENAPI_FILE = new URL('../openapi.json', import.meta.url).pathname;
