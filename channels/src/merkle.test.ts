import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.js';
import { merkleProof, merkleRoot, verifyMerkleProof } from './merkle.js';

// RFC 6962 reference leaves and tree heads (transparency-dev/merkle testonly/constants.go).
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => fromHex(h));
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

describe('Merkle root (RFC 6962)', () => {
  it('matches the reference tree heads for 1..8 leaves', () => {
    for (let n = 1; n <= 8; n++) expect(toHex(merkleRoot(LEAVES.slice(0, n)))).toBe(ROOTS[n - 1]);
  });

  it('matches the reference audit paths', () => {
    expect(merkleProof(LEAVES, 0).map(toHex)).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(merkleProof(LEAVES, 5).map(toHex)).toEqual([
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
  });

  it('verifies every leaf of every size up to 20, and rejects wrong leaves and positions', () => {
    const leaves = Array.from({ length: 20 }, (_, i) => Uint8Array.of(i, 7));
    for (let n = 1; n <= leaves.length; n++) {
      const tree = leaves.slice(0, n);
      const root = merkleRoot(tree);
      for (let i = 0; i < n; i++) {
        const proof = merkleProof(tree, i);
        expect(verifyMerkleProof(tree[i]!, i, n, proof, root)).toBe(true);
        expect(verifyMerkleProof(Uint8Array.of(99), i, n, proof, root)).toBe(false);
        if (n > 1) expect(verifyMerkleProof(tree[i]!, (i + 1) % n, n, proof, root)).toBe(false);
      }
    }
  });

  it('depends on order: reordering or dropping a message changes the root', () => {
    const hashes = LEAVES.slice(0, 5);
    const root = toHex(merkleRoot(hashes));
    expect(toHex(merkleRoot([hashes[1]!, hashes[0]!, ...hashes.slice(2)]))).not.toBe(root);
    expect(toHex(merkleRoot(hashes.slice(0, 4)))).not.toBe(root);
    expect(() => merkleRoot([])).toThrow(/needs messages/);
  });
});
