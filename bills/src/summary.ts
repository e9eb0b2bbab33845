import type { BillJson } from '@tanglewatt/contract';
import { parseExact, roundedText } from './exact.js';

/** A share 0…1 as a percentage to 0.1 %. */
function percent(share: string | null): string {
  if (share === null) return 'n/a (no readings)';
  const r = parseExact(share);
  return `${roundedText({ num: r.num * 100n, den: r.den }, 1)} %`;
}

/** The summary as label/value pairs, for the PDF and the CLI (exact values, rounded where they do not end). */
export function billSummaryRows(bill: BillJson): [string, string][] {
  const t = bill.totals;
  const r = bill.readings;
  const approx = (text: string) =>
    text.includes('/') ? `${roundedText(parseExact(text), 3)} (${text})` : text;
  return [
    ['Energy bought (Wh)', approx(t.boughtWh)],
    ['Energy sold (Wh)', approx(t.soldWh)],
    ['Paid, total (base units)', t.paidUnits],
    ['  to producers', t.energyPaidUnits],
    ['  operator fee', t.operatorFeeUnits],
    ['  grid fee', t.gridFeeUnits],
    ['Earned (base units)', t.earnedUnits],
    ['Net: earned - paid', t.netUnits],
    ['Retail baseline (units)', approx(t.retailBaselineUnits)],
    ['Feed-in baseline (units)', approx(t.feedInBaselineUnits)],
    ['Savings from joining (units)', approx(t.savingsUnits)],
    ['Consumption metered (Wh)', approx(r.consumptionWh)],
    ['Production metered (Wh)', approx(r.productionWh)],
    ['Self-sufficiency', percent(bill.selfSufficiency)],
    ['Self-consumption', percent(bill.selfConsumption)],
    ['CO2 avoided (g)', approx(bill.co2AvoidedGrams)],
  ];
}

/** The local calendar day (YYYY-MM-DD) of an instant in an IANA zone. */
export function localDay(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(ms);
}

/** "2026-11-01 to 2026-11-30": the cycle's first and last local day (its end instant is excluded). */
export function cycleDays(bill: BillJson): string {
  const { from, to, timeZone } = bill.cycle;
  return `${localDay(Date.parse(from), timeZone)} to ${localDay(Date.parse(to) - 1, timeZone)}`;
}
