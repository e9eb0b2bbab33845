import type { PeriodVerdict, RecordsVerdict } from '@tanglewatt/channels';
import type { BillJson } from '@tanglewatt/contract';
import { describe, expect, it } from 'vitest';
import { buildBill, type LedgerPayment } from './build.js';
import { parseBillConfig } from './config.js';
import { billToJson } from './json.js';
import { checkBill, findingLines, findingsExitStatus, totalsOfLines } from './verify.js';

const HOUSE = 'tw1household';
const WH = 3_600_000n;
const config = parseBillConfig(
  { timeZone: 'UTC', retailUnitsPerWh: '0.4', feedInUnitsPerWh: '0.08' },
  { from: '2026-11-01', to: '2026-11-30' },
);
const hex = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;

/** A purchase of period p (1 Wh per period number) for 100 units a Wh, a 20 % grid share on top. */
function purchase(p: number): LedgerPayment {
  const units = BigInt(p) * 100n;
  return {
    direction: 'sent',
    transactionId: hex(p),
    blockId: hex(p + 1000),
    milestoneIndex: 100 + p,
    milestoneTimestamp: Date.parse('2026-11-10T00:00:00Z') / 1000 + p,
    counterparty: 'tw1producer',
    amountUnits: units,
    shares: [{ role: 'grid', units: units / 5n, to: 'tw1grid' }],
    description: {
      k: `meter-1/${p}`,
      o: 0,
      a: String(units),
      periodId: `meter-1/${p}`,
      meterId: 'meter-1',
      energyMWs: String(BigInt(p) * WH),
      periodStart: new Date(Date.parse('2026-11-02T00:00:00Z') + p * 21_600_000).toISOString(),
      shares: [{ role: 'grid', o: 1, a: String(units / 5n) }],
    },
  };
}
const sale: LedgerPayment = {
  direction: 'received',
  transactionId: hex(99),
  blockId: hex(1099),
  milestoneIndex: 199,
  milestoneTimestamp: Date.parse('2026-11-12T00:00:00Z') / 1000,
  counterparty: 'tw1buyer',
  amountUnits: 250n,
  description: { k: 'meter-9/1', o: 0, a: '250', periodId: 'meter-9/1', energyMWs: String(2n * WH) },
};
const ledger = [purchase(1), purchase(2), purchase(3), sale];
const honest = (): BillJson =>
  billToJson(buildBill({ household: HOUSE, config, payments: ledger, readings: [] }));

/** The bill with its totals made to add up again, as a careful forger would. */
function retotalled(bill: BillJson): BillJson {
  const totals = { ...bill.totals };
  for (const [field, value] of Object.entries(totalsOfLines(bill.lines)))
    (totals as Record<string, string>)[field] = value.toString();
  return { ...bill, totals };
}

const verdict = (p: number, ok = true, energyMWs = BigInt(p) * WH): PeriodVerdict =>
  ({
    ok,
    code: ok ? 'PASS' : 'ROOT_MISMATCH',
    detail: ok ? 'verified' : 'the readings hash to another root',
    transactionId: hex(p),
    paymentKey: `meter-1/${p}`,
    payment: { k: `meter-1/${p}`, energyMWs: String(energyMWs) },
    channel: { channelId: 'ab'.repeat(32) },
  }) as unknown as PeriodVerdict;

describe('checkBill: a bill against the ledger and the readings', () => {
  it('passes the bill the ledger builds, its readings verified', () => {
    const findings = checkBill(honest(), { payments: ledger, periods: [verdict(1), verdict(2), verdict(3)] });
    expect(findingLines(findings)).toEqual(['PASS']);
  });

  it('a tampered amount: FAIL AMOUNT, and FAIL TOTALS while the totals still say the old sum', () => {
    const bill = honest();
    bill.lines[1] = { ...bill.lines[1]!, amountUnits: '2000' };
    expect(findingLines(checkBill(bill, { payments: ledger }))).toEqual([
      `FAIL AMOUNT: line "meter-1/2" (${hex(2).slice(0, 12)}…): the bill says 2000 units, the ledger 200`,
      'FAIL TOTALS: paidUnits: the bill says 720, its lines add up to 2520',
      'FAIL TOTALS: energyPaidUnits: the bill says 600, its lines add up to 2400',
      'FAIL TOTALS: netUnits: the bill says -470, its lines add up to -2270',
    ]);
    // Totals forged to match leave the amount: the ledger decides.
    expect(checkBill(retotalled(bill), { payments: ledger }).map((f) => f.code)).toEqual(['AMOUNT']);
  });

  it('a removed line: FAIL MISSING_LINE names the period paid on the ledger', () => {
    const bill = honest();
    bill.lines = bill.lines.filter((l) => l.key !== 'meter-1/3');
    expect(findingLines(checkBill(retotalled(bill), { payments: ledger }))).toEqual([
      `FAIL MISSING_LINE: line "meter-1/3" (${hex(3).slice(0, 12)}…): paid 300 units for period meter-1/3, not on the bill`,
    ]);
  });

  it('an added line: FAIL EXTRA_LINE, and FAIL DUPLICATE_PERIOD when it bills a period again', () => {
    const bill = honest();
    bill.lines.push({ ...bill.lines[0]!, transactionId: hex(77) });
    expect(findingLines(checkBill(retotalled(bill), { payments: ledger }))).toEqual([
      `FAIL EXTRA_LINE: line "meter-1/1" (${hex(77).slice(0, 12)}…): no such payment of ${HOUSE} on the ledger in the cycle`,
      'FAIL DUPLICATE_PERIOD: period meter-1/1 is bought 2 times',
    ]);
    const twice = honest();
    twice.lines.push(twice.lines[0]!);
    expect(checkBill(retotalled(twice), { payments: ledger }).map((f) => f.code)).toEqual([
      'EXTRA_LINE',
      'DUPLICATE_PERIOD',
    ]);
  });

  it('a changed share or term: FAIL SHARES, FAIL TERMS', () => {
    const bill = honest();
    bill.lines[0] = { ...bill.lines[0]!, gridUnits: '0', counterparty: 'tw1someoneelse' };
    expect(checkBill(retotalled(bill), { payments: ledger }).map((f) => f.message)).toEqual([
      `line "meter-1/1" (${hex(1).slice(0, 12)}…): gridUnits 0 on the bill, 20 on the ledger`,
      `line "meter-1/1" (${hex(1).slice(0, 12)}…): counterparty tw1someoneelse on the bill, tw1producer on the ledger`,
    ]);
  });

  it('readings that fail, are missing, or verify to other energy: one FAIL READINGS each', () => {
    const findings = checkBill(honest(), {
      payments: ledger,
      periods: [verdict(1, false), verdict(2, true, 5n)],
    });
    expect(findingLines(findings)).toEqual([
      `FAIL READINGS: line "meter-1/1" (${hex(1).slice(0, 12)}…): ROOT_MISMATCH: the readings hash to another root`,
      `FAIL READINGS: line "meter-1/2" (${hex(2).slice(0, 12)}…): ${2n * WH} mWs on the bill, 5 verified`,
      `FAIL READINGS: line "meter-1/3" (${hex(3).slice(0, 12)}…): its readings were not found`,
    ]);
  });

  it('readings not indexed yet: PENDING PENDING_INDEX, exit 3; beside a failure, exit 1', () => {
    const pending = {
      ...verdict(3, false),
      code: 'PENDING_INDEX',
      detail: 'seq 9: block … not found; not indexed yet',
    } as PeriodVerdict;
    const findings = checkBill(honest(), { payments: ledger, periods: [verdict(1), verdict(2), pending] });
    expect(findingLines(findings)).toEqual([
      `PENDING PENDING_INDEX: line "meter-1/3" (${hex(3).slice(0, 12)}…): seq 9: block … not found; not indexed yet`,
    ]);
    expect(findingsExitStatus(findings)).toBe(3);
    const mixed = checkBill(honest(), {
      payments: ledger,
      periods: [verdict(1, false), verdict(2), pending],
    });
    expect(mixed.map((f) => f.code)).toEqual(['READINGS', 'PENDING_INDEX']);
    expect(findingsExitStatus(mixed)).toBe(1);
    expect(findingsExitStatus([])).toBe(0);
  });

  it("records that fail or lack a purchase's period: FAIL RECORDS", () => {
    const records = {
      ok: false,
      channelId: 'ab'.repeat(32),
      records: [{ line: 1, seq: 0, energyMWs: 3n * WH, periodIds: ['meter-1/1', 'meter-1/2'] }],
      energyMWs: 3n * WH,
      publicKeys: [],
      onLedger: true,
      failures: [{ code: 'MISSING', detail: 'seq 1 is missing' }],
    } satisfies RecordsVerdict;
    const periods = [verdict(1), verdict(2), verdict(3)];
    expect(findingLines(checkBill(honest(), { payments: ledger, periods, records }))).toEqual([
      'FAIL RECORDS: MISSING: seq 1 is missing',
      `FAIL RECORDS: line "meter-1/3" (${hex(3).slice(0, 12)}…): period meter-1/3 is in none of the records`,
    ]);
  });
});
