import { isError } from '@tanglewatt/errors';
import type {
  IndexedOutput,
  IndexerApi,
  MilestoneChanges,
  OutputSummary,
  OutputWithMetadata,
} from '@tanglewatt/ledger';
import { summarizeOutput } from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import type { IndexerStream, StreamBatch } from './indexer-stream.js';
import type { KnownOutputs, LedgerSource, LedgerStep } from './ledger-source.js';

/**
 * The wallet's ledger read from the community indexer: only this address's slice, so the node's load does
 * not grow with the households. Live, from the indexer's stream (outputs created and spent for the address,
 * one batch per milestone); after each (re)connection, caught up over REST from the checkpoint: the
 * address's unspent outputs, and the spends of outputs the view held. Reading again what was read is
 * harmless (the view and its observers skip what they have), which is what makes the hand-over exact: the
 * stream is open before the REST read, so every milestone after the one REST was read at also streams.
 *
 * Not seen: an output both created and spent within one disconnection that was not ours to spend (a
 * micro-payment its sender took back after expiry while this wallet's indexer was out of reach).
 */

export function summaryOf(o: IndexedOutput): OutputSummary {
  return summarizeOutput(o.metadata.outputId, o as unknown as OutputWithMetadata);
}

/** Stream batches kept while the view reads; past this the view is too far behind and catches up over REST. */
const MAX_QUEUED = 10_000;

type Milestone = { index: number; timestamp: number; created: OutputSummary[]; consumed: string[] };

export class IndexerSlice implements LedgerSource {
  /** A quiet milestone (nothing of ours) gets a journal record only every this many. */
  readonly checkpointEvery = 30;
  private queue: StreamBatch[] = [];
  private needsRest = true;
  /** Where the last REST catch-up started: an output booked after it and spent unseen was missed in between. */
  private restFrom = 0;
  private readonly wakes: (() => void)[] = [];

  constructor(
    private readonly deps: {
      indexer: Pick<IndexerApi, 'health' | 'allAddressOutputs' | 'output'>;
      stream: IndexerStream;
      /** The wallet's bech32 address. */
      address: string;
      concernsUs: (o: OutputSummary) => boolean;
      log?: Logger;
    },
  ) {
    const { stream } = deps;
    stream.on('open', () => {
      this.needsRest = true;
      this.queue = [];
      this.wake();
    });
    stream.on('lost', () => {
      this.needsRest = true;
      this.queue = [];
    });
    stream.on('batch', (batch) => {
      if (this.queue.length >= MAX_QUEUED) {
        this.needsRest = true;
        this.queue = [];
      }
      this.queue.push(batch);
      this.wake();
    });
  }

  onNews(wake: () => void): void {
    this.wakes.push(wake);
  }

  private wake(): void {
    for (const wake of this.wakes) wake();
  }

  /**
   * Everything the indexer holds unspent for the address, as of (at least) its indexed milestone. The
   * configured starting outputs and scan milestone are not needed: the indexer lists every output.
   */
  async initial(): Promise<{ outputs: OutputSummary[]; checkpoint: number }> {
    const { indexer, address, concernsUs, log } = this.deps;
    // A new wallet waits for its indexer (as for its node) rather than fail to start.
    for (let attempt = 0; ; attempt++) {
      try {
        const indexed = (await indexer.health()).indexedMilestone;
        const unspent = await indexer.allAddressOutputs(address, { unspent: true });
        return { outputs: unspent.map(summaryOf).filter(concernsUs), checkpoint: indexed };
      } catch (error) {
        if (attempt === 0) log?.warn({ err: (error as Error).message }, 'waiting for the indexer');
        await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
      }
    }
  }

  async *read(checkpoint: number, known: KnownOutputs, stopped: () => boolean): AsyncIterable<LedgerStep> {
    if (this.needsRest) {
      // Connecting (at start, or after a drop): worth a short wait before this read counts as failed.
      if (!(await this.deps.stream.opened(5_000)))
        throw new Error('the indexer stream is not connected; reconnecting');
      const connection = this.deps.stream.connections;
      const { indexed, milestones } = await this.overRest(checkpoint, known);
      for (const m of milestones) {
        if (stopped()) return;
        yield { kind: 'milestone', changes: m };
      }
      // A reconnection during the read: its stream starts later than this read, so read again.
      if (connection !== this.deps.stream.connections || !this.deps.stream.connected)
        throw new Error('the indexer stream reconnected during the catch-up; reading again');
      yield { kind: 'reached', index: indexed };
      this.needsRest = false;
      this.restFrom = checkpoint;
      this.queue = this.queue.filter((b) => b.milestone.index > indexed);
      checkpoint = Math.max(checkpoint, indexed);
    }
    while (this.queue.length > 0 && !this.needsRest && !stopped()) {
      const batch = this.queue[0]!;
      if (batch.milestone.index > checkpoint) {
        yield { kind: 'milestone', changes: this.changesOf(batch, known) };
        checkpoint = batch.milestone.index;
      }
      // Taken off only once read: a failed read leaves it for the next try.
      if (this.queue[0] === batch) this.queue.shift();
    }
    if (!this.needsRest && !stopped()) yield { kind: 'reached', index: checkpoint };
  }

  /** One streamed milestone's outputs of ours. */
  private changesOf(batch: StreamBatch, known: KnownOutputs): MilestoneChanges {
    const created: OutputSummary[] = [];
    const consumed: string[] = [];
    for (const event of batch.outputs) {
      const summary = summaryOf(event);
      if (event.change === 'created') created.push(summary);
      else {
        consumed.push(summary.outputId);
        // Created during a disconnection and spent since: it still was a payment to us.
        if (!known.has(summary.outputId) && summary.milestoneIndexBooked > this.restFrom)
          created.push(summary);
      }
    }
    return { index: batch.milestone.index, timestamp: batch.milestone.timestamp, created, consumed };
  }

  /**
   * What changed for the address after `checkpoint`, up to the milestone the indexer had indexed when the
   * read began, grouped by milestone. Later changes come by the stream (open before this read).
   */
  private async overRest(
    checkpoint: number,
    known: KnownOutputs,
  ): Promise<{ indexed: number; milestones: Milestone[] }> {
    const { indexer, address } = this.deps;
    const indexed = (await indexer.health()).indexedMilestone;
    if (indexed <= checkpoint) return { indexed, milestones: [] };
    const byIndex = new Map<number, Milestone>();
    const at = (index: number, timestamp: number) => {
      const m = byIndex.get(index) ?? { index, timestamp, created: [], consumed: [] };
      byIndex.set(index, m);
      return m;
    };
    const unspent = await indexer.allAddressOutputs(address, { unspent: true });
    const stillUnspent = new Set(unspent.map((o) => o.metadata.outputId));
    for (const o of unspent) {
      const booked = o.metadata.milestoneIndexBooked;
      if (known.has(o.metadata.outputId) || booked > indexed) continue;
      // Booked before the checkpoint yet unknown (a view started from configured outputs): take it now.
      const index = Math.max(booked, checkpoint + 1);
      at(index, o.metadata.milestoneTimestampBooked).created.push(summaryOf(o));
    }
    for (const id of [...known.keys()]) {
      if (stillUnspent.has(id)) continue;
      const found = await indexer.output(id).catch((error: unknown) => {
        if (isError(error, 'NOT_FOUND')) return undefined;
        throw error;
      });
      // Unknown to the indexer, or still unspent there (the list was read before it was booked): keep it.
      if (!found?.metadata.isSpent) continue;
      const spentAt = found.metadata.milestoneIndexSpent || indexed; // 0: spent within a gap of the indexer
      if (spentAt > indexed) continue;
      const index = Math.max(spentAt, checkpoint + 1);
      const timestamp = found.metadata.milestoneTimestampSpent || Math.floor(Date.now() / 1000);
      at(index, timestamp).consumed.push(id);
    }
    const milestones = [...byIndex.values()].sort((a, b) => a.index - b.index);
    for (const m of milestones) m.created.sort((a, b) => (a.outputId < b.outputId ? -1 : 1));
    return { indexed, milestones };
  }
}
