import { describe, expect, it } from 'vitest';
import { type RouteSpec, walletRoutes } from './routes.js';

const routes = Object.entries(walletRoutes as Record<string, RouteSpec>);

describe('the wallet-service route table', () => {
  it('names each method and path once', () => {
    const keys = routes.map(([, r]) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('gives every path parameter a schema, and a schema only to path parameters', () => {
    for (const [id, route] of routes) {
      const inPath = [...route.path.matchAll(/:([a-z]+)/g)].map((m) => m[1]);
      expect(Object.keys(route.params?.shape ?? {}), id).toEqual(inPath);
    }
  });

  it('describes every parameter', () => {
    for (const [id, route] of routes)
      for (const part of [route.params, route.query])
        for (const [name, schema] of Object.entries(part?.shape ?? {}))
          expect(schema.description, `${id} ${name}`).toBeTruthy();
  });

  it('reads a body only on POST routes, and public routes take no token scope', () => {
    for (const [id, route] of routes) {
      if (route.body) expect(route.method, id).toBe('post');
      if (route.scope === 'public') expect(route.method, id).toBe('get');
    }
  });
});
