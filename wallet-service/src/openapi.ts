import {
  type MarketBodyName,
  type RouteReply,
  type RouteSpec,
  type SchemaName,
  walletRoutes,
  wireSchemas,
} from '@tanglewatt/contract';
import { ackBody, amendBody, buyBody, cancelBody, sellBody } from '@tanglewatt/market';
import { z } from 'zod';

/** What each status means on every route that can answer it; the body is always an Error. */
const errorMeaning: Record<string, string> = {
  '400': 'Invalid request: the message names the field (`error.field`) and what is allowed',
  '401': 'Missing or unknown bearer token',
  '403': 'The token lacks the scope this route needs (the message names it)',
  '404': 'Not found (GET /dids/{did}: DID_UNRESOLVED, the message says why)',
  '409':
    'The idempotencyKey names a different payment (POST /payments), or a part the route needs is not configured (GET /bills: indexer, bills)',
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

/** Schemas a route names that the market package defines (it checks them when it signs a message). */
const marketBodies: Record<MarketBodyName, z.ZodType> = {
  SellOffer: sellBody,
  BuyOrder: buyBody,
  Cancel: cancelBody,
  Amend: amendBody,
  Ack: ackBody,
};

const jsonSchema = (s: z.ZodType) =>
  z.toJSONSchema(s, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;

/** The named schemas, as JSON Schema, with what refinements check written in. */
function components(): Record<SchemaName, Record<string, unknown>> {
  const named = { ...wireSchemas, ...marketBodies };
  const out = Object.fromEntries(Object.entries(named).map(([name, s]) => [name, jsonSchema(s)]));
  return {
    ...out,
    PaymentRequest: withRefinements(out.PaymentRequest!, {
      properties: { amount: { pattern: '^[1-9][0-9]*$' } },
    }),
    Amend: withRefinements(out.Amend!, {
      anyOf: [{ required: ['energyWh'] }, { required: ['priceUnitsPerWh'] }],
    }),
  } as Record<SchemaName, Record<string, unknown>>;
}

/** One OpenAPI parameter per property of a path or query schema; the property's description is the parameter's. */
function parameters(where: 'path' | 'query', object: z.ZodObject | undefined): unknown[] {
  if (!object) return [];
  const generated = jsonSchema(object) as {
    properties: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(generated.properties).map(([name, { description, ...schema }]) => ({
    name,
    in: where,
    required: where === 'path' || (generated.required ?? []).includes(name),
    description,
    schema,
  }));
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const mediaSchema = {
  'text/csv': { type: 'string' },
  'text/plain': { type: 'string' },
  'text/event-stream': {},
  'application/pdf': { type: 'string', format: 'binary' },
};

function reply(r: RouteReply): Record<string, unknown> {
  const content = r.media
    ? { [r.media]: { schema: mediaSchema[r.media] } }
    : { 'application/json': { schema: r.schema ? ref(r.schema) : {} } };
  for (const media of r.alsoMedia ?? []) Object.assign(content, { [media]: { schema: mediaSchema[media] } });
  return { description: r.description, content };
}

/** Every status a route can answer: its own, and those its token, body and the server add. */
function operation(route: RouteSpec): Record<string, unknown> {
  const statuses: string[] = [...(route.errors ?? [])];
  if (route.body) statuses.push('400', '413');
  if (route.scope !== 'public') statuses.push('401', '403');
  statuses.push('421', '429', '500');
  const errors = Object.fromEntries(
    [...new Set(statuses)]
      .sort()
      .map((s) => [
        s,
        { description: errorMeaning[s], content: { 'application/json': { schema: ref('Error') } } },
      ]),
  );
  const params = [...parameters('path', route.params), ...parameters('query', route.query)];
  return {
    summary: route.summary,
    ...(route.scope === 'public'
      ? { security: [] }
      : {
          'x-scope': route.scope,
          security: route.stream
            ? [{ bearer: [route.scope] }, { accessToken: [route.scope] }]
            : [{ bearer: [route.scope] }],
        }),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: ref(route.body) } } } }
      : {}),
    responses: {
      ...Object.fromEntries(Object.entries(route.replies).map(([status, r]) => [status, reply(r)])),
      ...errors,
    },
  };
}

/**
 * The OpenAPI 3.1 description of the API, generated from the route table the service registers its
 * handlers from, and from the zod schemas that validate requests (OpenAPI 3.1 schemas are JSON Schema
 * 2020-12, which zod emits). Every route lists every status it can answer; the scope a route needs is its
 * security requirement (and `x-scope`).
 */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of Object.values(walletRoutes) as RouteSpec[]) {
    const path = route.path.replace(/:([a-z]+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method]: operation(route) };
  }
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
      schemas: components(),
    },
    paths,
  };
}

/** The committed copy of the document, kept in step by `npm run openapi` and checked by a test. */
export const OPENAPI_FILE = new URL('../openapi.json', import.meta.url).pathname;
