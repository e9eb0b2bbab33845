import { CodedError } from '@tanglewatt/errors';

/**
 * Why a message was left out of the book: stable codes with a one-line text each, and the rejection a
 * book lists. They cross to the dashboard, so the wire contract holds them.
 */
export type { Rejection, RejectionReason } from '@tanglewatt/contract';
export { rejectionReasons, rejectionText } from '@tanglewatt/contract';

export type MarketErrorCode = 'NOT_CANONICAL' | 'INVALID_MESSAGE' | 'INVALID_ARGUMENT' | 'INVALID_SCENARIO';

/** Misuse of the API (a message that could never validate, a bad argument): thrown, never in a book. */
export class MarketError extends CodedError<MarketErrorCode> {
  override name = 'MarketError';
}
