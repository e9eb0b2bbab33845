/** Ids are long; show both ends, keep the whole id for title, copy and links. */
export function shortId(id: string | undefined | null, head = 6, tail = 4): string {
  if (!id) return '—';
  const prefix = id.startsWith('0x') ? 2 : 0;
  if (id.length <= prefix + head + tail + 1) return id;
  return `${id.slice(0, prefix + head)}…${id.slice(-tail)}`;
}

/** bech32 addresses: keep the human-readable part and separator visible. */
export function shortAddress(address: string | undefined | null, head = 6, tail = 6): string {
  if (!address) return '—';
  const sep = address.lastIndexOf('1');
  const start = sep > 0 ? sep + 1 : 0;
  if (address.length <= start + head + tail + 1) return address;
  return `${address.slice(0, start + head)}…${address.slice(-tail)}`;
}

/** Output id = transaction id + output index as 2 bytes little-endian (TIP-20). */
export function outputIdOf(transactionId: string, index: number): string {
  const lo = (index & 0xff).toString(16).padStart(2, '0');
  const hi = ((index >> 8) & 0xff).toString(16).padStart(2, '0');
  return `${transactionId.toLowerCase()}${lo}${hi}`;
}

/** The transaction id and index inside an output id. */
export function splitOutputId(outputId: string): { transactionId: string; index: number } | undefined {
  if (!/^0x[0-9a-f]{68}$/i.test(outputId)) return undefined;
  const lo = Number.parseInt(outputId.slice(66, 68), 16);
  const hi = Number.parseInt(outputId.slice(68, 70), 16);
  return { transactionId: outputId.slice(0, 66).toLowerCase(), index: lo + hi * 256 };
}
