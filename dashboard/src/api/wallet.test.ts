import { afterEach, describe, expect, it, vi } from 'vitest';
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
});
