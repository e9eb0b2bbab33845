import type { BlockMetadata, OutputMetadata } from '@tanglewatt/ledger/node-api';
import type { OutputSummaryJson as OutputSummary } from '@tanglewatt/ledger/outputs';
import { ApiError, getJson, getText, postJson, type RequestOptions } from './http';
import type { AmendRequest, BuyRequest, MarketBook, MarketKind, Posted, SellRequest } from './market';

/**
 * The wallet-service's read API (wallet-service/src/api.ts; contract/src/schemas.ts). Types are
 * declared here rather than imported: those modules pull in zod and node code a browser bundle should not.
 */

export interface MilestoneRef {
  index: number;
  timestamp: number;
  milestoneId: string;
}

export interface NodeInfo {
  name: string;
  version: string;
  status: {
    isHealthy: boolean;
    latestMilestone: MilestoneRef;
    confirmedMilestone: MilestoneRef;
    pruningIndex?: number;
  };
  protocol: { networkName: string; bech32Hrp: string; tokenSupply?: string; minPowScore?: number };
  baseToken: { name: string; tickerSymbol: string; unit?: string; decimals: number };
  metrics: { blocksPerSecond: number; referencedBlocksPerSecond: number; referencedRate: number };
}

/** The live feed's `node` event (wallet-service/src/feed.ts). */
export interface NodeStatus {
  healthy: boolean;
  synced: boolean;
  networkName: string;
  latestMilestone: MilestoneRef;
  confirmedMilestone: MilestoneRef;
  blocksPerSecond: number;
  referencedBlocksPerSecond: number;
  referencedRate: number;
}

export type MilestoneEvent = MilestoneRef & { confirmed: boolean };
export interface TipsEvent {
  tips: string[];
  at: number;
}

export function statusFromInfo(info: NodeInfo): NodeStatus {
  return {
    healthy: info.status.isHealthy,
    synced: info.status.confirmedMilestone.index >= info.status.latestMilestone.index,
    networkName: info.protocol.networkName,
    latestMilestone: info.status.latestMilestone,
    confirmedMilestone: info.status.confirmedMilestone,
    blocksPerSecond: info.metrics.blocksPerSecond,
    referencedBlocksPerSecond: info.metrics.referencedBlocksPerSecond,
    referencedRate: info.metrics.referencedRate,
  };
}

export type PaymentState = 'queued' | 'submitted' | 'included' | 'conflicting' | 'failed' | 'cancelled';
export const paymentStates: readonly PaymentState[] = [
  'queued',
  'submitted',
  'included',
  'conflicting',
  'failed',
  'cancelled',
];

export interface PaymentMetadata {
  periodId?: string;
  meterId?: string;
  energyMWs?: string;
  priceUnitsPerWh?: string;
  periodStart?: string;
  periodEnd?: string;
  readingsHash?: string;
  note?: string;
}

export interface Payment {
  idempotencyKey: string;
  to: string;
  amount: string;
  metadata?: PaymentMetadata;
  state: PaymentState;
  micro: boolean;
  depositUnits?: string;
  blockId?: string;
  transactionId?: string;
  outputId?: string;
  milestoneIndex?: number;
  milestoneTimestamp?: number;
  attempts: number;
  error?: string;
  createdAt: string;
  updatedAt: string;
}

/** A micro-payment's claim: the payee's to take before it expires, then the payer's to take back. */
export type ClaimState = 'unclaimed' | 'claimed' | 'expired' | 'returned';

/** A payment the wallet received, as the ledger shows it (GET /received-payments). */
export interface ReceivedPayment {
  outputId: string;
  transactionId: string;
  blockId?: string;
  milestoneIndex: number;
  /** Unix seconds. */
  milestoneTimestamp: number;
  /** Base units that are the wallet's (a micro-payment's deposit goes back to the sender). */
  amountUnits: string;
  /** The address that signed the payment's transaction. */
  from?: string;
  /** The payer's idempotency key, when its transaction names it. */
  key?: string;
  metadata?: PaymentMetadata;
  micro: boolean;
  depositUnits?: string;
  expiresAt?: number;
  claim?: ClaimState;
  settledAtMilestone?: number;
}

export interface ReceivedPage {
  total: number;
  items: ReceivedPayment[];
  next: string | null;
  /** The milestone the wallet's history of received payments began at. */
  since: number | null;
}

/** GET /dids/{did}: a meter DID's document versions with their Ed25519 verification methods. */
export interface DidResolution {
  did: string;
  originOutputId: string;
  aliasId: string;
  versions: {
    outputId: string;
    fromMilestone: number;
    untilMilestone?: number;
    deactivated: boolean;
    /** Method ids with Ed25519 public keys (hex, no 0x). */
    methods: { id: string; publicKey: string }[];
  }[];
}

export interface Balance {
  address: string;
  totalUnits: string;
  availableUnits: string;
  claimableUnits: string;
  outputs: number;
  ledgerIndex: number;
}

export interface MilestonePayload {
  type: 7;
  index: number;
  timestamp: number;
  protocolVersion: number;
  previousMilestoneId: string;
  parents: string[];
  inclusionMerkleRoot: string;
  appliedMerkleRoot: string;
  metadata?: string;
  options?: { type: number; [field: string]: unknown }[];
  signatures?: { type: number; publicKey: string; signature: string }[];
}

export interface AddressJson {
  type: number;
  pubKeyHash?: string;
  aliasId?: string;
  nftId?: string;
}

export interface UnlockConditionJson {
  type: number;
  address?: AddressJson;
  returnAddress?: AddressJson;
  amount?: string;
  unixTime?: number;
}

export interface FeatureJson {
  type: number;
  address?: AddressJson;
  data?: string;
  tag?: string;
}

export interface OutputJson {
  type: number;
  amount: string;
  nativeTokens?: { id: string; amount: string }[];
  unlockConditions?: UnlockConditionJson[];
  features?: FeatureJson[];
  immutableFeatures?: FeatureJson[];
  aliasId?: string;
  nftId?: string;
  stateIndex?: number;
  foundryCounter?: number;
  serialNumber?: number;
  [field: string]: unknown;
}

export interface TaggedDataPayload {
  type: 5;
  tag?: string;
  data?: string;
}

export interface TransactionPayload {
  type: 6;
  essence: {
    type: number;
    networkId: string;
    inputs: { type: number; transactionId: string; transactionOutputIndex: number }[];
    inputsCommitment: string;
    outputs: OutputJson[];
    payload?: TaggedDataPayload;
  };
  unlocks: {
    type: number;
    reference?: number;
    signature?: { type: number; publicKey: string; signature: string };
  }[];
}

export type BlockPayload =
  | TaggedDataPayload
  | TransactionPayload
  | MilestonePayload
  | { type: number; [field: string]: unknown };

export interface BlockJson {
  protocolVersion: number;
  parents: string[];
  payload?: BlockPayload;
  nonce: string;
}

// The node's own shapes, shared with the ledger package (type-only: nothing of it reaches the bundle).
export type { BlockMetadata, LedgerInclusionState, OutputMetadata } from '@tanglewatt/ledger/node-api';
export type { OutputSummaryJson as OutputSummary } from '@tanglewatt/ledger/outputs';

export interface OutputResponse {
  metadata: OutputMetadata;
  output: OutputJson;
  summary?: OutputSummary;
}

export interface AddressOutputs {
  address: string;
  ledgerIndex: number;
  /** For addresses other than the wallet's own: outputs are known only from this milestone on. */
  seenSinceMilestone?: number | null;
  items: OutputSummary[];
}

export const PayloadType = { TaggedData: 5, Transaction: 6, Milestone: 7 } as const;

const q = encodeURIComponent;

/** Posting goes to the tangle before the answer: give it longer than a read. */
const POST_TIMEOUT_MS = 30_000;

export function createWalletClient(url: string, token?: string) {
  // Every read needs the token (scope read); the page's token also has scope market, never pay.
  const get = <T>(path: string, options?: RequestOptions) =>
    getJson<T>(url, path, { ...options, ...(token ? { token } : {}) });
  const post = (kind: MarketKind, body: unknown, o?: RequestOptions): Promise<Posted> => {
    if (!token)
      return Promise.reject(
        new ApiError('http', 'this dashboard has no token for this wallet', `${url}/market/${kind}`, 401),
      );
    return postJson<Posted>(url, `/market/${kind}`, body, { timeoutMs: POST_TIMEOUT_MS, ...o, token });
  };
  return {
    url,
    // EventSource cannot send headers: the stream takes the token as a query parameter.
    eventsUrl: `${url.replace(/\/+$/, '')}/events${token ? `?access_token=${q(token)}` : ''}`,
    /** Whether this page holds a token for the wallet, so it may post market messages for the household. */
    canPost: Boolean(token),
    balance: (o?: RequestOptions) => get<Balance>('/balance', o),
    addresses: (o?: RequestOptions) => get<{ addresses: string[] }>('/addresses', o),
    payments: (filter: { state?: PaymentState; limit?: number } = {}, o?: RequestOptions) => {
      const params = new URLSearchParams();
      if (filter.state) params.set('state', filter.state);
      params.set('limit', String(filter.limit ?? 100));
      return get<{ total: number; items: Payment[] }>(`/payments?${params}`, o);
    },
    payment: (key: string, o?: RequestOptions) => get<Payment>(`/payments/${q(key)}`, o),
    received: (page: { limit?: number; before?: string } = {}, o?: RequestOptions) => {
      const params = new URLSearchParams({ limit: String(page.limit ?? 100) });
      if (page.before) params.set('before', page.before);
      return get<ReceivedPage>(`/received-payments?${params}`, o);
    },
    did: (ref: { did: string; originOutputId: string }, o?: RequestOptions) =>
      get<DidResolution>(`/dids/${q(ref.did)}?origin=${q(ref.originOutputId)}`, o),
    /** The sent payments as CSV (read scope; the token goes in the header, never the URL). */
    paymentsCsv: (o?: RequestOptions) =>
      getText(url, '/payments.csv', 'text/csv', {
        timeoutMs: POST_TIMEOUT_MS,
        ...o,
        ...(token ? { token } : {}),
      }),
    outputs: (o?: RequestOptions) => get<{ ledgerIndex: number; items: OutputSummary[] }>('/outputs', o),
    nodeInfo: (o?: RequestOptions) => get<NodeInfo>('/node/info', o),
    tips: (o?: RequestOptions) => get<{ tips: string[] }>('/node/tips', o),
    milestones: (count: number, o?: RequestOptions) =>
      get<{ items: MilestonePayload[] }>(`/node/milestones?count=${count}`, o),
    milestone: (indexOrId: string | number, o?: RequestOptions) =>
      get<MilestonePayload>(`/node/milestones/${q(String(indexOrId))}`, o),
    block: (id: string, o?: RequestOptions) => get<BlockJson>(`/node/blocks/${q(id)}`, o),
    blockMetadata: (id: string, o?: RequestOptions) =>
      get<BlockMetadata>(`/node/blocks/${q(id)}/metadata`, o),
    transactionBlock: (id: string, o?: RequestOptions) => get<BlockJson>(`/node/transactions/${q(id)}`, o),
    transactionMetadata: (id: string, o?: RequestOptions) =>
      get<BlockMetadata>(`/node/transactions/${q(id)}/metadata`, o),
    output: (id: string, o?: RequestOptions) => get<OutputResponse>(`/node/outputs/${q(id)}`, o),
    address: (bech32: string, o?: RequestOptions) => get<AddressOutputs>(`/node/addresses/${q(bech32)}`, o),
    market: (o?: RequestOptions) => get<MarketBook>('/market', o),
    sell: (body: SellRequest, o?: RequestOptions) => post('sell', body, o),
    buy: (body: BuyRequest, o?: RequestOptions) => post('buy', body, o),
    cancel: (orderId: string, o?: RequestOptions) => post('cancel', { orderId }, o),
    amend: (body: AmendRequest, o?: RequestOptions) => post('amend', body, o),
    ack: (tradeId: string, o?: RequestOptions) => post('ack', { tradeId }, o),
  };
}

export type WalletClient = ReturnType<typeof createWalletClient>;
