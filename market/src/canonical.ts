import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { MarketError } from './errors.js';

/**
 * Canonical JSON: RFC 8785 (JCS) restricted to what market records contain — objects with keys sorted by
 * UTF-16 code units, arrays, strings, booleans, null and safe integers; no whitespace; object members whose
 * value is `undefined` are left out. Anything else (fractions, bigint, NaN) throws, so two implementations
 * can only ever produce the same bytes for the same record.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new MarketError('NOT_CANONICAL', `${value} is not a safe integer`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`);
    return `{${members.join(',')}}`;
  }
  throw new MarketError('NOT_CANONICAL', `a ${typeof value} has no canonical JSON form`);
}

/** sha256(domain ‖ canonical JSON): the domain keeps a hash or signature of one record kind from passing for another. */
export function domainBytes(domain: string, value: unknown): Uint8Array {
  return concatBytes(utf8ToBytes(`${domain}\n`), utf8ToBytes(canonicalJson(value)));
}

export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}
