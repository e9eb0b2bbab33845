import type { ExplorerSource } from '@tanglewatt/contract';
import {
  type BlockJson,
  type BlockMetadata,
  type IndexerApi,
  type MilestonePayload,
  type NodeApi,
  NodeRequestError,
  type OutputWithMetadata,
  outputIdOf,
} from '@tanglewatt/ledger';

/** Where an explorer answer came from: the node, or the community indexer after the node pruned it. */
export type { ExplorerSource };

export interface ExplorerAnswer<T> {
  body: T;
  source: ExplorerSource;
}

/** A milestone the node has pruned: the indexer keeps its summary, not its parents or Merkle roots. */
export interface IndexedMilestonePayload
  extends Pick<MilestonePayload, 'type' | 'index' | 'timestamp' | 'previousMilestoneId'> {
  milestoneId: string;
  blocksReferenced: number;
  createdOutputs: number;
  consumedOutputs: number;
  taggedBlocks: number;
}

export type ExplorerIndexer = Pick<IndexerApi, 'block' | 'blockMetadata' | 'output' | 'milestone'>;

/**
 * The explorer's reads of blocks, transactions, outputs and milestones: the node first; when the node
 * answers 404 (it pruned them) and a community indexer is configured, the indexer, which keeps the
 * tagged blocks (payments, meter channels, market), the outputs and the milestone summaries.
 */
export class ExplorerReads {
  constructor(
    private readonly node: Pick<
      NodeApi,
      'block' | 'blockMetadata' | 'includedBlock' | 'includedBlockMetadata' | 'output' | 'milestoneByIndex'
    >,
    private readonly indexer: ExplorerIndexer | undefined,
    /** The ledger index an output read from the indexer is reported at (the node's answers carry one). */
    private readonly ledgerIndex: () => number,
  ) {}

  block(blockId: string): Promise<ExplorerAnswer<BlockJson>> {
    return this.read(
      () => this.node.block(blockId),
      (indexer) => indexer.block(blockId),
    );
  }

  blockMetadata(blockId: string): Promise<ExplorerAnswer<BlockMetadata>> {
    return this.read(
      () => this.node.blockMetadata(blockId),
      (indexer) => indexedBlockMetadata(indexer, blockId),
    );
  }

  includedBlock(transactionId: string): Promise<ExplorerAnswer<BlockJson>> {
    return this.read(
      () => this.node.includedBlock(transactionId),
      async (indexer) => indexer.block(await includingBlockId(indexer, transactionId)),
    );
  }

  includedBlockMetadata(transactionId: string): Promise<ExplorerAnswer<BlockMetadata>> {
    return this.read(
      () => this.node.includedBlockMetadata(transactionId),
      async (indexer) => indexedBlockMetadata(indexer, await includingBlockId(indexer, transactionId)),
    );
  }

  output(outputId: string): Promise<ExplorerAnswer<OutputWithMetadata>> {
    return this.read(
      () => this.node.output(outputId),
      async (indexer) => {
        const { metadata, output } = await indexer.output(outputId);
        const { outputId: _id, ...rest } = metadata;
        return { metadata: { ...rest, ledgerIndex: this.ledgerIndex() }, output };
      },
    );
  }

  milestoneByIndex(index: number): Promise<ExplorerAnswer<MilestonePayload | IndexedMilestonePayload>> {
    return this.read<MilestonePayload | IndexedMilestonePayload>(
      () => this.node.milestoneByIndex(index),
      async (indexer) => {
        const m = await indexer.milestone(index);
        return {
          type: 7,
          index: m.index,
          timestamp: m.timestamp,
          previousMilestoneId: m.previousMilestoneId,
          milestoneId: m.milestoneId,
          blocksReferenced: m.blocksReferenced,
          createdOutputs: m.createdOutputs,
          consumedOutputs: m.consumedOutputs,
          taggedBlocks: m.taggedBlocks,
        };
      },
    );
  }

  private async read<T>(
    fromNode: () => Promise<T>,
    fromIndexer: (indexer: ExplorerIndexer) => Promise<T>,
  ): Promise<ExplorerAnswer<T>> {
    try {
      return { body: await fromNode(), source: 'node' };
    } catch (error) {
      if (!this.indexer || !isNotFound(error)) throw error;
      try {
        return { body: await fromIndexer(this.indexer), source: 'indexer' };
      } catch (indexerError) {
        // Not indexed either (an untagged block, a milestone pruned before it was indexed): the node's 404.
        if (isNotFound(indexerError)) throw error;
        throw indexerError;
      }
    }
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof NodeRequestError && error.status === 404;
}

/** Every transaction has an output 0, whose metadata names the block that included the transaction. */
async function includingBlockId(indexer: ExplorerIndexer, transactionId: string): Promise<string> {
  return (await indexer.output(outputIdOf(transactionId, 0))).metadata.blockId;
}

/** The indexer's block metadata in HORNET's shape (parents from the stored block). */
async function indexedBlockMetadata(indexer: ExplorerIndexer, blockId: string): Promise<BlockMetadata> {
  const [meta, block] = await Promise.all([indexer.blockMetadata(blockId), indexer.block(blockId)]);
  return {
    blockId: meta.blockId,
    parents: block.parents,
    isSolid: true,
    referencedByMilestoneIndex: meta.milestoneIndex,
    ledgerInclusionState: meta.ledgerInclusionState,
  };
}
