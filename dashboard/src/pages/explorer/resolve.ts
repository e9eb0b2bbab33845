import { ApiError } from '../../api/http';
import type { AgentChannelView } from '../../api/meter';
import type {
  AddressOutputs,
  BlockJson,
  BlockMetadata,
  ExplorerSource,
  MilestonePayload,
  OutputResponse,
  TransactionPayload,
  WalletClient,
} from '../../api/wallet';
import { PayloadType } from '../../api/wallet';
import { outputIdOf } from '../../format/ids';
import type { ExplorerQuery } from './classify';

/** Where a look-up's answer came from: the node, or the indexer after the node pruned it. */
interface FromSource {
  source: ExplorerSource | undefined;
}

export type Found =
  | ({
      kind: 'block';
      blockId: string;
      block: BlockJson;
      metadata: BlockMetadata | undefined;
      transactionId?: string;
    } & FromSource)
  | ({
      kind: 'transaction';
      transactionId: string;
      block: BlockJson;
      metadata: BlockMetadata | undefined;
    } & FromSource)
  | ({ kind: 'milestone'; milestone: MilestonePayload; milestoneId?: string } & FromSource)
  | ({ kind: 'output'; outputId: string; output: OutputResponse } & FromSource)
  | { kind: 'address'; address: string; outputs: AddressOutputs }
  | { kind: 'channel'; channelId: string; meter: ChannelMeter; channel: AgentChannelView }
  | { kind: 'notFound'; message: string }
  | { kind: 'unavailable'; message: string };

type Client = Pick<WalletClient, 'blockMetadata' | 'transactionMetadata' | 'output' | 'address' | 'explorer'>;

/** A configured meter agent, as far as channel look-ups need it. */
export interface ChannelMeter {
  name: string;
  url: string;
  status(o?: { signal?: AbortSignal }): Promise<{ meterId?: string; channel?: AgentChannelView | null }>;
}

/** The first configured meter whose channel has this id (64 hex, no 0x); unreachable meters are skipped. */
export async function findChannel(
  meters: readonly ChannelMeter[],
  channelId: string,
  signal?: AbortSignal,
): Promise<{ meter: ChannelMeter; channel: AgentChannelView } | undefined> {
  const id = channelId.toLowerCase().replace(/^0x/, '');
  const answers = await Promise.all(
    meters.map((meter) =>
      meter.status(signal ? { signal } : {}).then(
        (s) => (s.channel?.channelId.toLowerCase() === id ? { meter, channel: s.channel } : undefined),
        () => undefined,
      ),
    ),
  );
  return answers.find((a) => a !== undefined);
}

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

export async function resolveQuery(
  client: Client,
  q: ExplorerQuery,
  signal?: AbortSignal,
  meters: readonly ChannelMeter[] = [],
): Promise<Found> {
  const o = signal ? { signal } : {};
  switch (q.kind) {
    case 'id32': {
      // The same 32-byte shape names three things: try each, in the order the brief of the page says.
      const block = await orMissing(client.explorer.block(q.id, o));
      if (block) {
        const metadata = await orMissing(client.blockMetadata(q.id, o));
        const transactionId = await transactionIdOf(client, block.body, metadata);
        return {
          kind: 'block',
          blockId: q.id,
          block: block.body,
          source: block.source,
          metadata,
          ...(transactionId ? { transactionId } : {}),
        };
      }
      const txBlock = await orMissing(client.explorer.transactionBlock(q.id, o));
      if (txBlock) {
        const metadata = await orMissing(client.transactionMetadata(q.id, o));
        return {
          kind: 'transaction',
          transactionId: q.id,
          block: txBlock.body,
          source: txBlock.source,
          metadata,
        };
      }
      const milestone = await orMissing(client.explorer.milestone(q.id, o));
      if (milestone)
        return { kind: 'milestone', milestone: milestone.body, source: milestone.source, milestoneId: q.id };
      const channel = await findChannel(meters, q.id, signal);
      if (channel) return { kind: 'channel', channelId: channel.channel.channelId, ...channel };
      return {
        kind: 'notFound',
        message: `No block, included transaction or milestone has this id (it may be pruned, or not yet solid)${
          meters.length ? ', and no configured meter publishes a channel with it' : ''
        }.`,
      };
    }
    case 'milestoneIndex': {
      const milestone = await orMissing(client.explorer.milestone(q.index, o));
      return milestone
        ? { kind: 'milestone', milestone: milestone.body, source: milestone.source }
        : {
            kind: 'notFound',
            message: `Milestone ${q.index} is not known to the node (not reached yet, or pruned).`,
          };
    }
    case 'output': {
      const output = await orMissing(client.explorer.output(q.id, o));
      return output
        ? { kind: 'output', outputId: q.id, output: output.body, source: output.source }
        : { kind: 'notFound', message: 'No output has this id (it may be pruned).' };
    }
    case 'address': {
      const outputs = await orMissing(client.address(q.address, o));
      return outputs
        ? { kind: 'address', address: q.address, outputs }
        : { kind: 'notFound', message: 'The wallet-service knows nothing of this address.' };
    }
    case 'channel': {
      if (meters.length === 0)
        return {
          kind: 'unavailable',
          message: 'No meter agent is configured: channels are found through them.',
        };
      const channel = await findChannel(meters, q.id, signal);
      return channel
        ? { kind: 'channel', channelId: channel.channel.channelId, ...channel }
        : {
            kind: 'notFound',
            message: `None of the ${meters.length} configured meters (that answered) publishes channel ${q.id}.`,
          };
    }
    default:
      return { kind: 'notFound', message: 'Nothing to look up.' };
  }
}
