import { ackBody, amendBody, buyBody, cancelBody, sellBody } from '@tanglewatt/market';
import { apiError, balance, payment, paymentRequest, paymentStates } from '@tanglewatt/payments-api';
import { z } from 'zod';

/**
 * The OpenAPI 3.1 description of the API, generated from the same zod schemas that validate requests
 * (OpenAPI 3.1 schemas are JSON Schema 2020-12, which zod emits).
 */
export function openApiDocument(): Record<string, unknown> {
  const schema = (s: z.ZodType) =>
    z.toJSONSchema(s, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
  const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
  const errors = {
    '400': {
      description: 'Invalid request: the message names the field and what is allowed',
      content: json('Error'),
    },
    '401': { description: 'Missing or wrong bearer token', content: json('Error') },
    '429': { description: 'Rate limited', content: json('Error') },
  };
  const id = (description: string) => [
    { name: 'id', in: 'path', required: true, description, schema: { type: 'string' } },
  ];
  const nodeRead = (summary: string, description: string) => ({
    get: {
      summary,
      parameters: id(description),
      responses: {
        '200': { description: 'As HORNET core API v2 answers' },
        '404': { description: 'Not found', content: json('Error') },
      },
    },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'TangleWatt wallet-service',
      version: '0.1.0',
      description:
        'Key custody and exactly-once settlement of energy payments on a private IOTA Stardust tangle. Mutating routes need `Authorization: Bearer <token>`; reads too unless the service is configured with public reads.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        PaymentRequest: schema(paymentRequest),
        Payment: schema(payment),
        Balance: schema(balance),
        Error: schema(apiError),
        SellOffer: schema(sellBody),
        BuyOrder: schema(buyBody),
        Cancel: schema(cancelBody),
        Amend: schema(amendBody),
        Ack: schema(ackBody),
      },
    },
    paths: {
      '/payments': {
        post: {
          summary: 'Pay: durable before acknowledged; the same idempotencyKey is the same payment',
          security: [{ bearer: [] }],
          requestBody: { required: true, content: json('PaymentRequest') },
          responses: {
            '202': { description: 'New payment queued', content: json('Payment') },
            '200': { description: 'The payment this key already names', content: json('Payment') },
            '409': { description: 'The key names a different payment', content: json('Error') },
            ...errors,
          },
        },
        get: {
          summary: 'Payments, newest first',
          parameters: [
            {
              name: 'state',
              in: 'query',
              schema: { type: 'string', enum: [...paymentStates] },
            },
            { name: 'periodId', in: 'query', schema: { type: 'string' } },
            { name: 'peer', in: 'query', description: 'payee address', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500 } },
            { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0 } },
          ],
          responses: { '200': { description: '{ total, items: Payment[] }' } },
        },
      },
      '/payments/{key}': {
        get: {
          summary: 'One payment by idempotency key',
          parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'The payment', content: json('Payment') },
            '404': { description: 'Unknown key', content: json('Error') },
          },
        },
      },
      '/payments/{key}/cancel': {
        post: {
          summary: 'Cancel a payment no transaction carries yet (cancelling again answers the same)',
          security: [{ bearer: [] }],
          parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'The payment, now cancelled', content: json('Payment') },
            '404': { description: 'Unknown key', content: json('Error') },
            '409': {
              description: 'Already signed, included or failed: it can no longer be cancelled',
              content: json('Error'),
            },
            ...errors,
          },
        },
      },
      '/claims': {
        post: {
          summary: 'Claim received micro-payments now (also runs on a schedule)',
          security: [{ bearer: [] }],
          responses: { '202': { description: 'Requested' } },
        },
      },
      '/balance': {
        get: {
          summary: "The wallet's balance",
          responses: { '200': { description: 'Balance', content: json('Balance') } },
        },
      },
      '/addresses': {
        get: {
          summary: "The wallet's addresses",
          responses: { '200': { description: '{ addresses: string[] }' } },
        },
      },
      '/blocks': {
        get: {
          summary: 'Blocks this service posted (its tagged payment blocks), newest first',
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
          ],
          responses: { '200': { description: '{ tag, items: { blockId, transactionId, kind, state }[] }' } },
        },
      },
      '/outputs': {
        get: {
          summary: 'Outputs the wallet owns or is owed',
          responses: { '200': { description: '{ ledgerIndex, items }' } },
        },
      },
      '/market': {
        get: {
          summary:
            "The community market as this household rebuilt it from the milestones: orders, trades, acks, rejections with reasons, and each trade's payments on the ledger (settlements)",
          responses: {
            '200': {
              description:
                '{ market, rule, nowMs, ledgerIndex, orders, trades, acks, accepted, pending, rejections, settlements }',
            },
            '404': { description: 'The market is disabled in this service', content: json('Error') },
          },
        },
      },
      '/market/sell': {
        post: {
          summary:
            'Offer energy: Wh, price in base units per Wh, delivery window, minimum lot, optional payee: signed with the wallet key and posted as a tagged-data block',
          security: [{ bearer: [] }],
          requestBody: { required: true, content: json('SellOffer') },
          responses: {
            '202': {
              description:
                '{ messageId, blockId, message }: posted; books take it once a milestone confirms it',
            },
            ...errors,
          },
        },
      },
      '/market/buy': {
        post: {
          summary:
            'Ask for energy: Wh, highest price, window: signed with the wallet key and posted as a tagged-data block',
          security: [{ bearer: [] }],
          requestBody: { required: true, content: json('BuyOrder') },
          responses: {
            '202': {
              description:
                '{ messageId, blockId, message }: posted; books take it once a milestone confirms it',
            },
            ...errors,
          },
        },
      },
      '/market/cancel': {
        post: {
          summary:
            "Cancel one of this household's open orders: signed with the wallet key and posted as a tagged-data block",
          security: [{ bearer: [] }],
          requestBody: { required: true, content: json('Cancel') },
          responses: {
            '202': {
              description:
                '{ messageId, blockId, message }: posted; books take it once a milestone confirms it',
            },
            ...errors,
          },
        },
      },
      '/market/amend': {
        post: {
          summary:
            "Change an open order's energy or price: signed with the wallet key and posted as a tagged-data block",
          security: [{ bearer: [] }],
          requestBody: { required: true, content: json('Amend') },
          responses: {
            '202': {
              description:
                '{ messageId, blockId, message }: posted; books take it once a milestone confirms it',
            },
            ...errors,
          },
        },
      },
      '/market/ack': {
        post: {
          summary:
            'Acknowledge a trade this household is party to: signed with the wallet key and posted as a tagged-data block',
          security: [{ bearer: [] }],
          requestBody: { required: true, content: json('Ack') },
          responses: {
            '202': {
              description:
                '{ messageId, blockId, message }: posted; books take it once a milestone confirms it',
            },
            ...errors,
          },
        },
      },
      '/events': {
        get: {
          summary: 'Live feed (server-sent events): node, milestone, tips, payment',
          responses: { '200': { description: 'text/event-stream' } },
        },
      },
      '/health': {
        get: {
          summary: 'Liveness and node sync',
          responses: { '200': { description: '{ ok, nodeSynced, ledgerIndex }' } },
        },
      },
      '/node/info': {
        get: {
          summary: "The node's info",
          responses: { '200': { description: 'HORNET /api/core/v2/info' } },
        },
      },
      '/node/tips': {
        get: { summary: 'Current tips', responses: { '200': { description: '{ tips: string[] }' } } },
      },
      '/node/milestones': {
        get: {
          summary: 'Latest confirmed milestones',
          parameters: [{ name: 'count', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 50 } }],
          responses: { '200': { description: '{ items }' } },
        },
      },
      '/node/milestones/{id}': nodeRead('A milestone', 'milestone index or milestone id'),
      '/node/blocks/{id}': nodeRead('A block', 'block id'),
      '/node/blocks/{id}/metadata': nodeRead("A block's metadata", 'block id'),
      '/node/transactions/{id}': nodeRead('The block that included a transaction', 'transaction id'),
      '/node/transactions/{id}/metadata': nodeRead("That block's metadata", 'transaction id'),
      '/node/addresses/{id}': nodeRead(
        "An address's unspent outputs (the wallet's own: all; others: those seen since the service started)",
        'bech32 address',
      ),
      '/node/outputs/{id}': nodeRead('An output with its metadata and a readable summary', 'output id'),
    },
  };
}

/** The committed copy of the document, kept in step by `npm run openapi` and checked by a test. */
export const OPENAPI_FILE = new URL('../openapi.json', import.meta.url).pathname;
