import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { z } from 'zod';
import { domainBytes, sha256Hex } from './canonical.js';
import { MarketError, type Rejection } from './errors.js';
import {
  CANONICAL_PRICE,
  MAX_ENERGY_WH,
  MAX_PRICE_UNITS_PER_WH,
  normalizePrice,
  PRICE_SCALE,
  parsePrice,
  type Window,
} from './units.js';

/** Signatures and ids are over `tanglewatt/market/v1\n` ‖ canonical JSON of the message without `signature`. */
export const MESSAGE_DOMAIN = 'tanglewatt/market/v1';

const hexBytes = (bytes: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${bytes} bytes as lowercase hex`);

export const publicKeyHex = hexBytes(32);
export const messageIdHex = hexBytes(32);
export const signatureHex = hexBytes(64);

export const marketId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits and . _ : -');

/** Who the author says it is: a household name, a DID or an address. Bound to the key by `isAuthorized`. */
export const identity = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:/@#-]+$/, 'letters, digits and . _ : / @ # -');

const timeMs = z.int().min(0);
const energyWh = z.int().min(1).max(MAX_ENERGY_WH);

export const price = z
  .string()
  .regex(
    CANONICAL_PRICE,
    'a decimal in canonical form: "12", "0.25" (no trailing zeros), ≤ 18 fraction digits',
  )
  .refine(
    (s) => !CANONICAL_PRICE.test(s) || parsePrice(s) <= MAX_PRICE_UNITS_PER_WH * PRICE_SCALE,
    'at most 10^15 base units per Wh',
  );

export const window = z
  .strictObject({ startMs: timeMs, endMs: timeMs })
  .refine((w) => w.startMs < w.endMs, 'startMs must be before endMs');

export const sellBody = z
  .strictObject({
    energyWh,
    priceUnitsPerWh: price,
    window,
    /** No fill from this offer is smaller, except one that takes all that is left. */
    minLotWh: energyWh,
    /** Where to pay; absent means the address the identity is registered with. */
    payTo: z.string().min(1).max(100).optional(),
  })
  .refine((b) => b.minLotWh <= b.energyWh, 'minLotWh must not exceed energyWh');

export const buyBody = z.strictObject({ energyWh, maxPriceUnitsPerWh: price, window });

export const cancelBody = z.strictObject({ orderId: messageIdHex });

/** New total energy (filled part included) and/or new price (a buy's highest price) of an order. */
export const amendBody = z
  .strictObject({ orderId: messageIdHex, energyWh: energyWh.optional(), priceUnitsPerWh: price.optional() })
  .refine(
    (b) => b.energyWh !== undefined || b.priceUnitsPerWh !== undefined,
    'amend changes energyWh or price',
  );

export const ackBody = z.strictObject({ tradeId: messageIdHex });

const header = {
  v: z.literal(1),
  market: marketId,
  /** Ed25519 public key of the signer. */
  author: publicKeyHex,
  identity,
  /**
   * With a DID identity: the output that created the DID's alias (0x + 34 bytes), so a reader finds its
   * document history with core API calls alone.
   */
  didOrigin: z
    .string()
    .regex(/^0x[0-9a-f]{68}$/, 'an output id: 0x and 34 bytes as lowercase hex')
    .optional(),
  timestampMs: timeMs,
  /** Per author key, strictly increasing in the book's total order; gaps allowed. */
  seq: z.int().min(0),
};

export const unsignedMessage = z.discriminatedUnion('kind', [
  z.strictObject({ ...header, kind: z.literal('sell'), body: sellBody }),
  z.strictObject({ ...header, kind: z.literal('buy'), body: buyBody }),
  z.strictObject({ ...header, kind: z.literal('cancel'), body: cancelBody }),
  z.strictObject({ ...header, kind: z.literal('amend'), body: amendBody }),
  z.strictObject({ ...header, kind: z.literal('ack'), body: ackBody }),
]);

export type UnsignedMessage = z.infer<typeof unsignedMessage>;
export type MessageKind = UnsignedMessage['kind'];
export type SignedMessage = UnsignedMessage & { signature: string };
export type SellBody = z.infer<typeof sellBody>;
export type BuyBody = z.infer<typeof buyBody>;
export type AmendBody = z.infer<typeof amendBody>;

/** A message whose signature checked out, with its id. */
export interface VerifiedMessage {
  id: string;
  message: SignedMessage;
}

export function withoutSignature(message: SignedMessage | UnsignedMessage): UnsignedMessage {
  const { signature: _ignored, ...unsigned } = message as SignedMessage;
  return unsigned as UnsignedMessage;
}

export function signingBytes(message: SignedMessage | UnsignedMessage): Uint8Array {
  return domainBytes(MESSAGE_DOMAIN, withoutSignature(message));
}

/** The message id: sha256 of the signed bytes. A second signature over the same content has the same id. */
export function messageIdOf(message: SignedMessage | UnsignedMessage): string {
  return sha256Hex(signingBytes(message));
}

/** Strict RFC 8032 verification: every household must use the same rule or their books could differ. */
export type SignatureVerifier = (signature: Uint8Array, bytes: Uint8Array, publicKey: Uint8Array) => boolean;

export const verifyEd25519: SignatureVerifier = (signature, bytes, publicKey) => {
  try {
    return ed25519.verify(signature, bytes, publicKey, { zip215: false });
  } catch {
    return false; // a public key that is not a curve point
  }
};

export interface VerifyOptions {
  /** Only messages of this market are taken. */
  market?: string;
  verifier?: SignatureVerifier;
  /** `${id}:${signature}` of messages already verified: rebuilding a book need not verify them again. */
  signatureCache?: Set<string>;
}

export type Verdict = { ok: true; verified: VerifiedMessage } | { ok: false; rejection: Rejection };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks form, market and signature of one received message (parsed JSON). */
export function verifyMessage(raw: unknown, options: VerifyOptions = {}): Verdict {
  if (!isPlainObject(raw)) return reject('MALFORMED', 'not a JSON object');
  const { signature, ...rest } = raw;
  const parsed = unsignedMessage.safeParse(rest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return reject('MALFORMED', `${where}${issue?.message ?? 'invalid'}`, { kind: stringField(rest.kind) });
  }
  const unsigned = parsed.data;
  const bytes = domainBytes(MESSAGE_DOMAIN, unsigned);
  const id = sha256Hex(bytes);
  const about = {
    messageId: id,
    kind: unsigned.kind,
    author: unsigned.author,
    identity: unsigned.identity,
    timestampMs: unsigned.timestampMs,
  };
  if (options.market !== undefined && unsigned.market !== options.market)
    return reject('WRONG_MARKET', `for market "${unsigned.market}", not "${options.market}"`, about);
  if (signature === undefined || signature === null || signature === '')
    return reject('UNSIGNED', 'no signature', about);
  if (typeof signature !== 'string' || !signatureHex.safeParse(signature).success)
    return reject('BAD_SIGNATURE', 'the signature is not 64 bytes of lowercase hex', about);
  const cacheKey = `${id}:${signature}`;
  if (!options.signatureCache?.has(cacheKey)) {
    const verify = options.verifier ?? verifyEd25519;
    if (!verify(hexToBytes(signature), bytes, hexToBytes(unsigned.author)))
      return reject('BAD_SIGNATURE', 'Ed25519 verification failed', about);
    options.signatureCache?.add(cacheKey);
  }
  return { ok: true, verified: { id, message: { ...unsigned, signature } } };
}

function reject(
  reason: Rejection['reason'],
  detail: string,
  about: Omit<Rejection, 'reason' | 'detail'> = {},
) {
  return { ok: false as const, rejection: { reason, detail, ...about } };
}

function stringField(v: unknown): string | undefined {
  return typeof v === 'string' ? v.slice(0, 16) : undefined;
}

/** Signs a message after checking it would validate; throws INVALID_MESSAGE otherwise. */
export function signMessage(message: UnsignedMessage, secretKey: Uint8Array): SignedMessage {
  const parsed = unsignedMessage.safeParse(message);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MarketError(
      'INVALID_MESSAGE',
      `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  if (bytesToHex(ed25519.getPublicKey(secretKey)) !== parsed.data.author)
    throw new MarketError('INVALID_MESSAGE', 'author is not the public key of the signing key');
  const signature = bytesToHex(ed25519.sign(signingBytes(parsed.data), secretKey));
  return { ...parsed.data, signature };
}

/** A 32-byte Ed25519 secret key from a phrase. For simulations and tests only: phrases are guessable. */
export function secretKeyFromPhrase(phrase: string): Uint8Array {
  return sha256(utf8ToBytes(`tanglewatt/market/phrase-key\n${phrase}`));
}

export function publicKeyOf(secretKey: Uint8Array): string {
  return bytesToHex(ed25519.getPublicKey(secretKey));
}

export interface SellInput {
  energyWh: number;
  priceUnitsPerWh: string;
  window: Window;
  minLotWh?: number;
  payTo?: string;
}

export interface BuyInput {
  energyWh: number;
  maxPriceUnitsPerWh: string;
  window: Window;
}

export interface AmendInput {
  energyWh?: number;
  priceUnitsPerWh?: string;
}

/** One household's signing side of a market: keeps its sequence number and normalizes prices. */
export class MarketAuthor {
  readonly publicKey: string;
  nextSeq: number;

  constructor(
    private readonly secretKey: Uint8Array,
    readonly identity: string,
    readonly market: string,
    firstSeq = 1,
    /** With a DID identity: the output that created its alias, named in every message. */
    readonly didOrigin?: string,
  ) {
    this.publicKey = publicKeyOf(secretKey);
    this.nextSeq = firstSeq;
  }

  sell(timestampMs: number, input: SellInput): SignedMessage {
    return this.sign(timestampMs, {
      kind: 'sell',
      body: {
        energyWh: input.energyWh,
        priceUnitsPerWh: normalizePrice(input.priceUnitsPerWh),
        window: { startMs: input.window.startMs, endMs: input.window.endMs },
        minLotWh: input.minLotWh ?? 1,
        ...(input.payTo === undefined ? {} : { payTo: input.payTo }),
      },
    });
  }

  buy(timestampMs: number, input: BuyInput): SignedMessage {
    return this.sign(timestampMs, {
      kind: 'buy',
      body: {
        energyWh: input.energyWh,
        maxPriceUnitsPerWh: normalizePrice(input.maxPriceUnitsPerWh),
        window: { startMs: input.window.startMs, endMs: input.window.endMs },
      },
    });
  }

  cancel(timestampMs: number, orderId: string): SignedMessage {
    return this.sign(timestampMs, { kind: 'cancel', body: { orderId } });
  }

  amend(timestampMs: number, orderId: string, change: AmendInput): SignedMessage {
    const body: AmendBody = { orderId };
    if (change.energyWh !== undefined) body.energyWh = change.energyWh;
    if (change.priceUnitsPerWh !== undefined) body.priceUnitsPerWh = normalizePrice(change.priceUnitsPerWh);
    return this.sign(timestampMs, { kind: 'amend', body });
  }

  ack(timestampMs: number, tradeId: string): SignedMessage {
    return this.sign(timestampMs, { kind: 'ack', body: { tradeId } });
  }

  private sign(
    timestampMs: number,
    content: Pick<UnsignedMessage, 'kind' | 'body'> & Partial<UnsignedMessage>,
  ): SignedMessage {
    const message = {
      v: 1,
      market: this.market,
      author: this.publicKey,
      identity: this.identity,
      ...(this.didOrigin === undefined ? {} : { didOrigin: this.didOrigin }),
      timestampMs,
      seq: this.nextSeq,
      ...content,
    } as UnsignedMessage;
    const signed = signMessage(message, this.secretKey);
    this.nextSeq += 1;
    return signed;
  }
}
