/**
 * The bill, built by a pure function from what the ledger and the meter channels say: the household's
 * payments sent and received (with their public descriptions) and its meter's period summaries. Money is
 * bigint base units, baselines and shares exact rationals; nothing is rounded here.
 */
import { type Rational, rational } from '@tanglewatt/tariff';
import { type BandPrices, type BillConfig, priceOf } from './config.js';
import { type PaymentTerms, type RepaidRole, readDescription, type ShareRole } from './describe.js';
import { BillError } from './errors.js';
import { whOf } from './exact.js';

const { add, mul, sub, div, ZERO } = rational;

/** One payment the household sent or received, as the ledger holds it. */
export interface LedgerPayment {
  direction: 'sent' | 'received';
  transactionId: string;
  blockId: string;
  milestoneIndex: number;
  /** Unix seconds of the confirming milestone. */
  milestoneTimestamp: number;
  /** The payee of a sent payment, the payer of a received one (bech32). */
  counterparty: string;
  /** The output the description's `o` names, less any deposit owed back to the payer. */
  amountUnits: bigint;
  /** The fee outputs its description's `shares` name, as the ledger holds them (sent payments). */
  shares?: { role: ShareRole; units: bigint; to?: string }[];
  /**
   * Its outputs (payee's, operator's, grid's) that expired unclaimed and were taken back by the payer: not
   * paid, so counted 0 in amountUnits and shares (a repayment pays them again).
   */
  takenBack?: { role: RepaidRole; outputId: string; units: bigint }[];
  /** The raw entry of the transaction's `tanglewatt/pay/v1` description. */
  description: unknown;
  /** Whether its readings were checked against its readingsHash: PASS, or the failure's code. */
  readings?: string;
}

/** One period summary from the household's meter channel. */
export interface MeterReading {
  channelId: string;
  periodId: string;
  startMs: number;
  endMs: number;
  /** Signed: import positive, export negative. */
  energyMWs: bigint;
}

export interface BillInput {
  household: string;
  config: BillConfig;
  payments: readonly LedgerPayment[];
  readings: readonly MeterReading[];
  /** What the reader could not read (carried into the bill). */
  warnings?: readonly string[];
}

export interface BillLine {
  direction: 'bought' | 'sold';
  terms: PaymentTerms;
  transactionId: string;
  blockId: string;
  milestoneIndex: number;
  milestoneTimestamp: number;
  counterparty: string;
  energyMWs: bigint;
  bands: Map<number, bigint>;
  amountUnits: bigint;
  operatorUnits: bigint;
  gridUnits: bigint;
  readings?: string;
  /** Unix ms the line is billed at: its period start, else its milestone. */
  atMs: number;
  /** Transactions of repayments counted in this line (its outputs that expired, paid again). */
  repaidBy: string[];
}

export interface BandTotals {
  digit: number;
  boughtMWs: bigint;
  soldMWs: bigint;
  retailUnitsPerWh: Rational;
  feedInUnitsPerWh: Rational;
  retailBaselineUnits: Rational;
  feedInBaselineUnits: Rational;
}

export interface Bill {
  household: string;
  fromMs: number;
  toMs: number;
  timeZone: string;
  bands: BandTotals[];
  boughtMWs: bigint;
  soldMWs: bigint;
  paidUnits: bigint;
  energyPaidUnits: bigint;
  operatorFeeUnits: bigint;
  gridFeeUnits: bigint;
  earnedUnits: bigint;
  retailBaselineUnits: Rational;
  feedInBaselineUnits: Rational;
  savingsUnits: Rational;
  consumptionMWs: bigint;
  productionMWs: bigint;
  readings: MeterReading[];
  selfSufficiency: Rational | null;
  selfConsumption: Rational | null;
  co2AvoidedGrams: Rational;
  lines: BillLine[];
  warnings: string[];
}

/** Energy of a payment per band: its `bands`, else all of its energy in band 1. */
function bandsOf(terms: PaymentTerms, warn: (m: string) => void): Map<number, bigint> {
  const energy = terms.energyMWs ?? 0n;
  if (terms.energyMWs === undefined) warn(`payment "${terms.key}" states no energyMWs: counted as 0`);
  if (energy < 0n) {
    warn(`payment "${terms.key}" states negative energy: counted as 0`);
    return new Map();
  }
  if (!terms.bands) return new Map(energy > 0n ? [[1, energy]] : []);
  let sum = 0n;
  for (const mws of terms.bands.values()) sum += mws;
  if (sum !== energy)
    warn(`payment "${terms.key}": its bands add up to ${sum} mWs, its energyMWs is ${energy}: bands counted`);
  return terms.bands;
}

function price(prices: BandPrices, band: number, field: string, what: string): Rational {
  const p = priceOf(prices, band);
  if (p === undefined)
    throw new BillError('INVALID_CONFIG', `${field}: no price for band ${band}, which this cycle ${what} in`);
  return p;
}

/** The payment a repayment pays again, on the ledger among the household's: the same direction and key. */
function originalOf(p: LedgerPayment, terms: PaymentTerms, payments: readonly LedgerPayment[]) {
  const repays = terms.repays;
  if (!repays) return undefined;
  return payments.find(
    (o) =>
      o.direction === p.direction &&
      readDescription(o.description)?.key === repays.key &&
      repays.outputId.startsWith(o.transactionId.toLowerCase()),
  );
}

/**
 * A repayment's amount, added to the line of the payment it pays again (same role), so the line holds what
 * its payee finally received; nothing when that line is outside the cycle (its period is billed there).
 */
function countRepayment(p: LedgerPayment, terms: PaymentTerms, lines: BillLine[]): void {
  const repays = terms.repays!;
  const line = lines.find(
    (l) =>
      l.direction === (p.direction === 'sent' ? 'bought' : 'sold') &&
      l.terms.key === repays.key &&
      repays.outputId.startsWith(l.transactionId.toLowerCase()),
  );
  if (!line) return;
  if (repays.role === 'payee') line.amountUnits += p.amountUnits;
  else if (repays.role === 'operator') line.operatorUnits += p.amountUnits;
  else line.gridUnits += p.amountUnits;
  line.repaidBy.push(p.transactionId);
}

export function buildBill(input: BillInput): Bill {
  const { config } = input;
  const warnings = [...(input.warnings ?? [])];
  const warn = (m: string) => warnings.push(m);
  const inCycle = (ms: number) => ms >= config.fromMs && ms < config.toMs;

  const lines: BillLine[] = [];
  const repayments: { p: LedgerPayment; terms: PaymentTerms }[] = [];
  for (const p of input.payments) {
    const terms = readDescription(p.description, warn);
    if (!terms) continue;
    if (terms.repays) {
      if (originalOf(p, terms, input.payments)) {
        repayments.push({ p, terms });
        continue;
      }
      warn(
        `payment "${terms.key}" repays "${terms.repays.key}", which is not on the ledger: billed on its own`,
      );
    }
    const atMs = terms.periodStart ? Date.parse(terms.periodStart) : p.milestoneTimestamp * 1000;
    if (!inCycle(atMs)) continue;
    const shares =
      p.direction === 'sent'
        ? (p.shares ??
          terms.shares.map((s) => {
            if (s.a === undefined) warn(`payment "${terms.key}": its ${s.role} share states no amount`);
            return { role: s.role, units: s.a ?? 0n };
          }))
        : [];
    const fee = (role: ShareRole) => shares.filter((s) => s.role === role).reduce((t, s) => t + s.units, 0n);
    lines.push({
      direction: p.direction === 'sent' ? 'bought' : 'sold',
      terms,
      transactionId: p.transactionId,
      blockId: p.blockId,
      milestoneIndex: p.milestoneIndex,
      milestoneTimestamp: p.milestoneTimestamp,
      counterparty: p.counterparty,
      energyMWs: terms.energyMWs ?? 0n,
      bands: bandsOf(terms, warn),
      amountUnits: p.amountUnits,
      operatorUnits: fee('operator'),
      gridUnits: fee('grid'),
      ...(p.readings !== undefined ? { readings: p.readings } : {}),
      atMs,
      repaidBy: [],
    });
  }
  for (const r of repayments) countRepayment(r.p, r.terms, lines);
  lines.sort(
    (a, b) => a.atMs - b.atMs || a.milestoneIndex - b.milestoneIndex || (a.terms.key < b.terms.key ? -1 : 1),
  );

  const bought = new Map<number, bigint>();
  const sold = new Map<number, bigint>();
  let energyPaidUnits = 0n;
  let operatorFeeUnits = 0n;
  let gridFeeUnits = 0n;
  let earnedUnits = 0n;
  for (const line of lines) {
    const into = line.direction === 'bought' ? bought : sold;
    for (const [digit, mws] of line.bands) into.set(digit, (into.get(digit) ?? 0n) + mws);
    if (line.direction === 'bought') {
      energyPaidUnits += line.amountUnits;
      operatorFeeUnits += line.operatorUnits;
      gridFeeUnits += line.gridUnits;
    } else earnedUnits += line.amountUnits;
  }

  const digits = [...new Set([...bought.keys(), ...sold.keys()])].sort((a, b) => a - b);
  const bands: BandTotals[] = digits.map((digit) => {
    const boughtMWs = bought.get(digit) ?? 0n;
    const soldMWs = sold.get(digit) ?? 0n;
    const retail =
      boughtMWs > 0n
        ? price(config.retail, digit, 'retailUnitsPerWh', 'bought energy')
        : (priceOf(config.retail, digit) ?? ZERO);
    const feedIn =
      soldMWs > 0n
        ? price(config.feedIn, digit, 'feedInUnitsPerWh', 'sold energy')
        : (priceOf(config.feedIn, digit) ?? ZERO);
    return {
      digit,
      boughtMWs,
      soldMWs,
      retailUnitsPerWh: retail,
      feedInUnitsPerWh: feedIn,
      retailBaselineUnits: mul(whOf(boughtMWs), retail),
      feedInBaselineUnits: mul(whOf(soldMWs), feedIn),
    };
  });

  const sumOf = (values: bigint[]) => values.reduce((t, v) => t + v, 0n);
  const boughtMWs = sumOf(bands.map((b) => b.boughtMWs));
  const soldMWs = sumOf(bands.map((b) => b.soldMWs));
  const paidUnits = energyPaidUnits + operatorFeeUnits + gridFeeUnits;
  const retailBaselineUnits = rational.sum(bands.map((b) => b.retailBaselineUnits));
  const feedInBaselineUnits = rational.sum(bands.map((b) => b.feedInBaselineUnits));
  const savingsUnits = add(
    sub(retailBaselineUnits, rational.rational(paidUnits)),
    sub(rational.rational(earnedUnits), feedInBaselineUnits),
  );

  // One summary per channel and period (a period read twice counts once), inside the cycle.
  const seen = new Set<string>();
  const readings: MeterReading[] = [];
  for (const r of [...input.readings].sort((a, b) => a.startMs - b.startMs)) {
    const id = `${r.channelId}\u0000${r.periodId}`;
    if (seen.has(id) || !inCycle(r.startMs)) continue;
    seen.add(id);
    readings.push(r);
  }
  const consumptionMWs = sumOf(readings.map((r) => (r.energyMWs > 0n ? r.energyMWs : 0n)));
  const productionMWs = sumOf(readings.map((r) => (r.energyMWs < 0n ? -r.energyMWs : 0n)));

  return {
    household: input.household,
    fromMs: config.fromMs,
    toMs: config.toMs,
    timeZone: config.timeZone,
    bands,
    boughtMWs,
    soldMWs,
    paidUnits,
    energyPaidUnits,
    operatorFeeUnits,
    gridFeeUnits,
    earnedUnits,
    retailBaselineUnits,
    feedInBaselineUnits,
    savingsUnits,
    consumptionMWs,
    productionMWs,
    readings,
    selfSufficiency: consumptionMWs > 0n ? rational.rational(boughtMWs, consumptionMWs) : null,
    selfConsumption: productionMWs > 0n ? rational.rational(soldMWs, productionMWs) : null,
    co2AvoidedGrams: div(mul(whOf(boughtMWs), config.co2GramsPerKWh), rational.rational(1000n)),
    lines,
    warnings,
  };
}
