/**
 * Every cryptographic operation of the channel, on audited @noble primitives: Ed25519 (RFC 8032, strict
 * verification), X25519, HKDF-SHA-256, HMAC-SHA-256, SHA-256, AES-256-GCM. Nothing here is home-made
 * beyond how these are combined; the combination is described in channels/README.md.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { ByteWriter, concatBytes, toHex, utf8ToBytes } from './bytes.js';
import { ChannelError } from './errors.js';
import { GCM_TAG_BYTES, KEY_CHECK_BYTES, KEY_ID_BYTES, NONCE_BYTES, WRAP_BYTES } from './format.js';

/** Source of random bytes; tests and test vectors inject a deterministic one. */
export type RandomSource = (length: number) => Uint8Array;
export const secureRandom: RandomSource = (length) => randomBytes(length);

const DOMAIN = 'tanglewatt/channel/v1';
const SIGNATURE_CONTEXT = utf8ToBytes(`${DOMAIN}/signature`);
const WRAP_INFO = utf8ToBytes(`${DOMAIN}/wrap`);
const SUBKEY_INFO = {
  encryption: utf8ToBytes(`${DOMAIN}/epoch/encryption`),
  keyCheck: utf8ToBytes(`${DOMAIN}/epoch/key-check`),
  tag: utf8ToBytes(`${DOMAIN}/epoch/tag`),
};

export const PUBLIC_TAG_PREFIX = 'tw/ch/v1/';
export const RESTRICTED_TAG_PREFIX = 'tw/ch/v1/r/';

function assertLength(bytes: Uint8Array, length: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length)
    throw new ChannelError('INVALID_KEY', `${what}: must be ${length} bytes`);
}

// ---- identities of keys and channels ----

export function ed25519PublicKey(secretKey: Uint8Array): Uint8Array {
  assertLength(secretKey, 32, 'Ed25519 secret key');
  return ed25519.getPublicKey(secretKey);
}

export function x25519PublicKey(secretKey: Uint8Array): Uint8Array {
  assertLength(secretKey, 32, 'X25519 secret key');
  return x25519.getPublicKey(secretKey);
}

export function newEd25519SecretKey(random: RandomSource = secureRandom): Uint8Array {
  return random(32);
}

export function newX25519SecretKey(random: RandomSource = secureRandom): Uint8Array {
  return random(32);
}

/** Channel id: SHA-256 of the meter's first Ed25519 public key (it stays the same across key rotations). */
export function channelIdOf(genesisPublicKey: Uint8Array): Uint8Array {
  assertLength(genesisPublicKey, 32, 'Ed25519 public key');
  return sha256(genesisPublicKey);
}

export function channelIdHex(genesisPublicKey: Uint8Array): string {
  return toHex(channelIdOf(genesisPublicKey));
}

/** Key id in each header: the first 8 bytes of SHA-256 of the signing public key. */
export function keyIdOf(publicKey: Uint8Array): Uint8Array {
  return sha256(publicKey).slice(0, KEY_ID_BYTES);
}

// ---- signatures and hashes ----

export function signMessage(signed: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed25519.sign(concatBytes(SIGNATURE_CONTEXT, signed), secretKey);
}

/** Strict RFC 8032 verification (no ZIP-215 leniency), so a valid signature has one encoding. */
export function verifySignature(signature: Uint8Array, signed: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, concatBytes(SIGNATURE_CONTEXT, signed), publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** A message's hash: SHA-256 of its exact wire bytes. Chains messages and makes the Merkle leaves. */
export function messageHash(wire: Uint8Array): Uint8Array {
  return sha256(wire);
}

export { sha256 };

// ---- epoch keys ----

/** Keys derived from one epoch key, each for one purpose. */
export interface EpochSubkeys {
  encryption: Uint8Array;
  keyCheck: Uint8Array;
  tag: Uint8Array;
}

export function epochSubkeys(epochKey: Uint8Array): EpochSubkeys {
  assertLength(epochKey, 32, 'epoch key');
  return {
    encryption: hkdf(sha256, epochKey, undefined, SUBKEY_INFO.encryption, 32),
    keyCheck: hkdf(sha256, epochKey, undefined, SUBKEY_INFO.keyCheck, 32),
    tag: hkdf(sha256, epochKey, undefined, SUBKEY_INFO.tag, 32),
  };
}

/**
 * Tells a key holder "this is your key" before it tries AES-GCM, so a reader can tell a key it lacks from a
 * message that was altered. It is the full HMAC (32 bytes): that commits the ciphertext to one key, which
 * AES-GCM alone does not, so a meter cannot show two readers different readings behind the same bytes (and
 * the same Merkle root). Keyed and nonce-dependent, it lets outsiders link nothing.
 */
export function keyCheckOf(subkeys: EpochSubkeys, nonce: Uint8Array): Uint8Array {
  return hmac(sha256, subkeys.keyCheck, nonce).slice(0, KEY_CHECK_BYTES);
}

export function sealWithEpochKey(
  subkeys: EpochSubkeys,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  assertLength(nonce, NONCE_BYTES, 'nonce');
  return gcm(subkeys.encryption, nonce, aad).encrypt(plaintext);
}

/** Undefined when the ciphertext or its associated data was altered. */
export function openWithEpochKey(
  subkeys: EpochSubkeys,
  nonce: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array | undefined {
  try {
    return gcm(subkeys.encryption, nonce, aad).decrypt(ciphertext);
  } catch {
    return undefined;
  }
}

// ---- wrapping an epoch key for one reader ----

function wrapKeys(shared: Uint8Array, ephemeralPublic: Uint8Array, readerPublic: Uint8Array) {
  const okm = hkdf(sha256, shared, concatBytes(ephemeralPublic, readerPublic), WRAP_INFO, 32 + NONCE_BYTES);
  return { key: okm.subarray(0, 32), nonce: okm.subarray(32) };
}

/**
 * Encrypts the epoch key to one reader: a fresh ephemeral X25519 key, HKDF-SHA-256 of the shared secret
 * (salted with both public keys) gives a one-time AES-256-GCM key and nonce. Output: ephemeral public key
 * (32) ‖ ciphertext (32) ‖ GCM tag (16).
 */
export function wrapEpochKey(
  epochKey: Uint8Array,
  readerPublicKey: Uint8Array,
  random: RandomSource = secureRandom,
): Uint8Array {
  assertLength(epochKey, 32, 'epoch key');
  assertLength(readerPublicKey, 32, 'reader X25519 public key');
  const ephemeralSecret = random(32);
  const ephemeralPublic = x25519.getPublicKey(ephemeralSecret);
  const shared = x25519.getSharedSecret(ephemeralSecret, readerPublicKey);
  const { key, nonce } = wrapKeys(shared, ephemeralPublic, readerPublicKey);
  const sealed = gcm(key, nonce).encrypt(epochKey);
  return concatBytes(ephemeralPublic, sealed);
}

/** The epoch key if this wrap is for `readerSecretKey`, else undefined. */
export function unwrapEpochKey(wrap: Uint8Array, readerSecretKey: Uint8Array): Uint8Array | undefined {
  if (wrap.length !== WRAP_BYTES) return undefined;
  const ephemeralPublic = wrap.subarray(0, 32);
  try {
    const shared = x25519.getSharedSecret(readerSecretKey, ephemeralPublic);
    const { key, nonce } = wrapKeys(shared, ephemeralPublic, x25519.getPublicKey(readerSecretKey));
    return gcm(key, nonce).decrypt(wrap.subarray(32, 32 + 32 + GCM_TAG_BYTES));
  } catch {
    // not ours (or a low-order point, which x25519 refuses)
    return undefined;
  }
}

// ---- tags ----

/** Readable tag of a public channel: one per channel, so anyone can follow it (e.g. over MQTT). */
export function publicTag(channelId: Uint8Array): string {
  return `${PUBLIC_TAG_PREFIX}${toHex(channelId.subarray(0, 16))}`;
}

/**
 * Tag of a restricted message: HMAC-SHA-256(tag key of the epoch, seq) truncated to 16 bytes. Key holders
 * can compute the next tag; to anyone else consecutive tags look unrelated.
 */
export function restrictedTag(subkeys: EpochSubkeys, seq: number): string {
  const mac = hmac(sha256, subkeys.tag, new ByteWriter().u32(seq).finish());
  return `${RESTRICTED_TAG_PREFIX}${toHex(mac.subarray(0, 16))}`;
}
