/** Display helpers: exact (integer arithmetic), for tables and summaries. */

/** 1 token = 10^6 base units on the TangleWatt network. */
export const UNITS_PER_TOKEN = 1_000_000n;

function trimmedFraction(fraction: string, minDigits: number): string {
  let f = fraction;
  while (f.length > minDigits && f.endsWith('0')) f = f.slice(0, -1);
  return f;
}

/** 16500 → "16.5", 500 → "0.5", 20000 → "20.0". */
export function formatKWh(energyWh: number | bigint, minDigits = 1): string {
  const wh = BigInt(energyWh);
  const sign = wh < 0n ? '-' : '';
  const abs = wh < 0n ? -wh : wh;
  const fraction = trimmedFraction((abs % 1000n).toString().padStart(3, '0'), minDigits);
  return `${sign}${abs / 1000n}${fraction ? `.${fraction}` : ''}`;
}

/** 125000000n → "125", 1500n → "0.0015". */
export function formatTokens(units: bigint): string {
  const sign = units < 0n ? '-' : '';
  const abs = units < 0n ? -units : units;
  const fraction = trimmedFraction((abs % UNITS_PER_TOKEN).toString().padStart(6, '0'), 0);
  return `${sign}${abs / UNITS_PER_TOKEN}${fraction ? `.${fraction}` : ''}`;
}

/** A plain-text table: first column left-aligned, the others right-aligned unless `leftAligned`. */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  leftAligned = false,
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 || leftAligned ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** A decimal string cut (not rounded) to `digits` fraction digits, for display. */
export function cutDecimal(text: string, digits: number): string {
  const [whole, fraction = ''] = text.split('.');
  const kept = fraction.slice(0, digits).replace(/0+$/, '');
  return kept ? `${whole}.${kept}` : whole!;
}
