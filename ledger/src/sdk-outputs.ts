/**
 * Values shared by sdk.ts and sdk-offline.ts: the outputs this project creates and the SDK's form of them,
 * the coin type, and the hex/bech32 conversions they need.
 */
import { createRequire } from 'node:module';
import type * as IotaSdk from '@iota/sdk-wasm/node/lib/index.js';
import { InvalidInputError } from './errors.js';

// The ESM import of '@iota/sdk-wasm/node' fails (directory import); the CommonJS entry works.
const sdk = createRequire(import.meta.url)('@iota/sdk-wasm/node') as typeof IotaSdk;

/** SLIP-44 coin type used for key derivation (Shimmer's, as Stardust networks use). */
export const DEFAULT_COIN_TYPE = 4219;

export function bech32ToHex(address: string): string {
  try {
    return sdk.Utils.bech32ToHex(address);
  } catch {
    throw new InvalidInputError('address', 'must be a bech32 Ed25519 address');
  }
}

export function utf8ToHex(text: string): string {
  return `0x${Buffer.from(text, 'utf8').toString('hex')}`;
}

export function hexToUtf8(hex: string): string {
  return Buffer.from(hex.replace(/^0x/, ''), 'hex').toString('utf8');
}

/** An output this project creates: a plain payment, or a micro-payment that returns its deposit to the payer. */
export type OutputSpec =
  | { kind: 'basic'; address: string; amount: bigint }
  | {
      kind: 'micro';
      address: string;
      /** Deposit + the paid amount. */
      amount: bigint;
      returnAddress: string;
      /** Goes back to `returnAddress` when the payee claims. */
      returnAmount: bigint;
      /** Unix seconds after which the whole output belongs to `returnAddress`. */
      expiresAt: number;
    };

/** The SDK's form of an output we specify. */
export function toSdkOutput(spec: OutputSpec): IotaSdk.BasicOutput {
  const owner = new sdk.AddressUnlockCondition(new sdk.Ed25519Address(bech32ToHex(spec.address)));
  if (spec.kind === 'basic') return new sdk.BasicOutput(spec.amount, [owner]);
  const payer = new sdk.Ed25519Address(bech32ToHex(spec.returnAddress));
  return new sdk.BasicOutput(spec.amount, [
    owner,
    new sdk.StorageDepositReturnUnlockCondition(payer, spec.returnAmount),
    new sdk.ExpirationUnlockCondition(payer, spec.expiresAt),
  ]);
}
