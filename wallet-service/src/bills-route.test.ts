import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaymentsStore } from './payments-store.js';
import type { Settlement } from './settlement.js';
import { type ListeningApi, listenTestApi } from './testing/api.js';
import type { WalletLedger } from './wallet-ledger.js';

// The bill itself is read from a real indexer in tests/integration/bills.test.ts; here, the refusals.
describe('GET /bills refusals', () => {
  let api: ListeningApi;
  const token = 'bills-reader-secret';

  beforeAll(async () => {
    api = await listenTestApi({
      store: await PaymentsStore.open(await mkdtemp(join(tmpdir(), 'api-bills-'))),
      ledger: { ledgerIndex: 1 } as unknown as WalletLedger,
      settlement: {} as Settlement,
      tokens: [{ name: 'reader', secret: token, scopes: ['read'] }],
    });
  });
  afterAll(() => api?.close());

  const get = async (query: string) => {
    const res = await fetch(`${api.url}/bills${query}`, { headers: { authorization: `Bearer ${token}` } });
    return {
      status: res.status,
      body: (await res.json()) as { error: { code: string; message: string; field?: string } },
    };
  };

  it('answers 409 NOT_CONFIGURED, naming indexer, when the service has no indexer', async () => {
    const answer = await get('?from=2026-11-01&to=2026-11-30');
    expect(answer.status).toBe(409);
    expect(answer.body.error).toEqual({
      code: 'NOT_CONFIGURED',
      message: 'indexer: bills are built from the community indexer; set indexer.url in the wallet config',
    });
  });

  it('answers 400 naming the query field at fault', async () => {
    expect((await get('?from=november&to=2026-11-30')).body.error).toMatchObject({
      code: 'INVALID_REQUEST',
      field: 'from',
    });
    expect((await get('?from=2026-11-01&to=2026-11-30&format=xlsx')).body.error).toMatchObject({
      field: 'format',
    });
    expect((await get('?from=2026-11-01')).status).toBe(400);
  });

  it('needs a token', async () => {
    expect((await fetch(`${api.url}/bills?from=2026-11-01&to=2026-11-30`)).status).toBe(401);
  });
});
