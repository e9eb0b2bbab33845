/**
 * The bill's exact numbers ("12.5", "-3", "10/3") for people: a fraction rounded to `digits` decimals
 * (half away from zero, in bigint), a decimal as it is. Charts take the float.
 */
export function formatExact(text: string | null | undefined, digits = 2): string {
  if (text === null || text === undefined) return '—';
  const m = /^(-?)([0-9]+)\/([0-9]+)$/.exec(text);
  if (!m) return text;
  const num = BigInt(m[2]!);
  const den = BigInt(m[3]!);
  const scale = 10n ** BigInt(digits);
  const scaled = (num * scale * 2n + den) / (2n * den);
  const whole = (scaled / scale).toString();
  const fraction = digits > 0 ? `.${(scaled % scale).toString().padStart(digits, '0')}` : '';
  return `${m[1] && scaled !== 0n ? '-' : ''}≈${whole}${fraction}`;
}

export function exactToNumber(text: string): number {
  const [num, den] = text.split('/');
  return Number(num) / (den === undefined ? 1 : Number(den));
}

/** A share 0…1 (exact text) as a percentage to 0.1 %. */
export function formatShare(text: string | null): string {
  if (text === null) return 'n/a';
  return `${(exactToNumber(text) * 100).toFixed(1)} %`;
}
