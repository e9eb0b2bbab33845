import type { Payment } from '@tanglewatt/contract';
import { generateMnemonic, MnemonicSigner } from '@tanglewatt/ledger';
import { getWithHost } from '@tanglewatt/meter-agent/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { api, startTestWallet, type TestWallet } from '../support/wallets.js';

const tangle = inject('tangle');

describe('wallet-service tokens and Host names on the real tangle', () => {
  let wallet: TestWallet;
  let payee: string;

  beforeAll(async () => {
    wallet = await startTestWallet(tangle, {
      slot: 13,
      tokens: [
        { name: 'agent', scopes: ['pay', 'read'] },
        { name: 'dashboard', scopes: ['market', 'read'] },
      ],
      allowedHosts: ['wallet.home'],
    });
    const [address] = await new MnemonicSigner(generateMnemonic()).addresses({
      count: 1,
      bech32Hrp: tangle.bech32Hrp,
    });
    payee = address!;
  });

  afterAll(async () => {
    await wallet?.service.stop();
  });

  it('pays with the agent token and refuses the dashboard token with 403 naming "pay", changing nothing', async () => {
    const request = { idempotencyKey: 'access/1', to: payee, amount: '1000000' };
    const refused = await api<{ error: { code: string; message: string } }>(
      wallet,
      'POST',
      '/payments',
      request,
      wallet.tokens.dashboard,
    );
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('"pay"');
    expect(wallet.service.store.get('access/1')).toBeUndefined();

    const paid = await api<Payment>(wallet, 'POST', '/payments', request, wallet.tokens.agent);
    expect(paid.status).toBe(202);
    await expect
      .poll(() => wallet.service.store.get('access/1')?.state, { timeout: 60_000, interval: 250 })
      .toBe('included');
    // The dashboard token reads it.
    const read = await api<Payment>(
      wallet,
      'GET',
      '/payments/access%2F1',
      undefined,
      wallet.tokens.dashboard,
    );
    expect(read.status).toBe(200);
    expect(read.body.state).toBe('included');
  });

  it('needs a token for every read: balances and payments answer 401 without one', async () => {
    for (const path of ['/balance', '/payments', '/outputs', '/node/info', '/market']) {
      const res = await api(wallet, 'GET', path, undefined, null);
      expect(res.status, path).toBe(401);
    }
    expect((await api(wallet, 'GET', '/balance', undefined, wallet.tokens.dashboard)).status).toBe(200);
    expect((await api(wallet, 'GET', '/health', undefined, null)).status).toBe(200);
  });

  it('lets the agent token read but not post market messages', async () => {
    const res = await api(wallet, 'POST', '/market/ack', { tradeId: 'a'.repeat(64) }, wallet.tokens.agent);
    expect(res.status).toBe(403);
    expect((await api(wallet, 'GET', '/market', undefined, wallet.tokens.agent)).status).toBe(200);
  });

  it('answers 421 to a Host that is not its own, and its own and the configured names', async () => {
    const { port } = new URL(wallet.service.url);
    const forged = await getWithHost(wallet.service.url, '/balance', `rebind.example:${port}`, wallet.token);
    expect(forged.status).toBe(421);
    expect(JSON.parse(forged.body).error.code).toBe('MISDIRECTED_REQUEST');
    expect(forged.body).not.toContain('totalUnits');
    expect((await getWithHost(wallet.service.url, '/health', `localhost:${port}`)).status).toBe(200);
    expect((await getWithHost(wallet.service.url, '/health', 'wallet.home')).status).toBe(200);
  });
});
