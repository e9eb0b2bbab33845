import type { MatchingRule, RejectionReason } from './tables.js';

/**
 * The community market on the wire: the book every household rebuilds (market/src/book.ts), as a
 * wallet-service serves it (GET /market), and what a page posts through it (POST /market/<kind>).
 */

export type Side = 'sell' | 'buy';
export type OrderStatus = 'open' | 'filled' | 'cancelled' | 'expired';

/** A delivery window [startMs, endMs): ms since the epoch, end exclusive. */
export interface MarketWindow {
  startMs: number;
  endMs: number;
}

/** Where an order stands in the total order of messages: earlier first, then author, seq and id. */
export interface OrderPriority {
  timestampMs: number;
  author: string;
  seq: number;
  id: string;
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
  priority: OrderPriority;
}

/** One match: what both households agreed to by their signed orders, recomputable by anyone. */
export interface Trade {
  /** sha256 of `tanglewatt/market/trade/v1\n` ‖ canonical JSON of every other field. */
  id: string;
  market: string;
  rule: MatchingRule;
  sellOrderId: string;
  buyOrderId: string;
  /** The message whose arrival made the match: a sell, a buy or an amend. */
  causeId: string;
  /** Which of the cause's fills this is, from 0. */
  fill: number;
  seller: string;
  sellerKey: string;
  buyer: string;
  buyerKey: string;
  payTo?: string;
  energyWh: number;
  priceUnitsPerWh: string;
  /** Both orders' windows intersected, starting no earlier than the match. */
  window: MarketWindow;
  matchedAtMs: number;
}

export interface AckView {
  tradeId: string;
  party: 'seller' | 'buyer';
  messageId: string;
}

/** One message left out of the book, with what a page needs to show it. */
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

/** The book as every household rebuilds it from the same messages. */
export interface Book {
  market: string;
  rule: MatchingRule;
  /** The book's clock (e.g. the time of the last milestone read). */
  nowMs: number;
  /** Every accepted sell and buy, in the total order of the messages that placed them. */
  orders: OrderView[];
  /** In the order they were made. */
  trades: Trade[];
  acks: AckView[];
  /** Ids of the accepted messages, in total order. */
  accepted: string[];
  /** Valid messages timestamped after `nowMs`, in total order: taken by a later rebuild. */
  pending: string[];
  rejections: Rejection[];
}

/** What the ledger shows paid for one trade to its payee. */
export interface TradeSettlement {
  tradeId: string;
  paidUnits: string;
  payments: number;
  lastMilestoneIndex: number;
}

/** GET /market: the book as of milestone `ledgerIndex`, with each trade's payments. */
export interface MarketBook extends Book {
  /** The last milestone whose market messages are in this book. */
  ledgerIndex: number;
  /** Absent from older services. */
  settlements?: TradeSettlement[];
}

/** POST /market/sell: an offer of energy in a window at a price. */
export interface SellRequest {
  energyWh: number;
  priceUnitsPerWh: string;
  window: MarketWindow;
  minLotWh: number;
}

/** POST /market/buy: a bid for energy in a window up to a price. */
export interface BuyRequest {
  energyWh: number;
  maxPriceUnitsPerWh: string;
  window: MarketWindow;
}

/** POST /market/amend: a new energy or price for one of the household's open orders. */
export interface AmendRequest {
  orderId: string;
  energyWh?: number;
  priceUnitsPerWh?: string;
}

export type MarketKind = 'sell' | 'buy' | 'cancel' | 'amend' | 'ack';

/** The 202 answer to POST /market/<kind>: the posted message's id (an order's, for a sell or a buy) and block. */
export interface Posted {
  messageId: string;
  blockId: string;
  message: { kind: MarketKind; timestampMs: number; seq: number; identity: string; body: unknown };
}
