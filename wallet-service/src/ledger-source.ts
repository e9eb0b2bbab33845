import { isError } from '@tanglewatt/errors';
import {
  type MilestoneChanges,
  milestoneChanges,
  type NodeApi,
  type OutputSummary,
  summarizeOutput,
} from '@tanglewatt/ledger';

/**
 * Where the wallet's ledger view reads the ledger from: the node's milestones (every one, in full), or
 * the community indexer's slice of this address (indexer-slice.ts). The view (wallet-ledger.ts) journals
 * what a source reads and runs its observers; a source only reads.
 */

export type LedgerStep =
  /** One milestone's changes: the node's gives all of them, the indexer's those naming our address. */
  | { kind: 'milestone'; changes: MilestoneChanges }
  /** Milestones up to `to` cannot be read (pruned): these outputs we held are gone. */
  | { kind: 'skipped'; to: number; spent: string[] }
  /** Everything up to `index` is read: the checkpoint may move there. */
  | { kind: 'reached'; index: number };

/** The outputs the view holds, by id. */
export type KnownOutputs = ReadonlyMap<string, unknown>;

export interface LedgerSource {
  /** The outputs the view starts with and the milestone they are as of (a new view's first read). */
  initial(
    initialOutputs: string[],
    scanFrom?: number,
  ): Promise<{ outputs: OutputSummary[]; checkpoint: number }>;
  /** What followed `checkpoint`, in milestone order; `known` are the outputs the view holds (live). */
  read(checkpoint: number, known: KnownOutputs, stopped: () => boolean): AsyncIterable<LedgerStep>;
  /**
   * A milestone with no change of ours needs no journal record of its own: the checkpoint is written at
   * least every this many milestones (1: every one). Re-reading a few after a restart is harmless.
   */
  readonly checkpointEvery: number;
  /** Called when there is something new to read (the indexer's stream); the node has no such signal. */
  onNews?(wake: () => void): void;
  close?(): Promise<void>;
}

/** Every confirmed milestone, read from the node: the whole ledger's changes, one milestone at a time. */
export class NodeMilestones implements LedgerSource {
  readonly checkpointEvery = 1;

  constructor(
    private readonly api: NodeApi,
    private readonly concernsUs: (o: OutputSummary) => boolean,
  ) {}

  async initial(initialOutputs: string[], scanFrom?: number) {
    const info = await this.api.info();
    const outputs: OutputSummary[] = [];
    for (const id of initialOutputs) {
      const summary = summarizeOutput(id, await this.api.output(id));
      if (!summary.isSpent && this.concernsUs(summary)) outputs.push(summary);
    }
    const start = scanFrom ?? info.status.confirmedMilestone.index + 1;
    return { outputs, checkpoint: start - 1 };
  }

  async *read(checkpoint: number, known: KnownOutputs, stopped: () => boolean): AsyncIterable<LedgerStep> {
    const info = await this.api.info();
    const confirmed = info.status.confirmedMilestone.index;
    for (let index = checkpoint + 1; index <= confirmed && !stopped(); index++) {
      let changes: MilestoneChanges;
      try {
        changes = await milestoneChanges(this.api, index);
      } catch (error) {
        if (isError(error, 'NOT_FOUND') && index <= info.status.pruningIndex) {
          yield { kind: 'skipped', to: info.status.pruningIndex, spent: await this.goneOf(known) };
          index = info.status.pruningIndex;
          continue;
        }
        throw error;
      }
      yield { kind: 'milestone', changes };
    }
    if (!stopped()) yield { kind: 'reached', index: confirmed };
  }

  /** The outputs of ours the node no longer has unspent. */
  private async goneOf(known: KnownOutputs): Promise<string[]> {
    const gone: string[] = [];
    for (const id of [...known.keys()]) {
      const meta = await this.api.outputMetadata(id).catch(() => undefined);
      if (!meta || meta.isSpent) gone.push(id);
    }
    return gone;
  }
}
