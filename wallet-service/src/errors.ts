import { CodedError, singleCodeError } from '@tanglewatt/errors';

// Every error the wallet-service throws on purpose, with its code. http-errors.ts says which of them a
// request may answer with, and with which status.

export type KeystoreErrorCode =
  | 'KEYSTORE_MISSING'
  | 'KEYSTORE_BAD_PASSWORD'
  | 'KEYSTORE_INVALID'
  | 'KEYSTORE_EXISTS'
  | 'KEYSTORE_UNWRITABLE'
  | 'KEYSTORE_DEVELOPMENT_MNEMONIC'
  | 'KEYSTORE_NOT_BACKED_UP';

export type WalletErrorCode =
  | KeystoreErrorCode
  | 'BAD_CONFIG'
  | 'SECRET_UNAVAILABLE'
  | 'NOT_CANCELLABLE'
  | 'IDEMPOTENCY_CONFLICT'
  | 'DID_UNRESOLVED';

export class KeystoreError extends CodedError<KeystoreErrorCode> {
  override name = 'KeystoreError';
}

/** A wallet-service config that does not validate or cannot be used (e.g. its port is taken). */
export class WalletConfigError extends singleCodeError('BAD_CONFIG') {
  override name = 'WalletConfigError';
}

/** A secret (password, API token) that is missing, unreadable or exposed to others. */
export class SecretError extends singleCodeError('SECRET_UNAVAILABLE') {
  override name = 'SecretError';
}

/** A payment that a signed transaction already carries, or that has ended: there is nothing to withdraw. */
export class NotCancellableError extends singleCodeError('NOT_CANCELLABLE') {
  override name = 'NotCancellableError';
}

export class IdempotencyConflictError extends CodedError<'IDEMPOTENCY_CONFLICT'> {
  override name = 'IdempotencyConflictError';
  constructor(key: string) {
    super(
      'IDEMPOTENCY_CONFLICT',
      `idempotencyKey: "${key}" was already used for a different payment (other payee, amount or metadata)`,
    );
  }
}

/** The DID could not be resolved: no such alias, not a DID document, or a document of another DID. */
export class DidUnresolvedError extends singleCodeError('DID_UNRESOLVED') {
  override name = 'DidUnresolvedError';
}
