/**
 * Bech32 (BIP-173, which Stardust addresses use, not bech32m). The API returns addresses as hex in
 * output JSON; people and the address search use the bech32 form.
 */

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i]!;
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (const c of hrp) out.push(c.charCodeAt(0) >> 5);
  out.push(0);
  for (const c of hrp) out.push(c.charCodeAt(0) & 31);
  return out;
}

function convertBits(data: ArrayLike<number>, from: number, to: number, pad: boolean): number[] | undefined {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    if (value < 0 || value >> from !== 0) return undefined;
    acc = (acc << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & maxv);
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & maxv);
  } else if (bits >= from || ((acc << (to - bits)) & maxv) !== 0) {
    return undefined;
  }
  return out;
}

export function bech32Encode(hrp: string, bytes: Uint8Array): string {
  const data = convertBits(bytes, 8, 5, true)!;
  const values = [...hrpExpand(hrp), ...data, 0, 0, 0, 0, 0, 0];
  const mod = polymod(values) ^ 1;
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >> (5 * (5 - i))) & 31);
  return `${hrp}1${[...data, ...checksum].map((d) => CHARSET[d]).join('')}`;
}

export function bech32Decode(text: string): { hrp: string; bytes: Uint8Array } | undefined {
  if (text.length > 90 || (text !== text.toLowerCase() && text !== text.toUpperCase())) return undefined;
  const s = text.toLowerCase();
  const sep = s.lastIndexOf('1');
  if (sep < 1 || sep + 7 > s.length) return undefined;
  const hrp = s.slice(0, sep);
  const values: number[] = [];
  for (const c of s.slice(sep + 1)) {
    const v = CHARSET.indexOf(c);
    if (v < 0) return undefined;
    values.push(v);
  }
  if (polymod([...hrpExpand(hrp), ...values]) !== 1) return undefined;
  const bytes = convertBits(values.slice(0, -6), 5, 8, false);
  return bytes ? { hrp, bytes: Uint8Array.from(bytes) } : undefined;
}

/** Address kinds of Stardust (TIP-18): the first byte of the serialized address. */
export const AddressType = { Ed25519: 0, Alias: 8, Nft: 16 } as const;

export interface AddressJson {
  type: number;
  pubKeyHash?: string;
  aliasId?: string;
  nftId?: string;
}

export function addressToBech32(address: AddressJson, hrp: string): string | undefined {
  const hash = address.pubKeyHash ?? address.aliasId ?? address.nftId;
  if (!hash) return undefined;
  const body = hash.startsWith('0x') ? hash.slice(2) : hash;
  if (!/^[0-9a-fA-F]{64}$/.test(body)) return undefined;
  const bytes = new Uint8Array(33);
  bytes[0] = address.type;
  for (let i = 0; i < 32; i++) bytes[i + 1] = Number.parseInt(body.slice(i * 2, i * 2 + 2), 16);
  return bech32Encode(hrp, bytes);
}

/** An Ed25519 address's hash (0x hex) to bech32. */
export function ed25519ToBech32(pubKeyHash: string, hrp: string): string | undefined {
  return addressToBech32({ type: AddressType.Ed25519, pubKeyHash }, hrp);
}
