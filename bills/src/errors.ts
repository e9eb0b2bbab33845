import { CodedError } from '@tanglewatt/errors';

export type BillErrorCode =
  /** A bill config or cycle that fails validation: the message names the field and what is allowed. */
  | 'INVALID_CONFIG'
  /** The ledger or a channel could not be read into a bill (the indexer's answer names why). */
  | 'UNREADABLE';

/** Always one line, naming the field and what is allowed. */
export class BillError extends CodedError<BillErrorCode> {
  override name = 'BillError';
}
