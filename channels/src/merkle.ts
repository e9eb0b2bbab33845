/**
 * Merkle tree hash of RFC 6962 §2.1 over SHA-256, with its audit paths. Leaves are message hashes in
 * sequence order; the 0x00/0x01 prefixes keep a leaf from passing as an inner node.
 */
import { concatBytes, fromHex, toHex } from './bytes.js';
import { sha256 } from './crypto.js';
import { ChannelError } from './errors.js';

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

const leafHash = (leaf: Uint8Array) => sha256(concatBytes(LEAF, leaf));
const nodeHash = (left: Uint8Array, right: Uint8Array) => sha256(concatBytes(NODE, left, right));

/** Largest power of two strictly below n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function treeHash(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return leafHash(leaves[0]!);
  const k = split(leaves.length);
  return nodeHash(treeHash(leaves.slice(0, k)), treeHash(leaves.slice(k)));
}

function asBytes(leaves: readonly (Uint8Array | string)[]): Uint8Array[] {
  return leaves.map((leaf) => (typeof leaf === 'string' ? fromHex(leaf, 32, 'message hash') : leaf));
}

/** Root over message hashes (bytes or hex) in sequence order. */
export function merkleRoot(messageHashes: readonly (Uint8Array | string)[]): Uint8Array {
  if (messageHashes.length === 0) throw new ChannelError('INVALID_OPTIONS', 'a Merkle root needs messages');
  return treeHash(asBytes(messageHashes));
}

export function merkleRootHex(messageHashes: readonly (Uint8Array | string)[]): string {
  return toHex(merkleRoot(messageHashes));
}

function path(leaves: Uint8Array[], index: number): Uint8Array[] {
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return index < k
    ? [...path(leaves.slice(0, k), index), treeHash(leaves.slice(k))]
    : [...path(leaves.slice(k), index - k), treeHash(leaves.slice(0, k))];
}

/** Audit path proving that leaf `index` is in the tree (RFC 6962 §2.1.1). */
export function merkleProof(messageHashes: readonly (Uint8Array | string)[], index: number): Uint8Array[] {
  const leaves = asBytes(messageHashes);
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length)
    throw new ChannelError('INVALID_OPTIONS', `index ${index} outside 0..${leaves.length - 1}`);
  return path(leaves, index);
}

/** Checks an audit path against a root (RFC 9162 §2.1.3.2). */
export function verifyMerkleProof(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: Uint8Array[],
  root: Uint8Array,
): boolean {
  if (index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && toHex(r) === toHex(root);
}
