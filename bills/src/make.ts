import type { BillFormat, BillJson } from '@tanglewatt/contract';
import { buildBill } from './build.js';
import type { BillConfig } from './config.js';
import { billCsv } from './csv.js';
import type { BillIndexer } from './indexer-blocks.js';
import { billToJson } from './json.js';
import { billPdf } from './pdf.js';
import { type ReadBillOptions, readBillSources } from './reader.js';

/** A household's bill for the config's cycle, read from the indexer and built. */
export async function billFromIndexer(
  api: BillIndexer,
  household: string,
  config: BillConfig,
  options: Omit<ReadBillOptions, 'fromMs' | 'toMs'> & { warnings?: string[] } = {},
): Promise<BillJson> {
  const sources = await readBillSources(api, household, {
    ...options,
    fromMs: config.fromMs,
    toMs: config.toMs,
  });
  const bill = buildBill({
    household,
    config,
    payments: sources.payments,
    readings: sources.readings,
    warnings: [...(options.warnings ?? []), ...sources.warnings],
  });
  return billToJson(bill);
}

export interface RenderedBill {
  body: string | Uint8Array;
  contentType: string;
  fileName: string;
}

/** The bill as a file of the format: JSON, CSV (RFC 4180) or PDF. */
export async function renderBill(bill: BillJson, format: BillFormat): Promise<RenderedBill> {
  const name = `bill-${bill.cycle.from.slice(0, 10)}`;
  if (format === 'csv')
    return {
      body: billCsv(bill),
      contentType: 'text/csv; charset=utf-8; header=present',
      fileName: `${name}.csv`,
    };
  if (format === 'pdf')
    return { body: await billPdf(bill), contentType: 'application/pdf', fileName: `${name}.pdf` };
  return {
    body: `${JSON.stringify(bill, null, 2)}\n`,
    contentType: 'application/json',
    fileName: `${name}.json`,
  };
}
