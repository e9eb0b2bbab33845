import type { Payment } from '@tanglewatt/contract';
import { generateMnemonic, MnemonicSigner } from '@tanglewatt/ledger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaymentsStore } from './payments-store.js';
import type { Settlement } from './settlement.js';
import { type ListeningApi, listenTestApi, TEST_ADDRESS } from './testing/api.js';
import { storeDir } from './testing/payments.js';
import type { WalletLedger } from './wallet-ledger.js';

// Addresses of a fresh mnemonic: the producer, the operator and the grid (none is the wallet's own).
const [PRODUCER, OPERATOR, GRID] = (await new MnemonicSigner(generateMnemonic()).addresses({
  count: 3,
  bech32Hrp: 'watt',
})) as [string, string, string];

let api: ListeningApi;
let notified = 0;

beforeAll(async () => {
  api = await listenTestApi({
    store: await PaymentsStore.open(await storeDir('api-shares-')),
    ledger: { ledgerIndex: 7 } as unknown as WalletLedger,
    settlement: {
      notify: () => {
        notified++;
      },
    } as unknown as Settlement,
    tokens: [{ name: 'agent', secret: 'pay-secret', scopes: ['pay', 'read'] }],
  });
});

afterAll(() => api.close());

const pay = async (body: unknown) => {
  const res = await fetch(`${api.url}/payments`, {
    method: 'POST',
    headers: { authorization: 'Bearer pay-secret', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as Payment & { error?: { message: string; field?: string } },
  };
};

const request = (key: string, shares: unknown[]) => ({
  idempotencyKey: key,
  to: PRODUCER,
  amount: '1000000',
  shares,
});

describe('POST /payments with shares', () => {
  it('stores the shares with the payment, each sent like a payment of its amount', async () => {
    const answer = await pay(
      request('split-1', [
        { role: 'operator', to: OPERATOR, amount: '1000000' },
        { role: 'grid', to: GRID, amount: '7' },
      ]),
    );
    expect(answer.status).toBe(202);
    expect(notified).toBe(1);
    // 1,000,000 units stand alone as a basic output; 7 are below its deposit: a micro-payment.
    expect(answer.body.shares).toMatchObject([
      { role: 'operator', to: OPERATOR, amount: '1000000', micro: false },
      { role: 'grid', to: GRID, amount: '7', micro: true },
    ]);
    expect(BigInt(answer.body.shares![1]!.depositUnits!)).toBeGreaterThan(0n);
  });

  it('answers the same request with the same payment, and refuses other shares under its key', async () => {
    const shares = [{ role: 'grid', to: GRID, amount: '5000000' }];
    expect((await pay(request('split-2', shares))).status).toBe(202);
    expect((await pay(request('split-2', shares))).status).toBe(200);
    const other = await pay(request('split-2', [{ role: 'grid', to: GRID, amount: '5000001' }]));
    expect(other.status).toBe(409);
    expect(other.body.error?.field).toBe('idempotencyKey');
  });

  it('refuses a share to an address of another network or to the wallet itself, naming the share', async () => {
    const foreign = await pay(request('split-3', [{ role: 'operator', to: 'rms1qxyz', amount: '5' }]));
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toMatchObject({ field: 'shares.0.to' });
    const self = await pay(request('split-4', [{ role: 'grid', to: TEST_ADDRESS, amount: '5' }]));
    expect(self.body.error).toMatchObject({
      field: 'shares.0.to',
      message: 'shares.0.to: must not be this wallet itself',
    });
  });
});
