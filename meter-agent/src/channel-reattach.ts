/**
 * Channel blocks a milestone never referenced. A node leaves a block unreferenced when no later block
 * approves it and its parents grew too old to be picked as a tip (on a busy node, a few in a hundred):
 * its message is then on no ledger, and readers find a hole in the channel. The poster keeps each block it
 * posted until a milestone references it, and posts one that is still unreferenced after `reattachMs` (or
 * that the node says to reattach) again: the very same tag and bytes, in a new block. The next message may
 * name the first block as its previous one; readers link messages by the signed hash of the previous
 * message, which both blocks carry.
 */
import type { Logger } from './log.js';

export interface ReattachDeps {
  postTaggedData(tag: string, bytes: Uint8Array): Promise<string>;
  blockMetadata(
    blockId: string,
  ): Promise<{ referencedByMilestoneIndex?: number; shouldReattach?: boolean; isSolid?: boolean }>;
  nowMs(): number;
  log: Logger;
  /** Unreferenced this long after posting, a block is posted again (default 20 s). */
  reattachMs?: number;
  /**
   * A block is first asked about this long after posting (default 5 s): most are referenced by then, so
   * a node serving many meters gets about one question per block.
   */
  firstLookMs?: number;
}

interface Watched {
  tag: string;
  bytes: Uint8Array;
  blockId: string;
  postedMs: number;
}

export class ReattachingPoster {
  readonly #watched: Watched[] = [];
  readonly #reattachMs: number;
  readonly #firstLookMs: number;
  #checking: Promise<void> | undefined;

  constructor(private readonly deps: ReattachDeps) {
    this.#reattachMs = deps.reattachMs ?? 20_000;
    this.#firstLookMs = deps.firstLookMs ?? 5_000;
  }

  /** Posts a block and watches it until a milestone references it. */
  readonly post = async (tag: string, bytes: Uint8Array): Promise<string> => {
    const blockId = await this.deps.postTaggedData(tag, bytes);
    this.#watched.push({ tag, bytes: bytes.slice(), blockId, postedMs: this.deps.nowMs() });
    return blockId;
  };

  /** Blocks posted and not yet referenced by a milestone. */
  get unreferenced(): number {
    return this.#watched.length;
  }

  /** Looks at every watched block once: referenced ones are done, stale ones are posted again. */
  check(): Promise<void> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #check(): Promise<void> {
    for (const w of [...this.#watched]) {
      if (this.deps.nowMs() - w.postedMs < this.#firstLookMs) continue;
      const meta = await this.deps.blockMetadata(w.blockId).catch(() => undefined);
      if (meta?.referencedByMilestoneIndex !== undefined) {
        this.#watched.splice(this.#watched.indexOf(w), 1);
        continue;
      }
      const stale = this.deps.nowMs() - w.postedMs >= this.#reattachMs;
      if (!meta?.shouldReattach && !stale) continue;
      const again = await this.deps.postTaggedData(w.tag, w.bytes).catch(() => undefined);
      if (!again) continue; // the node is away: the next check tries again
      this.deps.log.info(
        { blockId: w.blockId, again, reason: meta?.shouldReattach ? 'node says reattach' : 'not referenced' },
        'channel message posted again: no milestone referenced its block',
      );
      w.blockId = again;
      w.postedMs = this.deps.nowMs();
    }
  }
}
