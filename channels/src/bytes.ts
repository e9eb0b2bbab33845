/** Byte helpers that run in Node and in the browser (no Buffer). */
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { ChannelError, malformed } from './errors.js';

export { concatBytes, utf8ToBytes };

/** Lowercase hex without a prefix. */
export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

/** Hex with or without 0x, of exactly `length` bytes when given. */
export function fromHex(hex: string, length?: number, what = 'hex'): Uint8Array {
  const clean = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (!/^[0-9a-fA-F]*$/.test(clean) || clean.length % 2 !== 0)
    throw new ChannelError('INVALID_OPTIONS', `${what}: not hex`);
  if (length !== undefined && clean.length !== length * 2)
    throw new ChannelError('INVALID_OPTIONS', `${what}: must be ${length} bytes (${length * 2} hex digits)`);
  return hexToBytes(clean.toLowerCase());
}

/** A block id as the node writes it: 0x + 64 hex digits. */
export function toBlockId(bytes: Uint8Array): string {
  return `0x${bytesToHex(bytes)}`;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

const TWO_32 = 2 ** 32;

/** Appends big-endian integers and LEB128 varints to a growing buffer. */
export class ByteWriter {
  private buffer = new Uint8Array(256);
  private length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  u8(value: number): this {
    this.reserve(1);
    this.buffer[this.length++] = value & 0xff;
    return this;
  }

  u16(value: number): this {
    this.reserve(2);
    this.buffer[this.length++] = (value >>> 8) & 0xff;
    this.buffer[this.length++] = value & 0xff;
    return this;
  }

  u32(value: number): this {
    this.reserve(4);
    new DataView(this.buffer.buffer).setUint32(this.length, value);
    this.length += 4;
    return this;
  }

  /** A non-negative safe integer as 8 bytes big-endian. */
  u64(value: number): this {
    this.reserve(8);
    const view = new DataView(this.buffer.buffer);
    view.setUint32(this.length, Math.floor(value / TWO_32));
    view.setUint32(this.length + 4, value % TWO_32);
    this.length += 8;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  /** Unsigned LEB128 of a non-negative safe integer (arithmetic, not bitwise: values exceed 32 bits). */
  varint(value: number): this {
    let rest = value;
    while (rest >= 0x80) {
      this.u8((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    return this.u8(rest);
  }

  /** Zigzag then LEB128, for signed safe integers. */
  svarint(value: number): this {
    return this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  /** Zigzag LEB128 of any bigint. */
  bigSvarint(value: bigint): this {
    let rest = value >= 0n ? value * 2n : -value * 2n - 1n;
    while (rest >= 0x80n) {
      this.u8(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    return this.u8(Number(rest));
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** Reads what ByteWriter wrote; every read is bounds-checked and fails as MALFORMED. */
export class ByteReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(
    private readonly data: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.data.length - this.offset;
  }

  private need(n: number): void {
    if (this.offset + n > this.data.length)
      throw malformed(`${this.what}: ends at byte ${this.data.length}, ${n} more expected at ${this.offset}`);
  }

  u8(): number {
    this.need(1);
    return this.data[this.offset++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.offset);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const high = this.view.getUint32(this.offset);
    const low = this.view.getUint32(this.offset + 4);
    this.offset += 8;
    if (high >= 2 ** 21) throw malformed(`${this.what}: a 64-bit value beyond 2^53`);
    return high * TWO_32 + low;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.data.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const byte = this.u8();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(value)) throw malformed(`${this.what}: varint beyond 2^53`);
        if (i > 0 && byte === 0) throw malformed(`${this.what}: varint not in shortest form`);
        return value;
      }
      scale *= 0x80;
    }
    throw malformed(`${this.what}: varint longer than 8 bytes`);
  }

  svarint(): number {
    const z = this.varint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  bigSvarint(): bigint {
    let value = 0n;
    let shift = 0n;
    for (let i = 0; i < 11; i++) {
      const byte = this.u8();
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) {
        if (i > 0 && byte === 0) throw malformed(`${this.what}: varint not in shortest form`);
        return value & 1n ? -(value + 1n) / 2n : value / 2n;
      }
      shift += 7n;
    }
    throw malformed(`${this.what}: varint longer than 11 bytes`);
  }

  end(): void {
    if (this.remaining !== 0) throw malformed(`${this.what}: ${this.remaining} unexpected trailing bytes`);
  }
}
