/**
 * Output ids of a genesis snapshot made by `hornet tool snap-gen`: the mint output has the all-zero
 * transaction id, and the n-th genesis address (1-based) gets a transaction id whose first eight bytes
 * are n little-endian; every one of them is output index 0.
 */
export function genesisOutputId(position: number): string {
  if (!Number.isInteger(position) || position < 0) {
    throw new RangeError('position: must be 0 (the mint output) or the 1-based index of a genesis address');
  }
  const transactionId = Buffer.alloc(32);
  transactionId.writeBigUInt64LE(BigInt(position), 0);
  return `0x${transactionId.toString('hex')}0000`;
}
