/** Hex payloads (tags, tagged data, metadata) decoded for people. */

export function hexToBytes(hex: string): Uint8Array | undefined {
  const body = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (body.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(body)) return undefined;
  const bytes = new Uint8Array(body.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(body.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

export function bytesToHex(bytes: Uint8Array): string {
  let out = '0x';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** UTF-8 text when the bytes are valid UTF-8 without control characters (other than whitespace). */
export function hexToUtf8(hex: string | undefined): string | undefined {
  if (hex === undefined) return undefined;
  const bytes = hexToBytes(hex);
  if (!bytes) return undefined;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting binary data is the point
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

export interface DecodedData {
  hex: string;
  bytes: number;
  /** Present when the data is readable text. */
  text?: string;
  /** Present when the text parses as JSON: pretty-printed. */
  json?: string;
}

export function decodeData(hex: string): DecodedData {
  const bytes = hexToBytes(hex);
  const decoded: DecodedData = { hex, bytes: bytes?.length ?? 0 };
  const text = hexToUtf8(hex);
  if (text === undefined) return decoded;
  decoded.text = text;
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      decoded.json = JSON.stringify(JSON.parse(trimmed), null, 2);
    } catch {
      // Not JSON after all: the text is shown as is.
    }
  }
  return decoded;
}
