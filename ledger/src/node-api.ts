import { isError } from '@tanglewatt/errors';
import { LedgerTimeoutError, NodeRequestError, NodeUnreachableError } from './errors.js';
import { JsonHttp } from './http-json.js';

/** The parts of HORNET's core v2 REST API (TIP-25) this project reads. Field names follow the wire format. */

export interface MilestoneRef {
  index: number;
  timestamp: number;
  milestoneId: string;
}

export interface RentStructure {
  vByteCost: number;
  vByteFactorData: number;
  vByteFactorKey: number;
}

export interface ProtocolParameters {
  version: number;
  networkName: string;
  bech32Hrp: string;
  minPowScore: number;
  belowMaxDepth: number;
  rentStructure: RentStructure;
  tokenSupply: string;
}

export interface NodeInfo {
  name: string;
  version: string;
  status: {
    isHealthy: boolean;
    latestMilestone: MilestoneRef;
    confirmedMilestone: MilestoneRef;
    pruningIndex: number;
  };
  protocol: ProtocolParameters;
  baseToken: { name: string; tickerSymbol: string; unit: string; subunit?: string; decimals: number };
  metrics: { blocksPerSecond: number; referencedBlocksPerSecond: number; referencedRate: number };
  features: string[];
}

export type LedgerInclusionState = 'noTransaction' | 'included' | 'conflicting';

export interface BlockMetadata {
  blockId: string;
  parents: string[];
  isSolid: boolean;
  referencedByMilestoneIndex?: number;
  milestoneIndex?: number;
  ledgerInclusionState?: LedgerInclusionState;
  conflictReason?: number;
  whiteFlagIndex?: number;
  shouldPromote?: boolean;
  shouldReattach?: boolean;
}

export interface OutputMetadata {
  blockId: string;
  transactionId: string;
  outputIndex: number;
  isSpent: boolean;
  milestoneIndexSpent?: number;
  milestoneTimestampSpent?: number;
  transactionIdSpent?: string;
  milestoneIndexBooked: number;
  milestoneTimestampBooked: number;
  ledgerIndex: number;
}

export interface OutputWithMetadata {
  metadata: OutputMetadata;
  output: { type: number; amount: string; [field: string]: unknown };
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
  [field: string]: unknown;
}

export interface UtxoChanges {
  index: number;
  createdOutputs: string[];
  consumedOutputs: string[];
}

/** A block as JSON; payload shapes vary by type, so they stay open. */
export interface BlockJson {
  protocolVersion: number;
  parents: string[];
  payload?: { type: number; [field: string]: unknown };
  nonce: string;
}

export interface NodeApiOptions {
  /** Per-request timeout in milliseconds. */
  timeoutMs?: number;
}

/** Read-only access to one HORNET node over HTTP. */
export class NodeApi {
  readonly url: string;
  readonly #http: JsonHttp;

  constructor(url: string, options: NodeApiOptions = {}) {
    this.url = url.replace(/\/+$/, '');
    this.#http = new JsonHttp(this.url, options.timeoutMs ?? 10_000);
  }

  /** True when the node answers 200 on /health (synced and has peers or is the coordinator's node). */
  async isHealthy(): Promise<boolean> {
    try {
      return (await this.#http.get('/health')).status === 200;
    } catch {
      return false;
    }
  }

  info(): Promise<NodeInfo> {
    return this.get('/api/core/v2/info');
  }

  async tips(): Promise<string[]> {
    return (await this.get<{ tips: string[] }>('/api/core/v2/tips')).tips;
  }

  block(blockId: string): Promise<BlockJson> {
    return this.get(`/api/core/v2/blocks/${blockId}`);
  }

  blockMetadata(blockId: string): Promise<BlockMetadata> {
    return this.get(`/api/core/v2/blocks/${blockId}/metadata`);
  }

  milestoneByIndex(index: number): Promise<MilestonePayload> {
    return this.get(`/api/core/v2/milestones/by-index/${index}`);
  }

  milestoneById(milestoneId: string): Promise<MilestonePayload> {
    return this.get(`/api/core/v2/milestones/${milestoneId}`);
  }

  utxoChangesByIndex(index: number): Promise<UtxoChanges> {
    return this.get(`/api/core/v2/milestones/by-index/${index}/utxo-changes`);
  }

  output(outputId: string): Promise<OutputWithMetadata> {
    return this.get(`/api/core/v2/outputs/${outputId}`);
  }

  outputMetadata(outputId: string): Promise<OutputMetadata> {
    return this.get(`/api/core/v2/outputs/${outputId}/metadata`);
  }

  includedBlock(transactionId: string): Promise<BlockJson> {
    return this.get(`/api/core/v2/transactions/${transactionId}/included-block`);
  }

  includedBlockMetadata(transactionId: string): Promise<BlockMetadata> {
    return this.get(`/api/core/v2/transactions/${transactionId}/included-block/metadata`);
  }

  /** Posts a block (as JSON; parents and nonce filled in); resolves with its id. */
  async postBlock(block: BlockJson): Promise<string> {
    const path = '/api/core/v2/blocks';
    const res = await this.#http.post(path, block);
    if (res.status < 200 || res.status >= 300)
      throw new NodeRequestError(res.status, path, errorDetail(res.text));
    return this.parse<{ blockId: string }>(res.text).blockId;
  }

  /** Polls a block's metadata until a milestone references it; resolves with that metadata. */
  async waitForReferenced(blockId: string, timeoutMs = 30_000, pollMs = 250): Promise<BlockMetadata> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const meta = await this.blockMetadata(blockId);
        if (meta.referencedByMilestoneIndex !== undefined) return meta;
      } catch (error) {
        // the node may not have the block solid yet
        if (!isError(error, 'NOT_FOUND')) throw error;
      }
      if (Date.now() > deadline) throw new LedgerTimeoutError(`block ${blockId} referenced`, timeoutMs);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  private async get<T>(path: string): Promise<T> {
    const res = await this.#http.get(path);
    if (res.status < 200 || res.status >= 300)
      throw new NodeRequestError(res.status, path, errorDetail(res.text));
    return this.parse<T>(res.text);
  }

  /** An answer that is not JSON counts as a node that cannot be used. */
  private parse<T>(text: string): T {
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new NodeUnreachableError(this.url, { cause });
    }
  }
}

function errorDetail(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } };
    return parsed.error?.message ?? '';
  } catch {
    return body.slice(0, 200);
  }
}
