import type { BillJson } from '@tanglewatt/contract';
import { decodePDFRawStream, PDFDocument, PDFRawStream } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { buildBill, type LedgerPayment } from './build.js';
import { parseBillConfig } from './config.js';
import { BILL_CSV_COLUMNS, billCsv } from './csv.js';
import { billToJson } from './json.js';
import { billPdf } from './pdf.js';

const WH = 3_600_000n;
const config = parseBillConfig(
  { retailUnitsPerWh: '0.5', feedInUnitsPerWh: '0.1', co2GramsPerKWh: '350' },
  { from: '2026-11-01', to: '2026-11-30' },
);
const sent = (n: number, units: bigint, extra: object = {}): LedgerPayment => ({
  direction: 'sent',
  transactionId: `0x${String(n).padStart(64, '0')}`,
  blockId: `0x${String(n + 50).padStart(64, '0')}`,
  milestoneIndex: 500 + n,
  milestoneTimestamp: Date.parse('2026-11-02T00:00:00Z') / 1000,
  counterparty: 'tw1producer',
  amountUnits: units,
  description: {
    k: `house-1/p${n}`,
    o: 0,
    energyMWs: (100n * WH).toString(),
    periodStart: `2026-11-0${n}T10:00:00.000Z`,
    ...extra,
  },
});

function exampleBill(): BillJson {
  return billToJson(
    buildBill({
      household: 'tw1house',
      config,
      payments: [sent(1, 40n, { note: 'says "hi", twice\nwith a line break' }), sent(2, 45n)],
      readings: [],
    }),
  );
}

/** RFC 4180 rows of a CSV text (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

/** The text a page's content streams draw (pdf-lib writes standard-font text as hex strings). */
async function pdfText(bytes: Uint8Array): Promise<string> {
  const doc = await PDFDocument.load(bytes);
  let text = '';
  for (const [, object] of doc.context.enumerateIndirectObjects()) {
    if (!(object instanceof PDFRawStream)) continue;
    const content = Buffer.from(decodePDFRawStream(object).decode()).toString('latin1');
    for (const m of content.matchAll(/<([0-9A-Fa-f]*)> Tj/g))
      text += `${Buffer.from(m[1]!, 'hex').toString('latin1')}\n`;
  }
  return text;
}

describe('bill CSV', () => {
  it('is RFC 4180: a header, CRLF rows of the same width, a line per paid period and the totals', () => {
    const csv = billCsv(exampleBill());
    expect(csv.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual([...BILL_CSV_COLUMNS]);
    expect(new Set(rows.map((r) => r.length))).toEqual(new Set([BILL_CSV_COLUMNS.length]));
    const col = (name: (typeof BILL_CSV_COLUMNS)[number]) => BILL_CSV_COLUMNS.indexOf(name);
    const bought = rows.filter((r) => r[col('row')] === 'bought');
    expect(bought.map((r) => [r[col('name')], r[col('units')], r[col('energyWh')]])).toEqual([
      ['house-1/p1', '40', '100.000'],
      ['house-1/p2', '45', '100.000'],
    ]);
    const total = (name: string) => rows.find((r) => r[col('row')] === 'total' && r[col('name')] === name)!;
    expect(total('paid')[col('units')]).toBe('85');
    // 200 Wh × 0.5 = 100 at retail; 100 − 85 saved.
    expect(total('savings')[col('units')]).toBe('15');
    expect(total('co2AvoidedGrams')[col('units')]).toBe('70');
  });

  it('quotes a field holding a comma, a quote or a line break', async () => {
    const { csvField } = await import('./csv.js');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField('plain')).toBe('plain');
  });
});

describe('bill PDF', () => {
  it('loads back with pdf-lib and holds the totals and each period’s transaction', async () => {
    const bill = exampleBill();
    const bytes = await billPdf(bill);
    expect(Buffer.from(bytes.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    const doc = await PDFDocument.load(bytes);
    expect(doc.getTitle()).toBe('TangleWatt bill 2026-11-01 to 2026-11-30');
    expect(doc.getPageCount()).toBe(1);
    const text = await pdfText(bytes);
    expect(text).toContain('Paid, total (base units)\n85\n');
    expect(text).toContain('Savings from joining (units)\n15\n');
    expect(text).toContain('CO2 avoided (g)\n70\n');
    expect(text).toContain(`${bill.lines[0]!.transactionId.slice(0, 12)}...`);
  });

  it('runs onto more pages for a long cycle', async () => {
    const payments = Array.from({ length: 80 }, (_, i) => ({
      ...sent(1, 1n),
      transactionId: `0x${String(i).padStart(64, '0')}`,
    }));
    const bill = billToJson(buildBill({ household: 'tw1house', config, payments, readings: [] }));
    const doc = await PDFDocument.load(await billPdf(bill));
    expect(doc.getPageCount()).toBeGreaterThan(1);
  });
});
