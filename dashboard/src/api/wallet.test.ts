import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeFetch } from '../test/fakes';
import { createWalletClient } from './wallet';

afterEach(() => vi.unstubAllGlobals());

describe('createWalletClient', () => {
  it('sends its token on reads, as the wallet-service needs one for every read', async () => {
    const seen: { url: string; auth: string | null }[] = [];
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      seen.push({ url, auth: new Headers(init.headers).get('authorization') });
      return new Response(JSON.stringify({ total: 0, items: [] }), { status: 200 });
    });
    await createWalletClient('http://w.test', 'dash t0k').payments();
    await createWalletClient('http://w.test').payments();
    expect(seen).toEqual([
      { url: 'http://w.test/payments?limit=100', auth: 'Bearer dash t0k' },
      { url: 'http://w.test/payments?limit=100', auth: null },
    ]);
  });

  it('puts the token in the live feed URL, as EventSource cannot send headers', () => {
    expect(createWalletClient('http://w.test/', 'a+b/c').eventsUrl).toBe(
      'http://w.test/events?access_token=a%2Bb%2Fc',
    );
    expect(createWalletClient('http://w.test').eventsUrl).toBe('http://w.test/events');
  });

  it('gives each explorer read with the source its header names, and reads the body as before', async () => {
    const block = { protocolVersion: 2, parents: [], nonce: '0' };
    vi.stubGlobal(
      'fetch',
      fakeFetch((url) => {
        if (url.pathname === '/node/blocks/0xa')
          return { body: block, headers: { 'x-tanglewatt-source': 'indexer' } };
        if (url.pathname === '/node/blocks/0xb')
          return { body: block, headers: { 'x-tanglewatt-source': 'node' } };
        if (url.pathname === '/node/blocks/0xc')
          return { body: block, headers: { 'x-tanglewatt-source': 'cache' } };
        return { body: block };
      }),
    );
    const client = createWalletClient('http://w.test', 't');
    expect(await client.explorer.block('0xa')).toEqual({ body: block, source: 'indexer' });
    expect(await client.explorer.block('0xb')).toEqual({ body: block, source: 'node' });
    // A value the service does not send, or no header (an older service): no source claimed.
    expect(await client.explorer.block('0xc')).toEqual({ body: block, source: undefined });
    expect(await client.explorer.block('0xd')).toEqual({ body: block, source: undefined });
    expect(await client.block('0xa')).toEqual(block);
  });
});
