/** An exact fraction num/den with den > 0, always in lowest terms. Money never touches a float. */
export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

export function rational(num: bigint, den = 1n): Rational {
  if (den === 0n) throw new RangeError('denominator 0');
  const sign = den < 0n ? -1n : 1n;
  const g = gcd(num, den) || 1n;
  return { num: (sign * num) / g, den: (sign * den) / g };
}

export const ZERO: Rational = { num: 0n, den: 1n };

export function add(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den + b.num * a.den, a.den * b.den);
}

export function sub(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den - b.num * a.den, a.den * b.den);
}

export function mul(a: Rational, b: Rational): Rational {
  return rational(a.num * b.num, a.den * b.den);
}

/** Largest integer ≤ r (toward −∞, unlike bigint division). */
export function floor(r: Rational): bigint {
  const q = r.num / r.den;
  return r.num < 0n && q * r.den !== r.num ? q - 1n : q;
}

export function div(a: Rational, b: Rational): Rational {
  if (b.num === 0n) throw new RangeError('division by 0');
  return rational(a.num * b.den, a.den * b.num);
}

export function neg(a: Rational): Rational {
  return { num: -a.num, den: a.den };
}

/** −1, 0 or 1 as a is below, equal to or above b. */
export function compare(a: Rational, b: Rational): -1 | 0 | 1 {
  const d = a.num * b.den - b.num * a.den;
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

export function min(a: Rational, b: Rational): Rational {
  return compare(a, b) <= 0 ? a : b;
}

export function max(a: Rational, b: Rational): Rational {
  return compare(a, b) >= 0 ? a : b;
}

export function sum(values: Iterable<Rational>): Rational {
  let total = ZERO;
  for (const v of values) total = add(total, v);
  return total;
}

export function isZero(r: Rational): boolean {
  return r.num === 0n;
}

const DECIMAL = /^(0|[1-9][0-9]*)(\.([0-9]{1,18}))?$/;

/** "12.5" → 25/2 exactly. Non-negative decimals with up to 18 fraction digits. */
export function parseDecimal(text: string): Rational {
  const m = DECIMAL.exec(text);
  if (!m) throw new RangeError(`"${text}" is not a non-negative decimal such as "12" or "0.25"`);
  const fraction = m[3] ?? '';
  return rational(BigInt(m[1]! + fraction), 10n ** BigInt(fraction.length));
}

export function isDecimal(text: string): boolean {
  return DECIMAL.test(text);
}

/** The decimal string of r when it has one with at most `maxDigits` fraction digits, else undefined. */
export function formatDecimal(r: Rational, maxDigits = 18): string | undefined {
  if (r.num < 0n) return undefined;
  for (let digits = 0; digits <= maxDigits; digits++) {
    const scale = 10n ** BigInt(digits);
    if ((r.num * scale) % r.den !== 0n) continue;
    const scaled = ((r.num * scale) / r.den).toString().padStart(digits + 1, '0');
    return digits === 0 ? scaled : `${scaled.slice(0, -digits)}.${scaled.slice(-digits)}`;
  }
  return undefined;
}

/** "num/den", the form rationals take in journal records. */
export function formatRational(r: Rational): string {
  return `${r.num}/${r.den}`;
}

export function parseRational(text: string): Rational {
  const m = /^(-?[0-9]+)\/([0-9]+)$/.exec(text);
  if (!m) throw new RangeError(`"${text}" is not a fraction "num/den"`);
  return rational(BigInt(m[1]!), BigInt(m[2]!));
}
