import { parseTariffHistory } from '@tanglewatt/tariff';
import { exampleTariff } from '@tanglewatt/tariff/testing';
import { describe, expect, it } from 'vitest';
import type { PeriodVerdict } from './period.js';
import type { ReadResult } from './reader.js';
import { checkPaymentTariff } from './tariff-check.js';

const history = parseTariffHistory([exampleTariff()]);
/** 2026-01-14 is a Wednesday; Berlin is UTC+1 in winter, so local 17:00 is 16:00Z. */
const wed = (h: number, m = 0) => Date.UTC(2026, 0, 14, h - 1, m);
/** 600 W: 10 Wh a minute. */
const sample = (timestampMs: number) => ({
  timestampMs,
  busVoltageMV: 230_000,
  currentMA: 2609,
  powerMW: 600_000,
});

/**
 * A verified period 16:59–17:03 local whose payment states the reading at 16:58 before it: 600 W from 16:58
 * to 17:02 is 20 Wh standard and 20 Wh high (the example tariff), so producer 6 + 10 = 16, operator 10 % =
 * 1.6, grid 20 × 0.05 + 20 × 0.1 = 3; with the operator's carry-in ½ it pays 16, 2 and 3.
 */
function verdict(shares: { role: string; a: string }[], extraSample?: number): PeriodVerdict {
  const samples = [wed(16, 59), wed(17), wed(17, 1), wed(17, 2)].map(sample);
  if (extraSample !== undefined) samples.push(sample(extraSample));
  return {
    ok: true,
    code: 'PASS',
    detail: '',
    transactionId: `0x${'1'.repeat(64)}`,
    paymentKey: 'p',
    payment: {
      k: 'p',
      o: 0,
      a: '16',
      periodStart: new Date(wed(16, 59)).toISOString(),
      periodEnd: new Date(wed(17, 3)).toISOString(),
      tariff: { id: 'community', version: '1' },
      bands: { '1': '72000000', '2': '72000000' },
      carry: { producer: '0/1', operator: '1/2', grid: '0/1' },
      pricedFrom: { t: wed(16, 58), mW: 600_000 },
      gapMs: 120_000,
      shares: shares.map((s, i) => ({ ...s, o: i + 1, to: 'watt1…' })),
    },
    channel: { messages: [{ samples, summaries: [] }] } as unknown as ReadResult,
  };
}

describe('verify-period --tariff on a verified payment', () => {
  it('recomputes producer, operator and grid from the messages’ readings', () => {
    const check = checkPaymentTariff(
      verdict([
        { role: 'operator', a: '2' },
        { role: 'grid', a: '3' },
      ]),
      history,
    );
    expect(check).toMatchObject({ ok: true, code: 'PASS', units: { producer: 16n, operator: 2n, grid: 3n } });
  });

  it('names a missing share: the tariff gives the grid 3, the payment pays it nothing', () => {
    const check = checkPaymentTariff(verdict([{ role: 'operator', a: '2' }]), history);
    expect(check.code).toBe('SHARE_MISMATCH');
    expect(check.detail).toMatch(/^grid: stated 0, tariff gives 3 /);
  });

  it('leaves out readings at or after the period end', () => {
    const shares = [
      { role: 'operator', a: '2' },
      { role: 'grid', a: '3' },
    ];
    expect(checkPaymentTariff(verdict(shares, wed(17, 3)), history).ok).toBe(true);
  });
});
