/**
 * The community market as a wallet-service rebuilds it (GET /market: market/src/book.ts Book, plus the
 * milestone it was read up to) and the signed messages it posts for its household (POST /market/<kind>:
 * market/src/messages.ts bodies). Declared here, not imported: @tanglewatt/market's index pulls in zod
 * and the signing code (about 26 KB gzip) for what is, on this side, a handful of shapes and sentences.
 */

export type Side = 'sell' | 'buy';
export type OrderStatus = 'open' | 'filled' | 'cancelled' | 'expired';
export type MatchingRule = 'cda' | 'pool';

/** A delivery window [startMs, endMs): ms since the epoch, end exclusive. */
export interface MarketWindow {
  startMs: number;
  endMs: number;
}

export interface OrderView {
  /** The id of the message that placed it. */
  id: string;
  side: Side;
  /** The identity that placed it: the household's wallet address. */
  owner: string;
  ownerKey: string;
  window: MarketWindow;
  /** Total energy as last amended, the filled part included. */
  energyWh: number;
  filledWh: number;
  remainingWh: number;
  /** A sell's asking price or a buy's highest price, base units per Wh (canonical decimal). */
  priceUnitsPerWh: string;
  minLotWh: number;
  payTo?: string;
  status: OrderStatus;
  placedAtMs: number;
  closedAtMs?: number;
  closedBy?: string;
}

export interface Trade {
  id: string;
  market: string;
  rule: MatchingRule;
  sellOrderId: string;
  buyOrderId: string;
  causeId: string;
  fill: number;
  seller: string;
  sellerKey: string;
  buyer: string;
  buyerKey: string;
  payTo?: string;
  energyWh: number;
  priceUnitsPerWh: string;
  window: MarketWindow;
  matchedAtMs: number;
}

export interface AckView {
  tradeId: string;
  party: 'seller' | 'buyer';
  messageId: string;
}

export type RejectionReason =
  | 'MALFORMED'
  | 'WRONG_MARKET'
  | 'UNSIGNED'
  | 'BAD_SIGNATURE'
  | 'IDENTITY_MISMATCH'
  | 'CLOCK_SKEW'
  | 'DUPLICATE'
  | 'REPLAY'
  | 'EXPIRED'
  | 'OVER_COMMITTED'
  | 'UNKNOWN_OFFER'
  | 'ORDER_CLOSED'
  | 'UNKNOWN_TRADE';

export interface Rejection {
  reason: RejectionReason | string;
  detail: string;
  messageId?: string;
  kind?: string;
  author?: string;
  identity?: string;
  timestampMs?: number;
}

/** What the ledger shows paid for one trade (wallet-service `TradeSettlement`). */
export interface TradeSettlement {
  tradeId: string;
  paidUnits: string;
  payments: number;
  lastMilestoneIndex: number;
}

export interface MarketBook {
  market: string;
  rule: MatchingRule;
  /** The book's clock: the time of the last milestone read. */
  nowMs: number;
  orders: OrderView[];
  trades: Trade[];
  acks: AckView[];
  /** Ids of the accepted messages. */
  accepted: string[];
  /** Confirmed messages timestamped after `nowMs`: a later milestone takes them. */
  pending: string[];
  rejections: Rejection[];
  /** The last milestone whose market messages are in this book. */
  ledgerIndex: number;
  /** Each trade's payments to its payee, as the ledger shows them (absent from older services). */
  settlements?: TradeSettlement[];
}

/** market/src/errors.ts rejectionText: one line for people per reason. */
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

/** The sentence for a rejection's reason; a reason this page does not know yet is shown as its code. */
export function describeRejection(reason: string): string {
  return (rejectionText as Record<string, string>)[reason] ?? reason.toLowerCase().replaceAll('_', ' ');
}

export interface SellRequest {
  energyWh: number;
  priceUnitsPerWh: string;
  window: MarketWindow;
  minLotWh: number;
}

export interface BuyRequest {
  energyWh: number;
  maxPriceUnitsPerWh: string;
  window: MarketWindow;
}

export interface AmendRequest {
  orderId: string;
  energyWh?: number;
  priceUnitsPerWh?: string;
}

export type MarketKind = 'sell' | 'buy' | 'cancel' | 'amend' | 'ack';

/** The 202 answer: the posted message's id (an order's id, for a sell or a buy) and its block. */
export interface Posted {
  messageId: string;
  blockId: string;
  message: { kind: MarketKind; timestampMs: number; seq: number; identity: string; body: unknown };
}
