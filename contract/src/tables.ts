/**
 * The few values the wire contract shares with browsers: fixed lists and sentences. No zod and no imports,
 * so a page may import them without its bundle growing by more than these lines.
 */

/** Where a payment the wallet-service sends stands (GET /payments, the feed's `payment` event). */
export const paymentStates = [
  'queued',
  'submitted',
  'included',
  'conflicting',
  'failed',
  'cancelled',
] as const;

/**
 * The header every explorer read (`/node/blocks`, `/node/transactions`, `/node/outputs`,
 * `/node/milestones/:id`) carries: `node`, or `indexer` when the node had pruned it and the wallet-service's
 * community indexer still held it.
 */
export const EXPLORER_SOURCE_HEADER = 'x-tanglewatt-source';

/** The values of EXPLORER_SOURCE_HEADER. */
export const explorerSources = ['node', 'indexer'] as const;
export type ExplorerSource = (typeof explorerSources)[number];

/** A received micro-payment's claim: the payee's to take before it expires, then the payer's to take back. */
export const claimStates = ['unclaimed', 'claimed', 'expired', 'returned'] as const;

/** How a market matches orders: continuous double auction, or one clearing price per window. */
export const matchingRules = ['cda', 'pool'] as const;

/**
 * Why a message was left out of a market book. Stable codes a client can switch on; `rejectionText` is the
 * one-line explanation it can show. The market checks in this order and reports the first that fails.
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

/** The sentence for a rejection's reason; a reason this side does not know yet is shown as its code. */
export function describeRejection(reason: string): string {
  return (rejectionText as Record<string, string>)[reason] ?? reason.toLowerCase().replaceAll('_', ' ');
}

export type PaymentState = (typeof paymentStates)[number];
export type ClaimState = (typeof claimStates)[number];
export type MatchingRule = (typeof matchingRules)[number];
export type RejectionReason = (typeof rejectionReasons)[number];
