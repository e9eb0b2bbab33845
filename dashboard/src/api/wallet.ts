import type {
  Balance,
  BillJson,
  DidResolution,
  Payment,
  PaymentState,
  ReceivedPage,
} from '@tanglewatt/contract/wire';
import { EXPLORER_SOURCE_HEADER, type ExplorerSource, explorerSources } from '@tanglewatt/contract/wire';
import type {
  BlockMetadata,
  NodeInfo,
  MilestonePayload as NodeMilestonePayload,
  OutputMetadata,
} from '@tanglewatt/ledger/node-api';
import type { OutputSummaryJson as OutputSummary } from '@tanglewatt/ledger/outputs';
import {
  ApiError,
  getBlob,
  getJson,
  getJsonWithHeaders,
  getText,
  postJson,
  type RequestOptions,
} from './http';
import type { AmendRequest, BuyRequest, MarketBook, MarketKind, Posted, SellRequest } from './market';

/**
 * The wallet-service's read API (wallet-service/src/api.ts). Its answers' types come from the wire contract
 * and the node's from the ledger, imported as types only: nothing of either reaches the bundle but the
 * contract's small zod-free tables (@tanglewatt/contract/wire).
 */

export type {
  Balance,
  BillJson,
  ClaimState,
  DidResolution,
  ExplorerSource,
  MilestoneEvent,
  MilestoneRef,
  NodeStatus,
  Payment,
  PaymentMetadata,
  PaymentState,
  ReceivedPage,
  ReceivedPayment,
  TipsEvent,
} from '@tanglewatt/contract/wire';
export { nodeStatusOf as statusFromInfo, paymentStates } from '@tanglewatt/contract/wire';

/**
 * An explorer read with where it came from: the node, or the community indexer after the node pruned it
 * (the wallet-service's x-tanglewatt-source header); undefined when a service too old to say answered.
 */
export interface Sourced<T> {
  body: T;
  source: ExplorerSource | undefined;
}

/** The source header's value, when it is one the wallet-service sends. */
export function explorerSourceOf(headers: Headers): ExplorerSource | undefined {
  const value = headers.get(EXPLORER_SOURCE_HEADER)?.trim().toLowerCase();
  return explorerSources.find((s) => s === value);
}

/** A milestone as the node serves it, with the optional parts the explorer shows. */
export interface MilestonePayload extends NodeMilestonePayload {
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
export type {
  BlockMetadata,
  LedgerInclusionState,
  NodeInfo,
  OutputMetadata,
} from '@tanglewatt/ledger/node-api';
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
  const sourced = <T>(path: string, options?: RequestOptions): Promise<Sourced<T>> =>
    getJsonWithHeaders<T>(url, path, { ...options, ...(token ? { token } : {}) }).then(
      ({ body, headers }) => ({
        body,
        source: explorerSourceOf(headers),
      }),
    );
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
    /** This household's bill for a cycle (dates YYYY-MM-DD, the last one included), built by its wallet-service from the indexer. */
    bill: (cycle: { from: string; to: string }, o?: RequestOptions) =>
      get<BillJson>(`/bills?from=${q(cycle.from)}&to=${q(cycle.to)}`, { timeoutMs: POST_TIMEOUT_MS, ...o }),
    /** The bill as a CSV or PDF file (the token in the header, never the URL). */
    billFile: (cycle: { from: string; to: string }, format: 'csv' | 'pdf', o?: RequestOptions) =>
      getBlob(
        url,
        `/bills?from=${q(cycle.from)}&to=${q(cycle.to)}&format=${format}`,
        format === 'csv' ? 'text/csv' : 'application/pdf',
        { timeoutMs: POST_TIMEOUT_MS, ...o, ...(token ? { token } : {}) },
      ),
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
    /** The explorer's look-ups, each answer with the source it came from. */
    explorer: {
      block: (id: string, o?: RequestOptions) => sourced<BlockJson>(`/node/blocks/${q(id)}`, o),
      transactionBlock: (id: string, o?: RequestOptions) =>
        sourced<BlockJson>(`/node/transactions/${q(id)}`, o),
      milestone: (indexOrId: string | number, o?: RequestOptions) =>
        sourced<MilestonePayload>(`/node/milestones/${q(String(indexOrId))}`, o),
      output: (id: string, o?: RequestOptions) => sourced<OutputResponse>(`/node/outputs/${q(id)}`, o),
    },
    market: (o?: RequestOptions) => get<MarketBook>('/market', o),
    sell: (body: SellRequest, o?: RequestOptions) => post('sell', body, o),
    buy: (body: BuyRequest, o?: RequestOptions) => post('buy', body, o),
    cancel: (orderId: string, o?: RequestOptions) => post('cancel', { orderId }, o),
    amend: (body: AmendRequest, o?: RequestOptions) => post('amend', body, o),
    ack: (tradeId: string, o?: RequestOptions) => post('ack', { tradeId }, o),
  };
}

export type WalletClient = ReturnType<typeof createWalletClient>;
