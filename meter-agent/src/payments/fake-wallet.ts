import { type Payment, type PaymentRequest, WalletServiceError } from '@tanglewatt/contract';
import type { PaymentClient } from './outbox.js';

/** Plays the wallet-service: remembers one amount per key, can be down, refuse, or hang. */
export class FakeWallet implements PaymentClient {
  mode: 'up' | 'down' | 'reject' | 'hang' = 'up';
  readonly calls: PaymentRequest[] = [];
  readonly paid = new Map<string, string>();

  async pay(request: PaymentRequest): Promise<Payment> {
    this.calls.push(request);
    if (this.mode === 'down')
      throw new WalletServiceError('UNREACHABLE', 'wallet-service is unreachable', undefined, true);
    if (this.mode === 'reject')
      throw new WalletServiceError('INVALID_REQUEST', 'to: not an address of this network', 400, false, 'to');
    if (this.mode === 'hang') return new Promise(() => undefined);
    const before = this.paid.get(request.idempotencyKey);
    if (before && before !== request.amount) throw new Error(`two amounts for ${request.idempotencyKey}`);
    this.paid.set(request.idempotencyKey, request.amount);
    const now = new Date().toISOString();
    return {
      ...request,
      state: 'queued',
      micro: false,
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    };
  }
}
