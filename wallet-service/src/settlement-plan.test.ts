import type { Payment } from '@tanglewatt/contract';
import { describe, expect, it } from 'vitest';
import { describe as describePayment, halvings, lingerLeftMs, planBatch } from './settlement-plan.js';

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

  it('counts a payment with shares as its outputs, and describes each share at the output after its own', () => {
    const split: Payment = {
      ...payment('split', '100'),
      shares: [
        { role: 'operator', to: 'watt1op', amount: '10' },
        { role: 'grid', to: 'watt1grid', amount: '20' },
      ],
    };
    // 2 + 3 outputs fit in 5; the next plain payment would be the sixth.
    const { batch } = planBatch([payment('a', '1'), payment('b', '1'), split, payment('c', '1')], {
      maxOutputs: 5,
      maxDescriptionBytes: 24_000,
      outputAmount: (p) => BigInt(p.amount) + (p.shares ?? []).reduce((s, x) => s + BigInt(x.amount), 0n),
      outputCount: (p) => 1 + (p.shares?.length ?? 0),
      canFund: () => true,
    });
    expect(batch.map((p) => p.idempotencyKey)).toEqual(['a', 'b', 'split']);
    expect(describePayment(split, 2)).toEqual({
      k: 'split',
      o: 2,
      a: '100',
      shares: [
        { role: 'operator', o: 3, a: '10', to: 'watt1op' },
        { role: 'grid', o: 4, a: '20', to: 'watt1grid' },
      ],
    });
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

describe('lingerLeftMs', () => {
  const options = { maxOutputs: 4, lingerMs: 250, quietMs: 50 };

  it('a lone payment waits only the quiet time, not the whole linger', () => {
    expect(lingerLeftMs([1_000], 1_000, options)).toBe(50);
    expect(lingerLeftMs([1_000], 1_050, options)).toBe(0);
  });

  it('payments that keep arriving wait for each other, at most the linger after the oldest', () => {
    expect(lingerLeftMs([1_000, 1_040, 1_080], 1_100, options)).toBe(30);
    expect(lingerLeftMs([1_000, 1_100, 1_200], 1_240, options)).toBe(10);
  });

  it("before the next milestone's cutoff, payments wait for it rather than the quiet time", () => {
    expect(lingerLeftMs([1_000], 1_010, { ...options, closeAtMs: 1_700 })).toBe(690);
    // Past the cutoff the linger rules apply again.
    expect(lingerLeftMs([1_000], 1_010, { ...options, closeAtMs: 1_005 })).toBe(40);
    // A full batch still goes at once.
    expect(lingerLeftMs([1_000, 1_001, 1_002, 1_003], 1_003, { ...options, closeAtMs: 1_700 })).toBe(0);
  });

  it('a full batch goes at once', () => {
    expect(lingerLeftMs([1_000, 1_001, 1_002, 1_003], 1_003, options)).toBe(0);
  });

  it('the quiet time never exceeds the linger', () => {
    expect(lingerLeftMs([1_000], 1_000, { ...options, lingerMs: 0 })).toBe(0);
  });
});

describe('describe', () => {
  it('a repayment names the payment, output and role it pays again', () => {
    const outputId = `0x${'ab'.repeat(32)}0100`;
    const repay = {
      ...payment('p1/repay/x', '3'),
      repays: { key: 'p1', outputId, role: 'operator' as const },
    };
    expect(describePayment(repay, 0)).toEqual({
      k: 'p1/repay/x',
      o: 0,
      a: '3',
      repays: { k: 'p1', outputId, role: 'operator' },
    });
    expect(describePayment(payment('p2', '3'), 1)).not.toHaveProperty('repays');
  });
});
