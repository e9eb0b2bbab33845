/**
 * Exact numbers as text. Energy in Wh is mWs / 3,600,000 and savings are Wh × a decimal price: neither need
 * end in a decimal, so the text is the decimal when it has one and the fraction "num/den" otherwise.
 */
import type { Rational } from '@tanglewatt/tariff';
import { rational } from '@tanglewatt/tariff';

export const MWS_PER_WH = 3_600_000n;

export function whOf(energyMWs: bigint): Rational {
  return rational.rational(energyMWs, MWS_PER_WH);
}

/** "12.5", "-3" or "10/3": exact, signed. */
export function exactText(r: Rational): string {
  const negative = r.num < 0n;
  const magnitude = negative ? rational.neg(r) : r;
  const text = rational.formatDecimal(magnitude) ?? `${magnitude.num}/${magnitude.den}`;
  return negative && r.num !== 0n ? `-${text}` : text;
}

/** Reads exactText back: "12.5", "-3", "10/3". */
export function parseExact(text: string): Rational {
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  const r = body.includes('/') ? rational.parseRational(body) : rational.parseDecimal(body);
  return negative ? rational.neg(r) : r;
}

/** Rounded half away from zero to `digits` fraction digits, for people (the exact value stays beside it). */
export function roundedText(r: Rational, digits = 3): string {
  const scale = 10n ** BigInt(digits);
  const negative = r.num < 0n;
  const n = negative ? -r.num : r.num;
  const scaled = (n * scale * 2n + r.den) / (2n * r.den);
  const whole = (scaled / scale).toString();
  const fraction = digits > 0 ? `.${(scaled % scale).toString().padStart(digits, '0')}` : '';
  return `${negative && scaled !== 0n ? '-' : ''}${whole}${fraction}`;
}
