/**
 * HORNET's ledger inclusion conflict reasons for Stardust (block metadata `conflictReason`), as the
 * node reports them; numbering as in the protocol's TIP-25 REST API and the IOTA SDK's ConflictReason.
 */
export const ConflictReason = {
  none: 0,
  inputUtxoAlreadySpent: 1,
  inputUtxoAlreadySpentInThisMilestone: 2,
  inputUtxoNotFound: 3,
  inputOutputSumMismatch: 4,
  invalidSignature: 5,
  invalidTimelock: 6,
  invalidNativeTokens: 7,
  returnAmountMismatch: 8,
  invalidInputUnlock: 9,
  invalidInputsCommitment: 10,
  invalidSender: 11,
  invalidChainState: 12,
  semanticValidationFailed: 255,
} as const;

const TEXT: Record<number, string> = {
  0: 'no conflict',
  1: 'an input was already spent',
  2: 'an input was already spent while confirming this milestone',
  3: 'an input cannot be found',
  4: 'the sums of inputs and outputs do not match',
  5: 'an unlock signature is invalid',
  6: 'a timelock or expiration is not satisfied',
  7: 'the native tokens are invalid',
  8: 'a storage deposit return is not fulfilled by the outputs',
  9: 'an input unlock is invalid',
  10: 'the inputs commitment is invalid',
  11: 'a sender feature names an address that is not unlocked',
  12: 'a chain state transition is invalid',
  255: 'semantic validation failed',
};

/** A one-line text for a conflict reason code. */
export function conflictReasonText(code: number): string {
  return `${TEXT[code] ?? 'unknown conflict'} (conflict reason ${code})`;
}

/** True when another transaction won the input: the one case where the winner is worth reading. */
export function isSpentInputConflict(code: number | undefined): boolean {
  return (
    code === ConflictReason.inputUtxoAlreadySpent ||
    code === ConflictReason.inputUtxoAlreadySpentInThisMilestone
  );
}
