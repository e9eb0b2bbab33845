import { describe, expect, it } from 'vitest';
import { allPaidOnce, auditPayments, cpuPercent, paymentsOfDescription, quantile } from './audit.js';
import { planFleet, stopTime } from './plan.js';

const hex = (value: unknown) => `0x${Buffer.from(JSON.stringify(value)).toString('hex')}`;

describe('auditPayments', () => {
  const due = [
    { key: 'm/1', amount: '10' },
    { key: 'm/2', amount: '20' },
    { key: 'm/3', amount: '30' },
    { key: 'm/4', amount: '40' },
  ];

  it('counts a period paid by one block with its amount as paid once', () => {
    const a = auditPayments(due.slice(0, 1), [{ key: 'm/1', amount: '10', blockId: 'b1' }]);
    expect(a).toMatchObject({ due: 1, paidOnce: 1, missing: [], paidTwice: [], wrongAmount: [] });
    expect(allPaidOnce(a)).toBe(true);
  });

  it('finds missing, twice-paid and wrongly paid periods, and payments no period names', () => {
    const a = auditPayments(due, [
      { key: 'm/1', amount: '10', blockId: 'b1' },
      { key: 'm/2', amount: '20', blockId: 'b2' },
      { key: 'm/2', amount: '20', blockId: 'b3' },
      { key: 'm/3', amount: '31', blockId: 'b4' },
      { key: 'fund-1000', amount: '5000000', blockId: 'b5' },
    ]);
    expect(a.paidOnce).toBe(1);
    expect(a.missing).toEqual(['m/4']);
    expect(a.paidTwice).toEqual([{ key: 'm/2', times: 2 }]);
    expect(a.wrongAmount).toEqual([{ key: 'm/3', due: '30', paid: '31' }]);
    expect(a.unmatched).toBe(1);
    expect(allPaidOnce(a)).toBe(false);
  });

  it('counts one block read twice (two readers, two pages) as one payment', () => {
    const a = auditPayments(due.slice(0, 1), [
      { key: 'm/1', amount: '10', blockId: 'b1' },
      { key: 'm/1', amount: '10', blockId: 'b1' },
    ]);
    expect(a.paidOnce).toBe(1);
    expect(a.paidTwice).toEqual([]);
  });

  it('finds nothing wrong with no periods and no payments', () => {
    expect(allPaidOnce(auditPayments([], []))).toBe(true);
  });
});

describe('paymentsOfDescription', () => {
  it('reads every payment of a batched description', () => {
    const data = hex({
      v: 1,
      payments: [
        { k: 'a', o: 0, a: '1', periodId: 'a' },
        { k: 'b', o: 1, a: '2' },
      ],
    });
    expect(paymentsOfDescription(data, 'blk')).toEqual([
      { key: 'a', amount: '1', blockId: 'blk' },
      { key: 'b', amount: '2', blockId: 'blk' },
    ]);
  });

  it('ignores data that is no payment description', () => {
    expect(paymentsOfDescription('0x7b', 'blk')).toEqual([]);
    expect(paymentsOfDescription(hex({ v: 2, payments: [{ k: 'a', a: '1' }] }), 'blk')).toEqual([]);
    expect(paymentsOfDescription(hex({ v: 1, payments: [{ k: 'a', a: 1 }] }), 'blk')).toEqual([]);
  });
});

describe('quantile', () => {
  it('takes the nearest rank of the sorted values', () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(quantile(values, 0.5)).toBe(5);
    expect(quantile(values, 0.99)).toBe(10);
    expect(quantile(values, 0.1)).toBe(1);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeUndefined();
  });
});

describe('cpuPercent', () => {
  it('is clock ticks per second of wall time, as % of one core', () => {
    expect(cpuPercent(100, 250, 3)).toBe(50);
    expect(cpuPercent(0, 10, 0)).toBe(0);
  });
});

describe('planFleet', () => {
  it('pays every consumer from a genesis account while there are enough', () => {
    const plan = planFleet(8, 48);
    expect(plan.pairs).toHaveLength(4);
    expect(plan.funderSlot).toBeUndefined();
    expect(plan.pairs.map((p) => p.consumer.funds)).toEqual(
      [0, 1, 2, 3].map((slot) => ({ kind: 'genesis', slot })),
    );
  });

  it('funds the consumers past the genesis accounts from the last one', () => {
    const plan = planFleet(200, 48);
    expect(plan.funderSlot).toBe(47);
    const funded = plan.pairs.filter((p) => p.consumer.funds.kind === 'funded');
    expect(funded).toHaveLength(100 - 47);
    expect(new Set(plan.pairs.map((p) => p.consumer.name)).size).toBe(100);
  });

  it('refuses an odd number of meters with a one-line error', () => {
    expect(() => planFleet(7, 48)).toThrow(/^meters: an even whole number/);
  });
});

describe('stopTime', () => {
  it('stops a third into the first period after the run time', () => {
    expect(stopTime(0, 1, 60)).toBe(60_000 + 20_000);
    expect(stopTime(59_000, 1, 60)).toBe(120_000 + 20_000);
    expect(stopTime(30_000, 1, 60)).toBe(120_000 + 20_000);
  });
});
