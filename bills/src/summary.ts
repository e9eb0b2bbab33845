import type { BillJson } from '@tanglewatt/contract';
import { parseExact, roundedText } from './exact.js';

const percent = (share: string | null) =>
  share === null ? 'n/a (no readings)' : `${roundedText({ ...scaled(share) }, 1)} %`;

function scaled(share: string) {
  const r = parseExact(share);
  return { num: r.num * 100n, den: r.den };
}

/** The summary as label/value pairs, for the PDF and the CLI (exact values, rounded where they do not end). */
export function billSummaryRows(bill: BillJson): [string, string][] {
  const t = bill.totals;
  const r = bill.readings;
  const approx = (text: string) => (text.includes('/') ? `${roundedText(parseExact(text), 3)} (${text})` : text);
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
