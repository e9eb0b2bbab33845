import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { NodeRequestError, NodeUnreachableError } from './errors.js';
import { JsonHttp } from './http-json.js';
import type { BlockJson, OutputMetadata } from './node-api.js';

/**
 * Read-only access to the community indexer (`indexer/`, one beside each HORNET node): outputs by address,
 * tagged blocks by tag prefix, milestone summaries, and a live stream. Field names follow its REST API
 * (indexer/README.md). What it holds outlives the node's pruning.
 */

export interface IndexerHealth {
  status: 'ok' | 'disconnected' | string;
  connected: boolean;
  network: string;
  indexedMilestone: number;
  nodeConfirmedMilestone: number;
  nodePruningIndex: number;
  gaps: { from: number; to: number; reason: string; recorded: string }[];
}

export interface IndexedMilestone {
  index: number;
  milestoneId: string;
  timestamp: number;
  previousMilestoneId: string;
  blocksReferenced: number;
  createdOutputs: number;
  consumedOutputs: number;
  taggedBlocks: number;
}

export type AddressRole =
  | 'address'
  | 'storageDepositReturn'
  | 'expirationReturn'
  | 'stateController'
  | 'governor'
  | 'immutableAlias';

export interface IndexedOutputMetadata extends Omit<OutputMetadata, 'ledgerIndex'> {
  outputId: string;
}

export interface IndexedOutput {
  metadata: IndexedOutputMetadata;
  output: { type: number; amount: string; [field: string]: unknown };
}

export interface AddressOutput extends IndexedOutput {
  roles: AddressRole[];
}

export interface IndexedBlockMetadata {
  blockId: string;
  milestoneIndex: number;
  milestoneTimestamp: number;
  /** 0x-hex, as in HORNET's JSON. */
  tag: string;
  /** 0x-hex. */
  data: string;
  ledgerInclusionState: 'noTransaction' | 'included' | 'conflicting';
  transactionId?: string;
  outputIds?: string[];
}

export interface Page<T> {
  items: T[];
  next?: string;
}

export type IndexerEvent =
  | {
      type: 'output';
      data: IndexedOutput & {
        change: 'created' | 'spent';
        addresses: { address: string; roles: AddressRole[] }[];
      };
    }
  | { type: 'tagged-data'; data: IndexedBlockMetadata }
  | { type: 'milestone'; data: IndexedMilestone }
  /** The indexer dropped this reader (it fell too far behind): reconnect and catch up over REST. */
  | { type: 'error'; data: unknown };

export interface IndexerApiOptions {
  /** Bearer token, when the indexer was started with TANGLEWATT_INDEXER_TOKEN. */
  token?: string;
  /** Per-request timeout in milliseconds (a stream's connect only). */
  timeoutMs?: number;
}

export class IndexerApi {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  readonly #http: JsonHttp;

  constructor(url: string, options: IndexerApiOptions = {}) {
    this.url = url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.headers = { accept: 'application/json' };
    if (options.token) this.headers.authorization = `Bearer ${options.token}`;
    this.#http = new JsonHttp(this.url, this.timeoutMs, this.headers);
  }

  /** The indexer's state; answers (rather than throws) while it is disconnected from its node. */
  async health(): Promise<IndexerHealth> {
    return this.get<IndexerHealth>('/health', [503]);
  }

  milestone(index: number): Promise<IndexedMilestone> {
    return this.get(`/api/v1/milestones/${index}`);
  }

  addressOutputs(
    bech32: string,
    options: { unspent?: boolean; limit?: number; after?: string } = {},
  ): Promise<Page<AddressOutput>> {
    return this.get(`/api/v1/addresses/${bech32}/outputs${query(options)}`);
  }

  /** Every output the address's page chain holds, oldest booking first. */
  async allAddressOutputs(bech32: string, options: { unspent?: boolean } = {}): Promise<AddressOutput[]> {
    return collect((after) => this.addressOutputs(bech32, { ...options, limit: 1000, after }));
  }

  output(
    outputId: string,
  ): Promise<IndexedOutput & { addresses: { address: string; roles: AddressRole[] }[] }> {
    return this.get(`/api/v1/outputs/${outputId}`);
  }

  /** Blocks whose tag starts with `tag` (text or 0x-hex), by tag, then milestone, then block id. */
  tagBlocks(
    tag: string,
    options: { from?: number; limit?: number; after?: string } = {},
  ): Promise<Page<IndexedBlockMetadata>> {
    return this.get(`/api/v1/tags/${encodeURIComponent(tag)}/blocks${query(options)}`);
  }

  async allTagBlocks(tag: string, options: { from?: number } = {}): Promise<IndexedBlockMetadata[]> {
    return collect((after) => this.tagBlocks(tag, { ...options, limit: 1000, after }));
  }

  /** The block exactly as HORNET served it, also after the node pruned it. */
  block(blockId: string): Promise<BlockJson> {
    return this.get(`/api/v1/blocks/${blockId}`);
  }

  blockMetadata(blockId: string): Promise<IndexedBlockMetadata> {
    return this.get(`/api/v1/blocks/${blockId}/metadata`);
  }

  /**
   * Opens the live stream (filtered by address and/or tag prefix) and calls `onEvent` for each event until
   * `signal` aborts or the indexer ends the stream; resolves then. Rejects if it cannot connect. Milestone
   * events always come, so a reader knows how far the index is. `onOpen` is called once the indexer has
   * answered: it subscribed this reader before answering, so every event from then on will come.
   */
  async stream(
    filter: { address?: string; tag?: string },
    onEvent: (event: IndexerEvent) => void,
    signal?: AbortSignal,
    onOpen?: () => void,
  ): Promise<void> {
    const path = `/api/v1/stream${query(filter)}`;
    const connectTimeout = AbortSignal.timeout(this.timeoutMs);
    const connect = new AbortController();
    const abortConnect = () => connect.abort();
    connectTimeout.addEventListener('abort', abortConnect);
    signal?.addEventListener('abort', abortConnect);
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        headers: { ...this.headers, accept: 'text/event-stream' },
        signal: connect.signal,
      });
    } catch (cause) {
      if (signal?.aborted) return;
      throw new NodeUnreachableError(this.url, { cause });
    } finally {
      connectTimeout.removeEventListener('abort', abortConnect);
    }
    if (!res.ok || !res.body) {
      signal?.removeEventListener('abort', abortConnect);
      const text = await res.text().catch(() => '');
      throw new NodeRequestError(res.status, path, text.slice(0, 200));
    }
    onOpen?.();
    const parser = createParser({
      onEvent(message: EventSourceMessage) {
        const type = message.event ?? 'message';
        if (type !== 'output' && type !== 'tagged-data' && type !== 'milestone' && type !== 'error') return;
        let data: unknown;
        try {
          data = JSON.parse(message.data);
        } catch {
          data = message.data;
        }
        onEvent({ type, data } as IndexerEvent);
      },
    });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        // Aborted by a listener while this chunk was read: the body's next read would not end.
        if (signal?.aborted) break;
      }
    } catch (cause) {
      if (!signal?.aborted) throw new NodeUnreachableError(this.url, { cause });
    } finally {
      signal?.removeEventListener('abort', abortConnect);
    }
  }

  private async get<T>(path: string, alsoOk: number[] = []): Promise<T> {
    const res = await this.#http.get(path);
    const ok = res.status >= 200 && res.status < 300;
    if (!ok && !alsoOk.includes(res.status))
      throw new NodeRequestError(res.status, path, errorDetail(res.text));
    try {
      return JSON.parse(res.text) as T;
    } catch (cause) {
      throw new NodeUnreachableError(this.url, { cause });
    }
  }
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

async function collect<T>(page: (after: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  let after: string | undefined;
  do {
    const p = await page(after);
    out.push(...p.items);
    after = p.next;
  } while (after);
  return out;
}

/** The indexer answers errors as `{"error":"field: what is allowed"}`. */
function errorDetail(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: string | { message?: string } };
    return typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? '');
  } catch {
    return body.slice(0, 200);
  }
}
