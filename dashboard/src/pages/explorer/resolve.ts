import { ApiError } from '../../api/http';
import type {
  AddressOutputs,
  BlockJson,
  BlockMetadata,
  MilestonePayload,
  OutputResponse,
  TransactionPayload,
  WalletClient,
} from '../../api/wallet';
import { PayloadType } from '../../api/wallet';
import { outputIdOf } from '../../format/ids';
import type { ExplorerQuery } from './classify';

export type Found =
  | {
      kind: 'block';
      blockId: string;
      block: BlockJson;
      metadata: BlockMetadata | undefined;
      transactionId?: string;
    }
  | { kind: 'transaction'; transactionId: string; block: BlockJson; metadata: BlockMetadata | undefined }
  | { kind: 'milestone'; milestone: MilestonePayload; milestoneId?: string }
  | { kind: 'output'; outputId: string; output: OutputResponse }
  | { kind: 'address'; address: string; outputs: AddressOutputs }
  | { kind: 'notFound'; message: string }
  | { kind: 'unavailable'; message: string };

type Client = Pick<
  WalletClient,
  'block' | 'blockMetadata' | 'transactionBlock' | 'transactionMetadata' | 'milestone' | 'output' | 'address'
>;

/** Undefined when the node does not know it; other failures propagate. */
async function orMissing<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (error) {
    if (error instanceof ApiError && error.notFound) return undefined;
    throw error;
  }
}

/**
 * A block does not carry its transaction's id (that is a hash of the payload). An included
 * transaction spent its inputs, and an input's metadata names the transaction that spent it.
 */
async function transactionIdOf(client: Client, block: BlockJson, metadata: BlockMetadata | undefined) {
  if (block.payload?.type !== PayloadType.Transaction || metadata?.ledgerInclusionState !== 'included')
    return undefined;
  const input = (block.payload as TransactionPayload).essence.inputs[0];
  if (!input) return undefined;
  try {
    const output = await client.output(outputIdOf(input.transactionId, input.transactionOutputIndex));
    return output.metadata.transactionIdSpent;
  } catch {
    return undefined; // only a convenience: the block shows without it
  }
}

export async function resolveQuery(client: Client, q: ExplorerQuery, signal?: AbortSignal): Promise<Found> {
  const o = signal ? { signal } : {};
  switch (q.kind) {
    case 'id32': {
      // The same 32-byte shape names three things: try each, in the order the brief of the page says.
      const block = await orMissing(client.block(q.id, o));
      if (block) {
        const metadata = await orMissing(client.blockMetadata(q.id, o));
        const transactionId = await transactionIdOf(client, block, metadata);
        return { kind: 'block', blockId: q.id, block, metadata, ...(transactionId ? { transactionId } : {}) };
      }
      const txBlock = await orMissing(client.transactionBlock(q.id, o));
      if (txBlock) {
        const metadata = await orMissing(client.transactionMetadata(q.id, o));
        return { kind: 'transaction', transactionId: q.id, block: txBlock, metadata };
      }
      const milestone = await orMissing(client.milestone(q.id, o));
      if (milestone) return { kind: 'milestone', milestone, milestoneId: q.id };
      return {
        kind: 'notFound',
        message:
          'No block, included transaction or milestone has this id (it may be pruned, or not yet solid).',
      };
    }
    case 'milestoneIndex': {
      const milestone = await orMissing(client.milestone(q.index, o));
      return milestone
        ? { kind: 'milestone', milestone }
        : {
            kind: 'notFound',
            message: `Milestone ${q.index} is not known to the node (not reached yet, or pruned).`,
          };
    }
    case 'output': {
      const output = await orMissing(client.output(q.id, o));
      return output
        ? { kind: 'output', outputId: q.id, output }
        : { kind: 'notFound', message: 'No output has this id (it may be pruned).' };
    }
    case 'address': {
      const outputs = await orMissing(client.address(q.address, o));
      return outputs
        ? { kind: 'address', address: q.address, outputs }
        : { kind: 'notFound', message: 'The wallet-service knows nothing of this address.' };
    }
    case 'channel':
      return { kind: 'unavailable', message: 'Channels are not available yet.' };
    default:
      return { kind: 'notFound', message: 'Nothing to look up.' };
  }
}
