/**
 * The bill as a PDF (pdf-lib: pure JavaScript, no native parts), for people: the summary, the bands and a
 * line per paid period with its transaction, block and milestone, so each can be checked on the ledger.
 * Standard Helvetica (WinAnsi text only: "CO2", not a subscript).
 */
import type { BillJson } from '@tanglewatt/contract';
import { PDFDocument, type PDFFont, type PDFPage, rgb, StandardFonts } from 'pdf-lib';
import { billSummaryRows, cycleDays } from './summary.js';

const PAGE: [number, number] = [595.28, 841.89]; // A4 in points
const MARGIN = 48;
const SIZE = 9;
const LEADING = 13;

/** Keeps only what WinAnsi can encode (the standard fonts' alphabet). */
function winAnsi(text: string): string {
  return text.replace(/[^\x20-\x7e\u00a0-\u00ff]/g, '?');
}

class Writer {
  page: PDFPage;
  y: number;

  constructor(
    private readonly doc: PDFDocument,
    private readonly font: PDFFont,
    private readonly bold: PDFFont,
  ) {
    this.page = doc.addPage(PAGE);
    this.y = PAGE[1] - MARGIN;
  }

  private room(lines = 1): void {
    if (this.y - lines * LEADING >= MARGIN) return;
    this.page = this.doc.addPage(PAGE);
    this.y = PAGE[1] - MARGIN;
  }

  text(text: string, options: { bold?: boolean; size?: number; x?: number } = {}): void {
    this.room();
    const size = options.size ?? SIZE;
    this.page.drawText(winAnsi(text), {
      x: MARGIN + (options.x ?? 0),
      y: this.y,
      size,
      font: options.bold ? this.bold : this.font,
      color: rgb(0.1, 0.1, 0.1),
    });
    this.y -= size > SIZE ? size + 6 : LEADING;
  }

  /** Cells at fixed x offsets on one line. */
  row(cells: string[], xs: number[], bold = false): void {
    this.room();
    cells.forEach((cell, i) => {
      this.page.drawText(winAnsi(cell), {
        x: MARGIN + xs[i]!,
        y: this.y,
        size: SIZE - 1,
        font: bold ? this.bold : this.font,
      });
    });
    this.y -= LEADING - 2;
  }

  gap(): void {
    this.y -= LEADING / 2;
  }
}

const short = (id: string) => (id.length > 20 ? `${id.slice(0, 12)}...${id.slice(-6)}` : id);

export async function billPdf(bill: BillJson): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(`TangleWatt bill ${cycleDays(bill)}`);
  doc.setSubject(`Member bill of ${bill.household}`);
  doc.setProducer('TangleWatt bills (pdf-lib)');
  doc.setCreationDate(new Date(bill.cycle.to));
  doc.setModificationDate(new Date(bill.cycle.to));
  const w = new Writer(
    doc,
    await doc.embedFont(StandardFonts.Helvetica),
    await doc.embedFont(StandardFonts.HelveticaBold),
  );

  w.text('TangleWatt member bill', { bold: true, size: 16 });
  w.text(`Household ${bill.household}`);
  w.text(
    `Cycle ${cycleDays(bill)} (${bill.cycle.timeZone}; ${bill.cycle.from} to ${bill.cycle.to}, end excluded)`,
  );
  w.gap();
  w.text('Summary', { bold: true, size: 12 });
  for (const [label, value] of billSummaryRows(bill)) w.row([label, value], [0, 220]);
  w.gap();

  w.text('Bands (OBIS 1.8.x bought, 2.8.x sold)', { bold: true, size: 12 });
  const bandX = [0, 50, 150, 250, 350];
  w.row(['band', 'bought Wh', 'sold Wh', 'retail baseline', 'feed-in baseline'], bandX, true);
  for (const b of bill.bands)
    w.row([String(b.digit), b.boughtWh, b.soldWh, b.retailBaselineUnits, b.feedInBaselineUnits], bandX);
  w.gap();

  w.text('Paid periods (check each on the ledger by its transaction and block)', { bold: true, size: 12 });
  const lineX = [0, 40, 160, 235, 300, 355, 400, 470];
  w.row(
    ['', 'period', 'start', 'energy mWs', 'units', 'fees', 'milestone', 'transaction / block'],
    lineX,
    true,
  );
  for (const l of bill.lines) {
    const fees = (BigInt(l.operatorUnits) + BigInt(l.gridUnits)).toString();
    w.row(
      [
        l.direction,
        short(l.periodId ?? l.key),
        l.periodStart?.slice(5, 19) ?? '',
        l.energyMWs,
        l.amountUnits,
        fees,
        String(l.milestoneIndex),
        short(l.transactionId),
      ],
      lineX,
    );
    w.row(['', l.readings ? `readings ${l.readings}` : '', '', '', '', '', '', short(l.blockId)], lineX);
  }
  if (bill.warnings.length) {
    w.gap();
    w.text('Warnings', { bold: true, size: 12 });
    for (const warning of bill.warnings) w.text(warning.slice(0, 120));
  }
  return doc.save();
}
