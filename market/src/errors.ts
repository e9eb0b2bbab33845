import { CodedError } from '@tanglewatt/errors';

/**
 * Why a message was left out of the book. Stable codes the dashboard can switch on; `rejectionText` is the
 * one-line explanation it can show. Checks run in this order and the first that fails is reported.
 */
export const rejectionReasons = [
  'MALFORMED',
  'WRONG_MARKET',
  'UNSIGNED',
  'BAD_SIGNATURE',
  'IDENTITY_MISMATCH',
  'CLOCK_SKEW',
  'DUPLICATE',
  'REPLAY',
  'EXPIRED',
  'OVER_COMMITTED',
  'UNKNOWN_OFFER',
  'ORDER_CLOSED',
  'UNKNOWN_TRADE',
] as const;

export type RejectionReason = (typeof rejectionReasons)[number];

export const rejectionText: Record<RejectionReason, string> = {
  MALFORMED: 'not a market message: a field is missing, extra or out of range',
  WRONG_MARKET: 'signed for another market',
  UNSIGNED: 'carries no signature',
  BAD_SIGNATURE: 'the signature does not match the message and its author key',
  IDENTITY_MISMATCH: 'the author key is not registered for the identity it claims',
  CLOCK_SKEW: 'its timestamp is too far from when the network first saw it',
  DUPLICATE: 'the same message (or the same acknowledgement) was already taken',
  REPLAY: "its sequence number is not above the author's previous message",
  EXPIRED: 'its delivery window had ended',
  OVER_COMMITTED: "offers more energy in the window than the producer's meter can deliver",
  UNKNOWN_OFFER: 'refers to an order that does not exist or belongs to someone else',
  ORDER_CLOSED: 'refers to an order that is already filled, cancelled or expired',
  UNKNOWN_TRADE: 'acknowledges a trade that does not exist or to which the author is no party',
};

/** One message left out, with what the dashboard needs to show it. */
export interface Rejection {
  reason: RejectionReason;
  detail: string;
  /** The message id when the message was well-formed enough to have one. */
  messageId?: string;
  kind?: string;
  author?: string;
  identity?: string;
  timestampMs?: number;
}

export type MarketErrorCode = 'NOT_CANONICAL' | 'INVALID_MESSAGE' | 'INVALID_ARGUMENT' | 'INVALID_SCENARIO';

/** Misuse of the API (a message that could never validate, a bad argument): thrown, never in a book. */
export class MarketError extends CodedError<MarketErrorCode> {
  override name = 'MarketError';
}
