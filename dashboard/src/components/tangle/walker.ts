import { ApiError } from '../../api/http';
import type { BlockJson, BlockMetadata, WalletClient } from '../../api/wallet';
import { PayloadType } from '../../api/wallet';
import type { BlockKind, BlockState, TangleBlock } from './layout';

interface Entry {
  block?: BlockJson;
  meta?: BlockMetadata;
  metaAt: number;
  /** The node does not have it (pruned, or not solid yet). */
  missing?: boolean;
  seenAt: number;
}

export interface WalkOptions {
  maxBlocks: number;
  /** Stop following parents of blocks referenced this many milestones before the confirmed one. */
  milestonesBack: number;
  concurrency: number;
  /** Requests one walk may make; the rest of the window fills in on the next walk. */
  requestBudget: number;
  /** After this long a walk asks nothing more and returns what it has: a slow node delays the picture, never blanks it. */
  deadlineMs: number;
  cacheLimit: number;
}

const defaults: WalkOptions = {
  maxBlocks: 60,
  milestonesBack: 8,
  concurrency: 6,
  requestBudget: 24,
  deadlineMs: 15_000,
  cacheLimit: 600,
};

export function kindOf(block: BlockJson | undefined, meta: BlockMetadata | undefined): BlockKind {
  const type = block?.payload?.type;
  if (type === PayloadType.Milestone) return 'milestone';
  if (type === PayloadType.Transaction) return 'transaction';
  if (type === PayloadType.TaggedData) return 'data';
  if (block) return 'empty';
  return meta?.milestoneIndex !== undefined ? 'milestone' : 'unknown';
}

export function stateOf(meta: BlockMetadata | undefined): BlockState {
  if (meta?.ledgerInclusionState === 'conflicting') return 'conflicting';
  return meta?.referencedByMilestoneIndex !== undefined ? 'referenced' : 'pending';
}

/**
 * Walks from the tips into the past through the wallet-service's node routes. Blocks never change and
 * a referenced block's metadata is final, so both are cached; only unreferenced metadata is asked again,
 * and only after a new milestone could have changed it. The wallet-service rate-limits reads, hence the
 * request budget per walk.
 */
export class TangleWalker {
  private readonly cache = new Map<string, Entry>();
  private readonly options: WalkOptions;
  private metaStaleBefore = 0;
  private lastConfirmed = -1;

  constructor(
    private readonly client: Pick<WalletClient, 'block' | 'blockMetadata'>,
    options: Partial<WalkOptions> = {},
  ) {
    this.options = { ...defaults, ...options };
  }

  /** `onProgress` gets the blocks known so far after each generation, so a slow walk still draws early. */
  async walk(
    tips: readonly string[],
    confirmedIndex: number,
    signal?: AbortSignal,
    onProgress?: (blocks: TangleBlock[]) => void,
  ): Promise<TangleBlock[]> {
    const { maxBlocks, milestonesBack, concurrency } = this.options;
    const deadline = Date.now() + this.options.deadlineMs;
    if (confirmedIndex !== this.lastConfirmed) {
      this.lastConfirmed = confirmedIndex;
      this.metaStaleBefore = Date.now();
    }
    let budget = this.options.requestBudget;
    const tipSet = new Set(tips);
    const order: string[] = [];
    const queued = new Set<string>(tips);
    let frontier = [...tipSet];
    let failures = 0;
    let lastError: unknown;

    const load = async (id: string) => {
      let entry = this.cache.get(id);
      if (!entry) {
        entry = { metaAt: 0, seenAt: Date.now() };
        this.cache.set(id, entry);
      }
      if (entry.missing || Date.now() > deadline) return;
      const needMeta =
        !entry.meta ||
        (entry.meta.referencedByMilestoneIndex === undefined && entry.metaAt < this.metaStaleBefore);
      const needBlock = !entry.block;
      const jobs: Promise<void>[] = [];
      if (needMeta && budget > 0) {
        budget--;
        const at = Date.now();
        jobs.push(
          this.client.blockMetadata(id, signal ? { signal } : {}).then((meta) => {
            entry.meta = meta;
            entry.metaAt = at;
          }),
        );
      }
      if (needBlock && budget > 0) {
        budget--;
        jobs.push(
          this.client.block(id, signal ? { signal } : {}).then((block) => {
            entry.block = block;
          }),
        );
      }
      const results = await Promise.allSettled(jobs);
      for (const r of results) {
        if (r.status === 'fulfilled') continue;
        if (r.reason instanceof ApiError && r.reason.notFound) entry.missing = true;
        else {
          failures++;
          lastError = r.reason;
        }
      }
    };

    while (frontier.length > 0 && order.length < maxBlocks) {
      if (signal?.aborted) throw new ApiError('aborted', 'walk cancelled', '');
      const batch = frontier.slice(0, maxBlocks - order.length);
      frontier = [];
      for (let i = 0; i < batch.length; i += concurrency)
        await Promise.all(batch.slice(i, i + concurrency).map(load));
      for (const id of batch) {
        order.push(id);
        const entry = this.cache.get(id)!;
        const referenced = entry.meta?.referencedByMilestoneIndex;
        if (referenced !== undefined && referenced < confirmedIndex - milestonesBack) continue;
        for (const parent of entry.meta?.parents ?? entry.block?.parents ?? []) {
          if (queued.has(parent)) continue;
          queued.add(parent);
          frontier.push(parent);
        }
      }
      const loaded = order.some((id) => this.cache.get(id)?.meta || this.cache.get(id)?.block);
      if (onProgress && loaded && frontier.length > 0) onProgress(this.snapshot(order, tipSet));
    }
    // Every request failed: the node or the service is down, which the caller should show.
    if (failures > 0 && order.every((id) => !this.cache.get(id)?.meta && !this.cache.get(id)?.block))
      throw lastError;
    this.evict(new Set(order));
    return this.snapshot(order, tipSet);
  }

  private snapshot(order: readonly string[], tipSet: ReadonlySet<string>): TangleBlock[] {
    return order
      .filter((id) => !this.cache.get(id)?.missing)
      .map((id) => {
        const { block, meta } = this.cache.get(id)!;
        const b: TangleBlock = {
          id,
          parents: meta?.parents ?? block?.parents ?? [],
          kind: kindOf(block, meta),
          state: stateOf(meta),
          tip: tipSet.has(id),
        };
        if (meta?.referencedByMilestoneIndex !== undefined) b.referencedBy = meta.referencedByMilestoneIndex;
        const msIndex =
          meta?.milestoneIndex ??
          (block?.payload?.type === PayloadType.Milestone
            ? (block.payload as { index?: number }).index
            : undefined);
        if (msIndex !== undefined && b.kind === 'milestone') b.milestoneIndex = msIndex;
        return b;
      });
  }

  private evict(keep: Set<string>): void {
    if (this.cache.size <= this.options.cacheLimit) return;
    const old = [...this.cache.entries()]
      .filter(([id]) => !keep.has(id))
      .sort((a, b) => a[1].seenAt - b[1].seenAt);
    for (const [id] of old.slice(0, this.cache.size - this.options.cacheLimit)) this.cache.delete(id);
  }
}
