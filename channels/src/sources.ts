/**
 * Where the reader gets messages from: an index (seq → bytes or block id), or by walking the chain back from
 * the newest block through each message's previous-block id. Stardust cannot look blocks up by tag, so
 * every source starts from block ids someone recorded (the writer records seq → block id durably).
 */
import { fromHex, isZero, toBlockId } from './bytes.js';
import type { ChannelMode } from './format.js';
import { EpochKeyring, type OpenKeys, openWire } from './message.js';

export interface SourceEntry {
  /** The sequence number an index files this message under; absent when a source only gives an order. */
  seq?: number;
  bytes?: Uint8Array;
  blockId?: string;
  /** The block's tagged-data tag, when the message came from a block. */
  tag?: string;
  /** Milestone that referenced the block (key validity in a DID's history depends on it). */
  milestoneIndex?: number;
  /** Set when the message could not be fetched: a listed block that does not exist is a GAP. */
  missing?: { reason: 'GAP' | 'MALFORMED'; detail: string };
}

export interface MessageSource {
  get(seq: number): Promise<SourceEntry | undefined>;
  /** Every entry, in the order the source vouches for (sequence order for an index). */
  list(): Promise<SourceEntry[]>;
}

/** Messages held in memory, in the order given (tests reorder, drop and repeat them freely). */
export class MemorySource implements MessageSource {
  readonly entries: SourceEntry[];

  constructor(entries: SourceEntry[] = []) {
    this.entries = [...entries];
  }

  /** An index of wire messages: entry i is filed under seq `firstSeq + i`. */
  static indexed(messages: Uint8Array[], firstSeq = 0): MemorySource {
    return new MemorySource(messages.map((bytes, i) => ({ seq: firstSeq + i, bytes })));
  }

  /** Wire messages in an order only, as a tag listener would receive them. */
  static ordered(messages: Uint8Array[]): MemorySource {
    return new MemorySource(messages.map((bytes) => ({ bytes })));
  }

  add(entry: SourceEntry): void {
    this.entries.push(entry);
  }

  async get(seq: number): Promise<SourceEntry | undefined> {
    return this.entries.find((e) => e.seq === seq);
  }

  async list(): Promise<SourceEntry[]> {
    return [...this.entries];
  }
}

/** The part of ledger's NodeApi the sources need (structural, so this module stays browser-safe). */
export interface BlockApi {
  block(blockId: string): Promise<{ payload?: { type: number; [field: string]: unknown } }>;
  blockMetadata(blockId: string): Promise<{ referencedByMilestoneIndex?: number }>;
  /**
   * Blocks carrying exactly `tag` that milestones referenced, with their data (0x-hex) when the source has
   * it (an indexer's tag index): finds a message its meter posted again in a new block (reattached.ts).
   */
  taggedBlocks?(tag: string): Promise<{ blockId: string; data?: string }[]>;
}

export const TAGGED_DATA_PAYLOAD = 5;

function isNotFound(error: unknown): boolean {
  const e = error as { code?: unknown; status?: unknown };
  return e?.code === 'NOT_FOUND' || e?.status === 404;
}

function utf8OfHex(hex: string): string {
  return new TextDecoder().decode(fromHex(hex));
}

export interface BlockFetchOptions {
  /** Also read which milestone referenced each block (needed for keys from a DID's history). Default true. */
  milestones?: boolean;
}

/** One block as a source entry: its tagged data, tag and referencing milestone. */
export async function fetchBlockEntry(
  api: BlockApi,
  blockId: string,
  options: BlockFetchOptions = {},
): Promise<SourceEntry> {
  let block: Awaited<ReturnType<BlockApi['block']>>;
  try {
    block = await api.block(blockId);
  } catch (error) {
    if (isNotFound(error))
      return { blockId, missing: { reason: 'GAP', detail: `block ${blockId} not found` } };
    throw error;
  }
  const payload = block.payload as { type: number; tag?: string; data?: string } | undefined;
  if (payload?.type !== TAGGED_DATA_PAYLOAD || typeof payload.data !== 'string')
    return { blockId, missing: { reason: 'MALFORMED', detail: `block ${blockId} carries no tagged data` } };
  const entry: SourceEntry = {
    blockId,
    bytes: fromHex(payload.data),
    tag: typeof payload.tag === 'string' ? utf8OfHex(payload.tag) : '',
  };
  if (options.milestones ?? true) {
    const meta = await api.blockMetadata(blockId);
    if (meta.referencedByMilestoneIndex !== undefined) entry.milestoneIndex = meta.referencedByMilestoneIndex;
  }
  return entry;
}

/** Maps items with at most `limit` calls of `fn` in flight, keeping their order. */
export async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
    }),
  );
  return out;
}

export interface IndexedBlock {
  seq?: number;
  blockId: string;
}

/** Reads messages by block id from a node, given the writer's seq → block id list (or block ids in order). */
export class NodeBlockSource implements MessageSource {
  private readonly index: IndexedBlock[];

  constructor(
    private readonly api: BlockApi,
    index: readonly (IndexedBlock | string)[],
    private readonly options: BlockFetchOptions & { concurrency?: number } = {},
  ) {
    this.index = index.map((i) => (typeof i === 'string' ? { blockId: i } : i));
  }

  private async fetch(item: IndexedBlock): Promise<SourceEntry> {
    const entry = await fetchBlockEntry(this.api, item.blockId, this.options);
    return item.seq === undefined ? entry : { ...entry, seq: item.seq };
  }

  async get(seq: number): Promise<SourceEntry | undefined> {
    const item = this.index.find((i) => i.seq === seq);
    return item ? this.fetch(item) : undefined;
  }

  list(): Promise<SourceEntry[]> {
    return mapBounded(this.index, this.options.concurrency ?? 8, (item) => this.fetch(item));
  }
}

export interface FollowOptions extends BlockFetchOptions {
  mode?: ChannelMode;
  epochKeys?: EpochKeyring;
  readerSecretKey?: Uint8Array;
  /** Stop after this many messages (default 100 000). */
  maxMessages?: number;
  /** Stop at this sequence number (default 0, the channel's first message). */
  stopAtSeq?: number;
}

export interface FollowedChain {
  /** Oldest first. */
  entries: SourceEntry[];
  /** Why the walk ended before `stopAtSeq`, if it did. */
  stopped?: { blockId: string; detail: string };
}

/**
 * Walks back from the newest block through each message's previous-block id. It only locates messages;
 * verify them with readChannel (startAnywhere, or fromSeq 0 when the walk reached the first message). A
 * restricted walk needs the epoch keys of the epochs it crosses (see README, "Following the chain").
 */
export async function followChain(
  api: BlockApi,
  newestBlockId: string,
  options: FollowOptions = {},
): Promise<FollowedChain> {
  const keys: OpenKeys = {
    epochKeys: options.epochKeys ?? new EpochKeyring(),
    ...(options.readerSecretKey ? { readerSecretKey: options.readerSecretKey } : {}),
  };
  const max = options.maxMessages ?? 100_000;
  const stopAtSeq = options.stopAtSeq ?? 0;
  const entries: SourceEntry[] = [];
  const visited = new Set<string>();
  let blockId: string | undefined = newestBlockId;
  let stopped: FollowedChain['stopped'];
  while (blockId !== undefined && entries.length < max) {
    if (visited.has(blockId)) {
      stopped = { blockId, detail: 'the chain loops back to a block already visited' };
      break;
    }
    visited.add(blockId);
    const entry = await fetchBlockEntry(api, blockId, options);
    entries.push(entry);
    if (!entry.bytes) {
      stopped = { blockId, detail: entry.missing?.detail ?? 'no data' };
      break;
    }
    const opened = openWire(entry.bytes, keys, options.mode);
    if (!opened.ok) {
      stopped = { blockId, detail: `${opened.reason}: ${opened.detail}` };
      break;
    }
    const header = opened.inner.header;
    if (header.kind === 'epoch' && opened.key) keys.epochKeys.add(header.epoch, opened.key.key);
    if (header.seq <= stopAtSeq || isZero(header.prevBlockId)) {
      if (header.seq > stopAtSeq) stopped = { blockId, detail: `seq ${header.seq} names no previous block` };
      break;
    }
    blockId = toBlockId(header.prevBlockId);
  }
  return { entries: entries.reverse(), ...(stopped ? { stopped } : {}) };
}
