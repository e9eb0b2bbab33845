import type { BillJson } from '@tanglewatt/contract';
import type { Bill } from './build.js';
import { exactText, whOf } from './exact.js';

const wh = (mws: bigint) => exactText(whOf(mws));

/** The bill as JSON (contract's `bill` schema): whole numbers as strings, exact values as exact text. */
export function billToJson(bill: Bill): BillJson {
  return {
    household: bill.household,
    cycle: {
      from: new Date(bill.fromMs).toISOString(),
      to: new Date(bill.toMs).toISOString(),
      timeZone: bill.timeZone,
    },
    bands: bill.bands.map((b) => ({
      digit: b.digit,
      boughtMWs: b.boughtMWs.toString(),
      boughtWh: wh(b.boughtMWs),
      soldMWs: b.soldMWs.toString(),
      soldWh: wh(b.soldMWs),
      retailUnitsPerWh: exactText(b.retailUnitsPerWh),
      feedInUnitsPerWh: exactText(b.feedInUnitsPerWh),
      retailBaselineUnits: exactText(b.retailBaselineUnits),
      feedInBaselineUnits: exactText(b.feedInBaselineUnits),
    })),
    totals: {
      boughtMWs: bill.boughtMWs.toString(),
      boughtWh: wh(bill.boughtMWs),
      soldMWs: bill.soldMWs.toString(),
      soldWh: wh(bill.soldMWs),
      paidUnits: bill.paidUnits.toString(),
      energyPaidUnits: bill.energyPaidUnits.toString(),
      operatorFeeUnits: bill.operatorFeeUnits.toString(),
      gridFeeUnits: bill.gridFeeUnits.toString(),
      earnedUnits: bill.earnedUnits.toString(),
      netUnits: (bill.earnedUnits - bill.paidUnits).toString(),
      retailBaselineUnits: exactText(bill.retailBaselineUnits),
      feedInBaselineUnits: exactText(bill.feedInBaselineUnits),
      savingsUnits: exactText(bill.savingsUnits),
    },
    readings: {
      consumptionMWs: bill.consumptionMWs.toString(),
      consumptionWh: wh(bill.consumptionMWs),
      productionMWs: bill.productionMWs.toString(),
      productionWh: wh(bill.productionMWs),
      periods: bill.readings.map((r) => ({
        channelId: r.channelId,
        periodId: r.periodId,
        startMs: r.startMs,
        endMs: r.endMs,
        energyMWs: r.energyMWs.toString(),
      })),
    },
    selfSufficiency: bill.selfSufficiency ? exactText(bill.selfSufficiency) : null,
    selfConsumption: bill.selfConsumption ? exactText(bill.selfConsumption) : null,
    co2AvoidedGrams: exactText(bill.co2AvoidedGrams),
    lines: bill.lines.map((l) => ({
      direction: l.direction,
      key: l.terms.key,
      ...(l.terms.periodId !== undefined ? { periodId: l.terms.periodId } : {}),
      ...(l.terms.meterId !== undefined ? { meterId: l.terms.meterId } : {}),
      ...(l.terms.periodStart !== undefined ? { periodStart: l.terms.periodStart } : {}),
      ...(l.terms.periodEnd !== undefined ? { periodEnd: l.terms.periodEnd } : {}),
      transactionId: l.transactionId,
      blockId: l.blockId,
      milestoneIndex: l.milestoneIndex,
      milestoneTimestamp: l.milestoneTimestamp,
      counterparty: l.counterparty,
      energyMWs: l.energyMWs.toString(),
      bands: Object.fromEntries([...l.bands].map(([digit, mws]) => [String(digit), mws.toString()])),
      amountUnits: l.amountUnits.toString(),
      operatorUnits: l.operatorUnits.toString(),
      gridUnits: l.gridUnits.toString(),
      ...(l.terms.tariff ? { tariff: l.terms.tariff } : {}),
      ...(l.readings !== undefined ? { readings: l.readings } : {}),
      ...(l.repaidBy.length > 0 ? { repaidBy: l.repaidBy } : {}),
    })),
    warnings: bill.warnings,
  };
}
