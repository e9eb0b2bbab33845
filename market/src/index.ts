export {
  type AckView,
  type Book,
  type BookOptions,
  type CapacityFn,
  keyOf,
  type OrderView,
  orderView,
  rebuildBook,
} from './book.js';
export { canonicalJson, domainBytes, sha256Hex } from './canonical.js';
export {
  type DeliveryInput,
  type DeliveryState,
  type DeliveryStatement,
  deliveryStatement,
  type MeteredInterval,
  meteredInWindowMWs,
  mwsToWh,
  settlementRequest,
  type TradeTerms,
} from './delivery.js';
export {
  MarketError,
  type MarketErrorCode,
  type Rejection,
  type RejectionReason,
  rejectionReasons,
  rejectionText,
} from './errors.js';
export {
  buyOrderFor,
  canTrade,
  type Fill,
  fillWh,
  largestFirst,
  matchIncoming,
  type Resting,
} from './matching.js';
export {
  type AmendInput,
  ackBody,
  amendBody,
  type BuyInput,
  buyBody,
  cancelBody,
  MarketAuthor,
  MESSAGE_DOMAIN,
  type MessageKind,
  messageIdOf,
  publicKeyOf,
  type SellInput,
  type SignatureVerifier,
  type SignedMessage,
  secretKeyFromPhrase,
  sellBody,
  signingBytes,
  signMessage,
  type UnsignedMessage,
  unsignedMessage,
  type Verdict,
  type VerifiedMessage,
  type VerifyOptions,
  verifyEd25519,
  verifyMessage,
  withoutSignature,
} from './messages.js';
export { compareKeys, type OrderKey } from './ordering.js';
export type { OrderState, OrderStatus, Side } from './orders.js';
export {
  type CommunityOptions,
  type CommunityRun,
  type CommunitySummary,
  simulateCommunity,
} from './sim/community.js';
export { formatKWh, formatTokens, renderTable, UNITS_PER_TOKEN } from './sim/format.js';
export { randomInt, seededRandom } from './sim/profiles.js';
export {
  REFERENCE_MARKET,
  type ReferenceResult,
  type ReferenceRow,
  referenceMessages,
  referenceProducers,
  referenceTable,
  runReference,
} from './sim/reference.js';
export {
  type MatchingRule,
  makeTrade,
  matchingRules,
  TRADE_DOMAIN,
  type Trade,
  tradeIdOf,
  tradeValueUnits,
} from './trades.js';
export {
  formatPrice,
  MWS_PER_WH,
  normalizePrice,
  PRICE_SCALE,
  parsePrice,
  type ScaledPrice,
  unitsForMWs,
  unitsForWh,
  type Window,
  whToMWs,
  windowIntersection,
  windowsOverlap,
} from './units.js';
