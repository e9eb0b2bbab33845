import { bech32Decode } from '../../format/bech32';

/** What a search box entry can be, decided by its shape alone (no network). */
export type ExplorerQuery =
  | { kind: 'empty' }
  /**
   * 32 bytes: a block id, a transaction id or a milestone id; the node tells which. Without `0x` it may
   * also be a channel id, tried last (among the configured meters' channels).
   */
  | { kind: 'id32'; id: string }
  | { kind: 'output'; id: string }
  | { kind: 'address'; address: string; hrp: string }
  | { kind: 'milestoneIndex'; index: number }
  /** `channel:` and 64 hex digits (lowercase, no 0x). */
  | { kind: 'channel'; id: string }
  | { kind: 'invalid'; reason: string };

const MAX_INDEX = 0xffff_ffff;

export function classifyQuery(input: string): ExplorerQuery {
  const q = input.trim();
  if (!q) return { kind: 'empty' };
  if (/^#?\d+$/.test(q)) {
    const index = Number(q.replace('#', ''));
    if (!Number.isSafeInteger(index) || index < 1 || index > MAX_INDEX)
      return { kind: 'invalid', reason: `a milestone index is a whole number from 1 to ${MAX_INDEX}` };
    return { kind: 'milestoneIndex', index };
  }
  const lower = q.toLowerCase();
  if (lower.startsWith('channel:')) {
    const id = lower.slice('channel:'.length).trim().replace(/^0x/, '');
    if (!/^[0-9a-f]{64}$/.test(id))
      return { kind: 'invalid', reason: "a channel id is 64 hex digits (SHA-256 of the meter's first key)" };
    return { kind: 'channel', id };
  }
  const hex = lower.startsWith('0x')
    ? lower.slice(2)
    : /^[0-9a-f]{64}([0-9a-f]{4})?$/.test(lower)
      ? lower
      : undefined;
  if (hex !== undefined) {
    if (!/^[0-9a-f]*$/.test(hex))
      return { kind: 'invalid', reason: 'an id has only hex digits (0-9, a-f) after 0x' };
    if (hex.length === 64) return { kind: 'id32', id: `0x${hex}` };
    if (hex.length === 68) return { kind: 'output', id: `0x${hex}` };
    return {
      kind: 'invalid',
      reason: `an id is 0x and 64 hex digits (block, transaction, milestone) or 68 (output); this has ${hex.length}`,
    };
  }
  const address = bech32Decode(q);
  if (address) {
    if (address.bytes.length !== 33)
      return { kind: 'invalid', reason: 'a bech32 address here holds a type byte and 32 bytes' };
    return { kind: 'address', address: lower, hrp: address.hrp };
  }
  if (/^[a-z]{1,83}1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{6,}$/.test(lower))
    return {
      kind: 'invalid',
      reason: 'this looks like a bech32 address, but its checksum is wrong (a typo?)',
    };
  return {
    kind: 'invalid',
    reason: 'not an id (0x…), an address, a milestone index or a channel id (channel:…)',
  };
}

/** A line saying what the explorer will look for. */
export function describeQuery(q: ExplorerQuery): string {
  switch (q.kind) {
    case 'empty':
      return '';
    case 'id32':
      return 'a block, transaction or milestone id (or a channel id)';
    case 'output':
      return 'an output id';
    case 'address':
      return 'an address';
    case 'milestoneIndex':
      return `milestone ${q.index}`;
    case 'channel':
      return 'a channel id';
    case 'invalid':
      return q.reason;
  }
}
