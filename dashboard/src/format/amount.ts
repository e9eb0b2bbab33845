/** Money is bigint or a decimal string end to end: a float would lose base units. */

export interface TokenInfo {
  decimals: number;
  ticker: string;
}

export const DEFAULT_TOKEN: TokenInfo = { decimals: 6, ticker: 'WATT' };

const WHOLE = /^-?(0|[1-9][0-9]*)$/;

/** Parses base units (decimal string or bigint); undefined when it is not a whole number. */
export function parseUnits(units: string | bigint | number | undefined | null): bigint | undefined {
  if (units === undefined || units === null) return undefined;
  if (typeof units === 'bigint') return units;
  if (typeof units === 'number') return Number.isSafeInteger(units) ? BigInt(units) : undefined;
  const s = units.trim();
  return WHOLE.test(s) ? BigInt(s) : undefined;
}

/** 1234567 → "1,234,567". */
export function groupDigits(value: bigint | string): string {
  const s = value.toString();
  const negative = s.startsWith('-');
  const digits = negative ? s.slice(1) : s;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return negative ? `-${grouped}` : grouped;
}

/** Base units as whole tokens, without trailing zeros: 1500000 → "1.5", 50000 → "0.05". */
export function unitsToTokens(units: bigint, decimals = DEFAULT_TOKEN.decimals): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const scale = 10n ** BigInt(decimals);
  const whole = groupDigits(abs / scale);
  const fraction = decimals > 0 ? (abs % scale).toString().padStart(decimals, '0').replace(/0+$/, '') : '';
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** "0.05 WATT" and "50,000 units", or placeholders when the input is not a whole number. */
export function formatAmount(
  units: string | bigint | undefined | null,
  token: TokenInfo = DEFAULT_TOKEN,
): { tokens: string; units: string } {
  const value = parseUnits(units);
  if (value === undefined) return { tokens: '—', units: '—' };
  return {
    tokens: `${unitsToTokens(value, token.decimals)} ${token.ticker}`,
    units: `${groupDigits(value)} ${value === 1n || value === -1n ? 'unit' : 'units'}`,
  };
}

/** One line: "0.05 WATT (50,000 units)". */
export function formatAmountLine(units: string | bigint | undefined | null, token?: TokenInfo): string {
  const a = formatAmount(units, token);
  return a.tokens === '—' ? '—' : `${a.tokens} (${a.units})`;
}

/** An exact decimal: digits scaled by 10^-scale. */
export interface Decimal {
  digits: bigint;
  scale: number;
}

export function parseDecimal(text: string): Decimal | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  const fraction = m[3] ?? '';
  const digits = BigInt(`${m[2]}${fraction}`);
  return { digits: m[1] ? -digits : digits, scale: fraction.length };
}

export function formatDecimal(d: Decimal, maxFractionDigits = 18): string {
  let { digits, scale } = d;
  // Round half away from zero when cutting digits.
  if (scale > maxFractionDigits) {
    const cut = 10n ** BigInt(scale - maxFractionDigits);
    const half = cut / 2n;
    digits = digits < 0n ? -((-digits + half) / cut) : (digits + half) / cut;
    scale = maxFractionDigits;
  }
  const negative = digits < 0n;
  const abs = (negative ? -digits : digits).toString().padStart(scale + 1, '0');
  const whole = abs.slice(0, abs.length - scale);
  const fraction = abs.slice(abs.length - scale).replace(/0+$/, '');
  return `${negative ? '-' : ''}${groupDigits(whole)}${fraction ? `.${fraction}` : ''}`;
}

export function mulDecimal(d: Decimal, factor: bigint): Decimal {
  return { digits: d.digits * factor, scale: d.scale };
}

/** Shifts the decimal point: ×10^-places. */
export function shiftDecimal(d: Decimal, places: number): Decimal {
  return places >= 0
    ? { digits: d.digits, scale: d.scale + places }
    : { digits: d.digits * 10n ** BigInt(-places), scale: d.scale };
}

/** A price in base units per Wh, shown per kWh in tokens too: "250 units/Wh (0.25 WATT/kWh)". */
export function formatPricePerWh(unitsPerWh: string | undefined, token: TokenInfo = DEFAULT_TOKEN): string {
  if (unitsPerWh === undefined) return '—';
  const d = parseDecimal(unitsPerWh);
  if (!d) return '—';
  // units/Wh × 1000 = units/kWh; ÷ 10^decimals = tokens/kWh.
  const perKWh = shiftDecimal(mulDecimal(d, 1000n), token.decimals);
  return `${formatDecimal(d, 6)} units/Wh (${formatDecimal(perKWh, 6)} ${token.ticker}/kWh)`;
}

/** The meter agent's price config: units per Wh, or per mW·s (1 Wh = 3,600,000 mW·s). */
export function priceToUnitsPerWh(
  price: { unitsPerWh: string } | { unitsPerMWs: string } | undefined,
): string | undefined {
  if (!price) return undefined;
  if ('unitsPerWh' in price) return price.unitsPerWh;
  const d = parseDecimal(price.unitsPerMWs);
  return d ? formatDecimal(mulDecimal(d, 3_600_000n), 18).replaceAll(',', '') : undefined;
}
