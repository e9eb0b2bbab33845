// Test support: blocks as HORNET's REST API returns them, for tests that read what the ledger holds.
import { type BlockJson, utf8ToHex } from '@tanglewatt/ledger';
import { PAYMENT_TAG } from '../settlement.js';

/** A basic output of `amount` whose only unlock condition is the address with this Ed25519 key hash. */
export function basicOutput(pubKeyHash: string, amount: string) {
  return { type: 3, amount, unlockConditions: [{ type: 0, address: { type: 0, pubKeyHash } }] };
}

export interface TransactionBlockParts {
  outputs: unknown[];
  /** Put as JSON in the tagged-data payload; none without it. */
  description?: unknown;
  /** The tagged data's tag; default the payment tag. */
  tag?: string;
  /** Written only when given, as the node would leave out what a test does not read. */
  inputs?: unknown[];
  unlocks?: unknown[];
}

/** A transaction block: its essence's outputs, described under a tag. */
export function transactionBlock(parts: TransactionBlockParts): BlockJson {
  const { outputs, description, tag = PAYMENT_TAG, inputs, unlocks } = parts;
  return {
    protocolVersion: 2,
    parents: [],
    nonce: '0',
    payload: {
      type: 6,
      essence: {
        type: 1,
        ...(inputs ? { inputs } : {}),
        outputs,
        ...(description === undefined
          ? {}
          : { payload: { type: 5, tag: utf8ToHex(tag), data: utf8ToHex(JSON.stringify(description)) } }),
      },
      ...(unlocks ? { unlocks } : {}),
    },
  } as unknown as BlockJson;
}
