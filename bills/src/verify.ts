/**
 * A bill checked against the ledger and the meter's signed readings, trusting nothing the bill's issuer
 * (a wallet-service) says: every line is re-derived from its transaction (the output to the payee, the
 * operator and grid shares, the description), the cycle's payments that the bill leaves out are found, the
 * totals are added up again from the lines, and each purchase's readings are verified (channels'
 * verifyPeriods) and, given an export of the meter's signed records, found among them. One finding per
 * discrepancy; none means PASS.
 */
import type { PeriodVerdict, RecordsVerdict } from '@tanglewatt/channels';
import type { BillJson, BillLineJson } from '@tanglewatt/contract';
import { buildBill, type LedgerPayment } from './build.js';
import { parseBillConfig, ZERO_BASELINE } from './config.js';
import { isAllocationPeriod } from './describe.js';
import { billToJson } from './json.js';

export type BillFindingCode =
  /** A line the bill states that no payment of the household on the ledger matches. */
  | 'EXTRA_LINE'
  /** A payment of the household in the cycle that the bill leaves out. */
  | 'MISSING_LINE'
  /** A line whose amount (to the counterparty) differs from the ledger's output. */
  | 'AMOUNT'
  /** A line whose operator or grid share differs from the ledger's share outputs. */
  | 'SHARES'
  /** A line whose direction, counterparty, period, energy or block differs from its transaction. */
  | 'TERMS'
  /** Two purchases of the same period. */
  | 'DUPLICATE_PERIOD'
  /** A total that is not the sum of the bill's lines. */
  | 'TOTALS'
  /** A purchase whose readings do not verify, or verify to other energy than the line states. */
  | 'READINGS'
  /** A purchase whose messages the indexer has not reached yet (not a failure: check again later). */
  | 'PENDING_INDEX'
  /** The exported records do not verify, or do not hold a purchase's period. */
  | 'RECORDS';

export interface BillFinding {
  code: BillFindingCode;
  message: string;
}

export interface BillEvidence {
  /** The household's payments as the ledger holds them (readPayments, through the indexer). */
  payments: readonly LedgerPayment[];
  /** verifyPeriods' verdicts for the bill's purchases; absent: readings not checked. */
  periods?: readonly PeriodVerdict[];
  /** The meter's exported records, verified (verifyRecords); absent: not checked. */
  records?: RecordsVerdict;
}

const lineId = (l: { transactionId: string; key: string }) => `${l.transactionId}/${l.key}`;
const short = (l: BillLineJson) => `line "${l.key}" (${l.transactionId.slice(0, 12)}…)`;

/** The bill's cycle and household, with the ledger's payments, built again the same way (no baselines). */
export function ledgerLines(bill: BillJson, payments: readonly LedgerPayment[]): BillLineJson[] {
  const config = parseBillConfig(
    { ...ZERO_BASELINE, timeZone: bill.cycle.timeZone },
    { from: bill.cycle.from, to: bill.cycle.to },
  );
  return billToJson(buildBill({ household: bill.household, config, payments, readings: [] })).lines;
}

/** The totals the bill's own lines add up to. */
export function totalsOfLines(lines: readonly BillLineJson[]): Record<string, bigint> {
  const sum = (pick: (l: BillLineJson) => string, direction: BillLineJson['direction']) =>
    lines.filter((l) => l.direction === direction).reduce((t, l) => t + BigInt(pick(l)), 0n);
  const energyPaidUnits = sum((l) => l.amountUnits, 'bought');
  const operatorFeeUnits = sum((l) => l.operatorUnits, 'bought');
  const gridFeeUnits = sum((l) => l.gridUnits, 'bought');
  const paidUnits = energyPaidUnits + operatorFeeUnits + gridFeeUnits;
  const earnedUnits = sum((l) => l.amountUnits, 'sold');
  // Energy is counted by band, as the bill counts it (a line's bands may differ from its energyMWs).
  const banded = (l: BillLineJson) =>
    Object.values(l.bands)
      .reduce((t, mws) => t + BigInt(mws), 0n)
      .toString();
  return {
    boughtMWs: sum(banded, 'bought'),
    soldMWs: sum(banded, 'sold'),
    paidUnits,
    energyPaidUnits,
    operatorFeeUnits,
    gridFeeUnits,
    earnedUnits,
    netUnits: earnedUnits - paidUnits,
  };
}

const TERMS = ['direction', 'counterparty', 'periodId', 'meterId', 'energyMWs', 'blockId'] as const;

/** Every discrepancy between the bill and the evidence; an empty list is a PASS. */
export function checkBill(bill: BillJson, evidence: BillEvidence): BillFinding[] {
  const findings: BillFinding[] = [];
  const fail = (code: BillFindingCode, message: string) => findings.push({ code, message });
  const ledger = new Map(ledgerLines(bill, evidence.payments).map((l) => [lineId(l), l]));
  const stated = new Set<string>();

  for (const line of bill.lines) {
    const id = lineId(line);
    const onLedger = ledger.get(id);
    if (stated.has(id)) {
      fail('EXTRA_LINE', `${short(line)} is stated twice`);
      continue;
    }
    stated.add(id);
    if (!onLedger) {
      fail('EXTRA_LINE', `${short(line)}: no such payment of ${bill.household} on the ledger in the cycle`);
      continue;
    }
    if (line.amountUnits !== onLedger.amountUnits)
      fail(
        'AMOUNT',
        `${short(line)}: the bill says ${line.amountUnits} units, the ledger ${onLedger.amountUnits}`,
      );
    for (const share of ['operatorUnits', 'gridUnits'] as const)
      if (line[share] !== onLedger[share])
        fail(
          'SHARES',
          `${short(line)}: ${share} ${line[share]} on the bill, ${onLedger[share]} on the ledger`,
        );
    for (const field of TERMS)
      if (line[field] !== onLedger[field])
        fail(
          'TERMS',
          `${short(line)}: ${field} ${line[field]} on the bill, ${onLedger[field]} on the ledger`,
        );
  }
  for (const [id, line] of ledger)
    if (!stated.has(id))
      fail(
        'MISSING_LINE',
        `${short(line)}: ${line.direction === 'bought' ? 'paid' : 'received'} ${line.amountUnits} units${line.periodId ? ` for period ${line.periodId}` : ''}, not on the bill`,
      );

  const periods = new Map<string, number>();
  for (const l of bill.lines)
    if (l.direction === 'bought' && l.periodId !== undefined)
      periods.set(l.periodId, (periods.get(l.periodId) ?? 0) + 1);
  for (const [periodId, n] of periods)
    if (n > 1) fail('DUPLICATE_PERIOD', `period ${periodId} is bought ${n} times`);

  const totals = totalsOfLines(bill.lines);
  for (const [field, value] of Object.entries(totals)) {
    const said = (bill.totals as Record<string, string>)[field];
    if (said !== value.toString())
      fail('TOTALS', `${field}: the bill says ${said}, its lines add up to ${value}`);
  }

  // An allocation payment has no channel period of its own: `allocate verify` checks it.
  const bought = bill.lines.filter((l) => l.direction === 'bought' && !isAllocationPeriod(l.periodId));
  if (evidence.periods) checkReadings(bought, evidence.periods, fail);
  if (evidence.records) checkRecords(bought, evidence.periods ?? [], evidence.records, fail);
  return findings;
}

type Fail = (code: BillFindingCode, message: string) => void;

function verdictOf(line: BillLineJson, verdicts: readonly PeriodVerdict[]) {
  return verdicts.find((v) => v.transactionId === line.transactionId && v.paymentKey === line.key);
}

function checkReadings(bought: BillLineJson[], verdicts: readonly PeriodVerdict[], fail: Fail) {
  for (const line of bought) {
    const v = verdictOf(line, verdicts);
    if (!v) fail('READINGS', `${short(line)}: its readings were not found`);
    else if (v.code === 'PENDING_INDEX') fail('PENDING_INDEX', `${short(line)}: ${v.detail}`);
    else if (!v.ok) fail('READINGS', `${short(line)}: ${v.code}: ${v.detail}`);
    else if (String(v.payment?.energyMWs ?? '') !== line.energyMWs)
      fail('READINGS', `${short(line)}: ${line.energyMWs} mWs on the bill, ${v.payment?.energyMWs} verified`);
  }
}

function checkRecords(
  bought: BillLineJson[],
  verdicts: readonly PeriodVerdict[],
  records: RecordsVerdict,
  fail: Fail,
) {
  for (const f of records.failures)
    fail('RECORDS', `${f.code}${f.line !== undefined ? ` (line ${f.line})` : ''}: ${f.detail}`);
  const closed = new Set(records.records.flatMap((r) => r.periodIds));
  // Only the purchases on the records' own channel: a household may pay for more than one meter.
  for (const line of bought) {
    const channelId = verdictOf(line, verdicts)?.channel?.channelId;
    if (channelId !== undefined && channelId !== records.channelId) continue;
    if (line.periodId !== undefined && !closed.has(line.periodId))
      fail('RECORDS', `${short(line)}: period ${line.periodId} is in none of the records`);
  }
}

/** The verifier's report: PASS, or one `FAIL <CODE>: …` (or `PENDING PENDING_INDEX: …`) line per finding. */
export function findingLines(findings: readonly BillFinding[]): string[] {
  return findings.length === 0
    ? ['PASS']
    : findings.map((f) => `${f.code === 'PENDING_INDEX' ? 'PENDING' : 'FAIL'} ${f.code}: ${f.message}`);
}

/** 0 PASS, 3 when only lines not indexed yet stand in the way (check again later), 1 FAIL. */
export function findingsExitStatus(findings: readonly BillFinding[]): number {
  if (findings.length === 0) return 0;
  return findings.every((f) => f.code === 'PENDING_INDEX') ? 3 : 1;
}
