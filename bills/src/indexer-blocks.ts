import type { BlockApi } from '@tanglewatt/channels';
import type { IndexerApi } from '@tanglewatt/ledger';

/** The indexer calls a bill needs (IndexerApi has them). */
export type BillIndexer = Pick<
  IndexerApi,
  'allAddressOutputs' | 'allTagBlocks' | 'block' | 'blockMetadata' | 'health'
>;

/** The indexer as the channel reader's block source (it keeps blocks the node has pruned). */
export function indexerBlocks(api: BillIndexer): BlockApi {
  return {
    block: (blockId) => api.block(blockId),
    blockMetadata: async (blockId) => ({
      referencedByMilestoneIndex: (await api.blockMetadata(blockId)).milestoneIndex,
    }),
  };
}
