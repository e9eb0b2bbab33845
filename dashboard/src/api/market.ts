/**
 * The community market as a wallet-service rebuilds it (GET /market) and the signed messages it posts for
 * its household (POST /market/<kind>). The shapes are the wire contract's, imported as types; the rejection
 * sentences come from its zod-free tables, so the bundle holds only those lines of it.
 */

export type {
  AckView,
  AmendRequest,
  BuyRequest,
  MarketBook,
  MarketKind,
  MarketWindow,
  MatchingRule,
  OrderStatus,
  OrderView,
  Posted,
  Rejection,
  RejectionReason,
  SellRequest,
  Side,
  Trade,
  TradeSettlement,
} from '@tanglewatt/contract/wire';
export { describeRejection, rejectionText } from '@tanglewatt/contract/wire';
