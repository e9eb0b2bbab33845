import { isError } from '@tanglewatt/errors';
import {
  type BlockJson,
  type IndexedBlockMetadata,
  type IndexerApi,
  type MilestoneCone,
  milestoneCone,
  type NodeApi,
  utf8ToHex,
} from '@tanglewatt/ledger';
import type { IndexerStream, StreamBatch } from './indexer-stream.js';

/**
 * Where the market read model (market-books.ts) reads the blocks of each confirmed milestone: the node's
 * milestone cones (every block, white-flag order), or the community indexer's tagged blocks (only the
 * market's and payments' tags, in block-id order within a milestone).
 */

export interface MarketMilestone {
  index: number;
  /** Unix seconds. */
  timestamp: number;
  blocks: { blockId: string; block: BlockJson }[];
}

export type MarketStep = { kind: 'milestone'; milestone: MarketMilestone } | { kind: 'pruned'; to: number };

export interface MarketReader {
  /** A milestone with no market event is journaled only every this many (1: every one). */
  readonly checkpointEvery: number;
  /** Milestones after `checkpoint` (up to `upTo`, where the reader cannot know more by itself). */
  read(checkpoint: number, upTo: number): AsyncIterable<MarketStep>;
  /** Whether the ledger included the block's transaction. */
  isIncluded(blockId: string): Promise<boolean>;
}

/** Every milestone's cone, from the node. */
export class ConeReader implements MarketReader {
  readonly checkpointEvery = 1;

  constructor(private readonly api: NodeApi) {}

  async *read(checkpoint: number, upTo: number): AsyncIterable<MarketStep> {
    for (let index = checkpoint + 1; index <= upTo; index++) {
      let cone: MilestoneCone;
      try {
        cone = await milestoneCone(this.api, index);
      } catch (error) {
        // Pruned by the node: what it no longer has cannot be read by anyone.
        if (isError(error, 'NOT_FOUND')) {
          const info = await this.api.info();
          if (index <= info.status.pruningIndex) {
            yield { kind: 'pruned', to: info.status.pruningIndex };
            index = info.status.pruningIndex;
            continue;
          }
        }
        throw error;
      }
      yield { kind: 'milestone', milestone: cone };
    }
  }

  async isIncluded(blockId: string): Promise<boolean> {
    return (await this.api.blockMetadata(blockId)).ledgerInclusionState === 'included';
  }
}

/**
 * The market's and payments' tagged blocks from the indexer: live from the wallet's indexer stream, and
 * after each (re)connection over REST from the checkpoint (the stream is open before that read, so what
 * follows it streams).
 */
export class IndexerMarketReader implements MarketReader {
  readonly checkpointEvery = 30;
  private readonly tagsHex: Set<string>;
  private queue: StreamBatch[] = [];
  private needsRest = true;
  private readonly inclusion = new Map<string, boolean>();

  constructor(
    private readonly deps: {
      indexer: Pick<IndexerApi, 'health' | 'allTagBlocks' | 'block' | 'blockMetadata' | 'milestone'>;
      stream: IndexerStream;
      tags: string[];
    },
  ) {
    this.tagsHex = new Set(deps.tags.map(utf8ToHex));
    deps.stream.on('open', () => {
      this.needsRest = true;
      this.queue = [];
    });
    deps.stream.on('lost', () => {
      this.needsRest = true;
      this.queue = [];
    });
    deps.stream.on('batch', (batch) => {
      if (this.queue.length >= 10_000) {
        this.needsRest = true;
        this.queue = [];
      } else this.queue.push(batch);
    });
  }

  async *read(checkpoint: number): AsyncIterable<MarketStep> {
    const { indexer, stream } = this.deps;
    if (this.needsRest) {
      if (!(await stream.opened(5_000))) throw new Error('the indexer stream is not connected; reconnecting');
      const connection = stream.connections;
      const indexed = (await indexer.health()).indexedMilestone;
      if (indexed > checkpoint) {
        const listed: IndexedBlockMetadata[] = [];
        for (const tag of this.deps.tags)
          listed.push(...(await indexer.allTagBlocks(tag, { from: checkpoint + 1 })));
        const byIndex = new Map<number, IndexedBlockMetadata[]>();
        for (const b of listed.filter((b) => b.milestoneIndex <= indexed))
          byIndex.set(b.milestoneIndex, [...(byIndex.get(b.milestoneIndex) ?? []), b]);
        for (const index of [...byIndex.keys()].sort((a, b) => a - b)) {
          const blocks = byIndex.get(index)!;
          yield {
            kind: 'milestone',
            milestone: await this.milestoneOf(index, blocks[0]!.milestoneTimestamp, blocks),
          };
        }
        if (!byIndex.has(indexed)) {
          const { timestamp } = await indexer.milestone(indexed);
          yield { kind: 'milestone', milestone: { index: indexed, timestamp, blocks: [] } };
        }
      }
      if (connection !== stream.connections || !stream.connected)
        throw new Error('the indexer stream reconnected during the catch-up; reading again');
      this.needsRest = false;
      this.queue = this.queue.filter((b) => b.milestone.index > indexed);
      checkpoint = Math.max(checkpoint, indexed);
    }
    while (this.queue.length > 0 && !this.needsRest) {
      const batch = this.queue[0]!;
      const { index, timestamp } = batch.milestone;
      if (index > checkpoint) {
        yield { kind: 'milestone', milestone: await this.milestoneOf(index, timestamp, batch.tagged) };
        checkpoint = index;
      }
      if (this.queue[0] === batch) this.queue.shift();
    }
  }

  /** The milestone's blocks of our tags, as HORNET served them, in block-id order. */
  private async milestoneOf(
    index: number,
    timestamp: number,
    listed: IndexedBlockMetadata[],
  ): Promise<MarketMilestone> {
    const ours = listed
      .filter((b) => this.tagsHex.has(b.tag.toLowerCase()))
      .sort((a, b) => (a.blockId < b.blockId ? -1 : a.blockId > b.blockId ? 1 : 0));
    const blocks: MarketMilestone['blocks'] = [];
    for (const b of ours) {
      this.inclusion.set(b.blockId, b.ledgerInclusionState === 'included');
      if (this.inclusion.size > 10_000) this.inclusion.delete(this.inclusion.keys().next().value!);
      blocks.push({ blockId: b.blockId, block: await this.deps.indexer.block(b.blockId) });
    }
    return { index, timestamp, blocks };
  }

  async isIncluded(blockId: string): Promise<boolean> {
    const known = this.inclusion.get(blockId);
    if (known !== undefined) return known;
    return (await this.deps.indexer.blockMetadata(blockId)).ledgerInclusionState === 'included';
  }
}
