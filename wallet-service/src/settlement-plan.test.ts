import type { Payment } from '@tanglewatt/contract';
import { describe, expect, it } from 'vitest';
import { halvings, planBatch } from './settlement.js';

const payment = (key: string, amount: string): Payment => ({
  idempotencyKey: key,
  to: 'watt1qq9x4cs9vtwpd7m5etek37jw42tzvyy8nhmkyhpev0mfax937lpjuyjmu6a',
  amount,
  state: 'queued',
  micro: false,
  attempts: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe('planBatch', () => {
  const plan = (waiting: Payment[], available: bigint, maxOutputs = 127, maxDescriptionBytes = 24_000) =>
    planBatch(waiting, {
      maxOutputs,
      maxDescriptionBytes,
      outputAmount: (p) => BigInt(p.amount),
      canFund: (need) => need <= available,
    });

  it('skips a payment that cannot be funded and takes the later ones', () => {
    const { batch, unfundable } = plan(
      [payment('huge', '1000000'), payment('a', '100'), payment('b', '200')],
      500n,
    );
    expect(unfundable.map((p) => p.idempotencyKey)).toEqual(['huge']);
    expect(batch.map((p) => p.idempotencyKey)).toEqual(['a', 'b']);
  });

  it('leaves one that fits alone but not with the others for the next batch, without calling it unfundable', () => {
    const { batch, unfundable } = plan([payment('a', '300'), payment('b', '300'), payment('c', '100')], 450n);
    expect(batch.map((p) => p.idempotencyKey)).toEqual(['a', 'c']);
    expect(unfundable).toEqual([]);
  });

  it('stops at the output and description limits', () => {
    const many = Array.from({ length: 10 }, (_, i) => payment(`k${i}`, '1'));
    expect(plan(many, 1000n, 4).batch).toHaveLength(4);
    const one = Buffer.byteLength(JSON.stringify({ k: 'k0', o: 0, a: '1' }));
    expect(plan(many, 1000n, 127, one * 3).batch).toHaveLength(3);
  });
});

describe('halvings', () => {
  it('halves a batch down to one payment', () => {
    expect(halvings(127)).toEqual([127, 64, 32, 16, 8, 4, 2, 1]);
    expect(halvings(3)).toEqual([3, 2, 1]);
    expect(halvings(1)).toEqual([1]);
  });
});
