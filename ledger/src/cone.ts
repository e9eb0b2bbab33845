import { isError } from '@tanglewatt/errors';
import type { BlockJson, NodeApi } from './node-api.js';

/** Payload types of TIP-24 as they appear in the REST API's JSON. */
export const PayloadType = { Transaction: 6, Milestone: 7, TaggedData: 5 } as const;

export interface ConeBlock {
  blockId: string;
  /** Order of the block within the milestone's cone (white-flag order), the same on every node. */
  whiteFlagIndex: number;
  block: BlockJson;
}

/**
 * The blocks a confirmed milestone referenced, in white-flag order: a walk back from the milestone's
 * parents that stops at blocks an earlier milestone referenced. Stardust has no lookup of blocks by tag,
 * so following every cone is how a service sees every tagged-data block, in the order all nodes agree on.
 */
export interface MilestoneCone {
  index: number;
  /** The milestone's time, Unix seconds. */
  timestamp: number;
  /** In white-flag order. */
  blocks: ConeBlock[];
}

export async function milestoneCone(api: NodeApi, index: number, concurrency = 8): Promise<MilestoneCone> {
  const milestone = await api.milestoneByIndex(index);
  const seen = new Set<string>();
  const found: ConeBlock[] = [];
  let frontier = [...milestone.parents];
  while (frontier.length) {
    const next: string[] = [];
    const batch = frontier.filter((id) => !seen.has(id));
    for (const id of batch) seen.add(id);
    for (let i = 0; i < batch.length; i += concurrency) {
      const metas = await Promise.all(
        batch.slice(i, i + concurrency).map((id) =>
          // A solid entry point (the genesis' empty block id, or a block below the pruning index) is
          // not in the node's database, and is outside every cone we read.
          api.blockMetadata(id).catch((error: unknown) => {
            if (isError(error, 'NOT_FOUND')) return undefined;
            throw error;
          }),
        ),
      );
      for (const meta of metas) {
        if (meta?.referencedByMilestoneIndex !== index) continue;
        found.push({
          blockId: meta.blockId,
          whiteFlagIndex: meta.whiteFlagIndex ?? 0,
          block: undefined as never,
        });
        next.push(...meta.parents);
      }
    }
    frontier = next;
  }
  for (let i = 0; i < found.length; i += concurrency) {
    const part = found.slice(i, i + concurrency);
    const blocks = await Promise.all(part.map((b) => api.block(b.blockId)));
    part.forEach((b, j) => {
      b.block = blocks[j]!;
    });
  }
  return {
    index,
    timestamp: milestone.timestamp,
    blocks: found.sort((a, b) => a.whiteFlagIndex - b.whiteFlagIndex),
  };
}

export interface TaggedData {
  blockId: string;
  /** Tag and data as 0x hex, as the node gives them. */
  tag: string;
  data: string;
}

/** The tagged data a block carries, on its own or inside a transaction. */
export function taggedDataOf(blockId: string, block: BlockJson): TaggedData | undefined {
  const payload = block.payload as
    | {
        type: number;
        tag?: string;
        data?: string;
        essence?: { payload?: { type: number; tag?: string; data?: string } };
      }
    | undefined;
  const tagged = payload?.type === PayloadType.TaggedData ? payload : payload?.essence?.payload;
  if (tagged?.type !== PayloadType.TaggedData) return undefined;
  return { blockId, tag: tagged.tag ?? '0x', data: tagged.data ?? '0x' };
}
