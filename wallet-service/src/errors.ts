import { CodedError } from '@tanglewatt/errors';

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
export class WalletConfigError extends CodedError<'BAD_CONFIG'> {
  override name = 'WalletConfigError';
  constructor(message: string) {
    super('BAD_CONFIG', message);
  }
}

/** A secret (password, API token) that is missing, unreadable or exposed to others. */
export class SecretError extends CodedError<'SECRET_UNAVAILABLE'> {
  override name = 'SecretError';
  constructor(message: string) {
    super('SECRET_UNAVAILABLE', message);
  }
}

/** A payment that a signed transaction already carries, or that has ended: there is nothing to withdraw. */
export class NotCancellableError extends CodedError<'NOT_CANCELLABLE'> {
  override name = 'NotCancellableError';
  constructor(message: string) {
    super('NOT_CANCELLABLE', message);
  }
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
export class DidUnresolvedError extends CodedError<'DID_UNRESOLVED'> {
  override name = 'DidUnresolvedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('DID_UNRESOLVED', message, options);
  }
}
