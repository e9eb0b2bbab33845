import { describe, expect, it } from 'vitest';
import { applyOutcome, type PeriodRecord, periodPaymentState } from '../api/meter';
import type { Payment } from '../api/wallet';
import type { PowerPoint } from '../components/PowerChart';
import { pushSample } from './MetersPage';
import { upsertPayment } from './PaymentsPage';

const p = (key: string, state: Payment['state']): Payment => ({
  idempotencyKey: key,
  to: 'watt1x',
  amount: '1',
  state,
  micro: false,
  attempts: 1,
  createdAt: '',
  updatedAt: '',
});

describe('upsertPayment', () => {
  it('replaces a known payment in place and puts a new one on top', () => {
    const list = [p('b', 'queued'), p('a', 'included')];
    expect(upsertPayment(list, p('b', 'submitted'), '').map((x) => `${x.idempotencyKey}:${x.state}`)).toEqual(
      ['b:submitted', 'a:included'],
    );
    expect(upsertPayment(list, p('c', 'queued'), '').map((x) => x.idempotencyKey)).toEqual(['c', 'b', 'a']);
    expect(upsertPayment(list, p('c', 'queued'), '', 2)).toHaveLength(2);
  });

  it('keeps a filtered list to its state', () => {
    const queued = [p('b', 'queued')];
    expect(upsertPayment(queued, p('b', 'submitted'), 'queued')).toEqual([]);
    expect(upsertPayment(queued, p('c', 'included'), 'queued')).toBe(queued);
    expect(upsertPayment(queued, p('c', 'queued'), 'queued')).toHaveLength(2);
  });
});

describe('pushSample', () => {
  it('keeps a five-minute window in time order', () => {
    let points: PowerPoint[] = [{ tMs: 0, powerUW: 1 }];
    points = pushSample(points, { tMs: 1000, powerUW: 2 }, 2000);
    points = pushSample(points, { tMs: 1000, powerUW: 9 }, 2000); // duplicate time: ignored
    points = pushSample(points, { tMs: 2500, powerUW: null }, 2000);
    expect(points).toEqual([
      { tMs: 1000, powerUW: 2 },
      { tMs: 2500, powerUW: null },
    ]);
  });
});

describe('period payment state', () => {
  const period = (key: string): PeriodRecord => ({
    id: key,
    seq: 1,
    meterId: 'm',
    role: 'consumer',
    consumer: 'watt1c',
    producer: 'watt1x',
    startMs: 0,
    endMs: 1,
    closedAtMs: 1,
    energyMWs: '1',
    deliveredHalfNJ: '2000000',
    returnedHalfNJ: '0',
    price: { unitsPerWh: '1' },
    pricing: 'carry',
    amountExact: '1/1',
    amount: '1',
    carry: { money: '0/1', energyHalfNJ: '0' },
    quality: {
      samples: 1,
      missedTicks: 0,
      readErrors: 0,
      overflows: 0,
      clockSteps: 0,
      coveredMs: 1,
      gapMs: 0,
      gapCount: 0,
      gaps: [],
      minPowerUW: null,
      meanPowerUW: null,
      maxPowerUW: null,
    },
    readingsHash: '00'.repeat(32),
    resume: { bridge: null, uncoveredSinceMs: null, lastTMs: 0 },
    payment: { state: 'due', key, to: 'watt1x', amount: '1' },
  });

  it('is queued until the wallet-service answers, then its answer', () => {
    const periods = [period('k1'), period('k2')];
    expect(periodPaymentState(periods[0]!)).toBe('queued');
    const updated = applyOutcome(periods, { key: 'k2', atMs: 5, result: 'accepted', serviceState: 'queued' });
    expect(updated.map(periodPaymentState)).toEqual(['queued', 'accepted']);
    expect(periodPaymentState({ ...period('x'), payment: { state: 'not-paying' } })).toBe('not-paying');
  });
});
