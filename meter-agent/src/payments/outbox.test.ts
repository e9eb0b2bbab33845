import { type Payment, type PaymentRequest, WalletServiceError } from '@tanglewatt/contract';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { silentLogger } from '../log.js';
import { seededRandom } from '../sensors/prng.js';
import type { PaymentOutcome } from '../store/state.js';
import { backoffDelayMs, PaymentOutbox } from './outbox.js';

function request(key: string, amount = '5'): PaymentRequest {
  return {
    idempotencyKey: key,
    to: 'watt1qrufrjnxwx28lgd2wxnqdncq9gqd2689k5tu6zw8a0gndpp2rq6wuqvys9y',
    amount,
  };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('backoff', () => {
  it('doubles up to the cap, with jitter in the upper half of each window', () => {
    const random = seededRandom(1);
    const delays = Array.from({ length: 12 }, (_, i) => backoffDelayMs(i + 1, 1000, 300_000, random));
    for (const [i, d] of delays.entries()) {
      const window = Math.min(300_000, 1000 * 2 ** i);
      expect(d).toBeGreaterThanOrEqual(window / 2);
      expect(d).toBeLessThanOrEqual(window);
    }
    expect(Math.max(...delays)).toBeLessThanOrEqual(300_000);
  });
});

describe('PaymentOutbox', () => {
  it('retries with the same key, oldest first, and keeps a refused token queued instead of rejecting', async () => {
    const clock = new ManualClock();
    const calls: string[] = [];
    const outcomes: PaymentOutcome[] = [];
    let answer: 'down' | 'token' | 'up' = 'down';
    const outbox = new PaymentOutbox({
      client: {
        async pay(r) {
          calls.push(r.idempotencyKey);
          if (answer === 'down') throw new WalletServiceError('HTTP_503', 'busy', 503, true);
          if (answer === 'token') throw new WalletServiceError('UNAUTHORIZED', 'wrong token', 401, false);
          return { ...r, state: 'submitted' } as unknown as Payment;
        },
      },
      clock,
      log: silentLogger(),
      record: async (o) => {
        outcomes.push(o);
      },
      backoffBaseMs: 1000,
      backoffCapMs: 4000,
      random: () => 1,
    });
    outbox.enqueue({ seq: 2, request: request('m/2') });
    outbox.enqueue({ seq: 1, request: request('m/1') });
    outbox.enqueue({ seq: 1, request: request('m/1') }); // already queued
    outbox.start();
    await flush();
    expect(calls).toEqual(['m/1']);
    for (const step of [1000, 2000, 4000, 4000]) {
      clock.advance(step);
      await flush();
    }
    expect(calls).toEqual(['m/1', 'm/1', 'm/1', 'm/1', 'm/1']);
    answer = 'token';
    clock.advance(4000);
    await flush();
    expect(outcomes).toEqual([]);
    expect(outbox.view().queued.map((q) => q.key)).toEqual(['m/1', 'm/2']);
    expect(outbox.view().queued[0]?.lastError).toBe('wrong token');
    answer = 'up';
    clock.advance(4000);
    await flush();
    await flush();
    await outbox.drained();
    expect(outcomes.map((o) => [o.key, o.result, o.serviceState])).toEqual([
      ['m/1', 'accepted', 'submitted'],
      ['m/2', 'accepted', 'submitted'],
    ]);
    await outbox.stop();
  });

  it('stops at a payment the wallet-service cancelled or failed, and reports it as rejected with the reason', async () => {
    const clock = new ManualClock();
    const outcomes: PaymentOutcome[] = [];
    const errors: string[] = [];
    const calls: string[] = [];
    const outbox = new PaymentOutbox({
      client: {
        async pay(r) {
          calls.push(r.idempotencyKey);
          const state = r.idempotencyKey === 'm/cancelled' ? 'cancelled' : 'failed';
          return {
            ...r,
            state,
            ...(state === 'failed' ? { error: 'to: not an address of this network' } : {}),
          } as unknown as Payment;
        },
      },
      clock,
      log: silentLogger(),
      record: async (o) => {
        outcomes.push(o);
      },
      onError: (m) => errors.push(m),
      backoffBaseMs: 1000,
      backoffCapMs: 4000,
    });
    outbox.enqueue({ seq: 1, request: request('m/cancelled') });
    outbox.enqueue({ seq: 2, request: request('m/failed') });
    outbox.start();
    await outbox.drained();
    expect(outcomes.map((o) => [o.key, o.result, o.serviceState, o.code])).toEqual([
      ['m/cancelled', 'rejected', 'cancelled', 'PAYMENT_CANCELLED'],
      ['m/failed', 'rejected', 'failed', 'PAYMENT_FAILED'],
    ]);
    expect(outcomes[1]?.reason).toBe('to: not an address of this network');
    expect(errors).toHaveLength(2);
    clock.advance(60_000);
    await flush();
    expect(calls).toEqual(['m/cancelled', 'm/failed']);
    await outbox.stop();
  });
});
