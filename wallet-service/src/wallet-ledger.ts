import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { Journal, JournalFailedError } from '@tanglewatt/journal';
import {
  isPlainCoinOutput,
  type MilestoneChanges,
  type NodeApi,
  type OutputSummary,
  type OutputSummaryJson,
  outputSummaryFromJson,
  outputSummaryToJson,
} from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import { type LedgerSource, NodeMilestones } from './ledger-source.js';
import { Waker } from './waker.js';

/**
 * The wallet's view of its own outputs, kept by following confirmed milestones from its LedgerSource (the
 * node's milestones, or the community indexer's slice of this address): every created output that names
 * our address as owner, deposit-return or expiration-return address is remembered, every consumed one
 * forgotten. Journaled, so a restart continues from its checkpoint.
 */

type Event =
  | { t: 'checkpoint'; milestoneIndex: number }
  | { t: 'output'; output: OutputSummaryJson }
  | { t: 'spent'; outputId: string };

export interface WalletBalance {
  totalUnits: bigint;
  availableUnits: bigint;
  claimableUnits: bigint;
  outputs: number;
  ledgerIndex: number;
}

const COMPACT_AFTER_EVENTS = 5_000;
/** Seconds after a micro-payment's expiry before its payer spends it again. */
const RECLAIM_MARGIN_SECONDS = 5;

export class WalletLedger extends EventEmitter<{
  milestone: [MilestoneChanges];
  changed: [];
  /** The journal refused a write: the view cannot advance until the service restarts. */
  failed: [JournalFailedError];
}> {
  private readonly outputs = new Map<string, OutputSummary>();
  private checkpoint = 0;
  /** The last checkpoint written to the journal (the in-memory one may be ahead: see commitWithCheckpoint). */
  private journaledCheckpoint = 0;
  private source!: LedgerSource;
  private eventsSinceCompaction = 0;
  private following = false;
  private stopRequested = false;
  private loop: Promise<void> | undefined;
  private readonly waker = new Waker();
  /** The node's confirmed milestone when catchUp last finished reading everything up to it. */
  private caughtUpTo = -1;
  private spendObserver: ((outputIds: string[], milestoneIndex: number) => Promise<void>) | undefined;
  private readObservers: ((changes: MilestoneChanges) => Promise<void>)[] = [];

  private constructor(
    private readonly journal: Journal<Event>,
    readonly addressHex: string,
    private readonly log: Logger,
  ) {
    super();
  }

  static async open(options: {
    dataDir: string;
    /** The node, read milestone by milestone when no `source` is given. */
    api: NodeApi;
    /** Where to read the ledger from instead (the indexer's slice of this address). */
    source?: (concernsUs: (o: OutputSummary) => boolean) => LedgerSource;
    addressHex: string;
    initialOutputs: string[];
    scanFromMilestone?: number;
    log: Logger;
  }): Promise<WalletLedger> {
    const { journal, records } = await Journal.open<Event>(join(options.dataDir, 'ledger.journal'));
    const ledger = new WalletLedger(journal, options.addressHex.toLowerCase(), options.log);
    const concernsUs = (o: OutputSummary) => ledger.concernsUs(o);
    ledger.source = options.source?.(concernsUs) ?? new NodeMilestones(options.api, concernsUs);
    ledger.source.onNews?.(() => ledger.wake());
    for (const event of records) ledger.apply(event);
    ledger.journaledCheckpoint = ledger.checkpoint;
    ledger.eventsSinceCompaction = records.length;
    if (records.length === 0) await ledger.initialise(options.initialOutputs, options.scanFromMilestone);
    return ledger;
  }

  private apply(event: Event): void {
    if (event.t === 'checkpoint') this.checkpoint = event.milestoneIndex;
    else if (event.t === 'output')
      this.outputs.set(event.output.outputId, outputSummaryFromJson(event.output));
    else this.outputs.delete(event.outputId);
  }

  private async commit(events: Event[]): Promise<void> {
    if (events.length === 0) return;
    await this.journal.appendMany(events);
    for (const e of events) this.apply(e);
    this.eventsSinceCompaction += events.length;
    if (this.eventsSinceCompaction > COMPACT_AFTER_EVENTS) {
      await this.journal.rewrite([
        ...[...this.outputs.values()].map((o): Event => ({ t: 'output', output: outputSummaryToJson(o) })),
        { t: 'checkpoint', milestoneIndex: this.checkpoint },
      ]);
      this.eventsSinceCompaction = this.outputs.size + 1;
    }
  }

  private async initialise(initialOutputs: string[], scanFrom?: number): Promise<void> {
    const { outputs, checkpoint } = await this.source.initial(initialOutputs, scanFrom);
    const events: Event[] = outputs
      .filter((o) => this.concernsUs(o))
      .map((o) => ({ t: 'output', output: outputSummaryToJson(o) }));
    events.push({ t: 'checkpoint', milestoneIndex: checkpoint });
    await this.commit(events);
    this.journaledCheckpoint = checkpoint;
  }

  concernsUs(o: OutputSummary): boolean {
    return (
      o.ownerHex === this.addressHex ||
      o.depositReturn?.addressHex === this.addressHex ||
      o.expiration?.addressHex === this.addressHex
    );
  }

  /**
   * Called with our outputs a milestone consumed, before that milestone is recorded as read; a failure
   * makes the milestone be read again.
   */
  onOwnOutputsSpent(observer: (outputIds: string[], milestoneIndex: number) => Promise<void>): void {
    this.spendObserver = observer;
  }

  /** Called with each milestone's changes before it is recorded as read; a failure makes it be read again. */
  onMilestoneRead(observer: (changes: MilestoneChanges) => Promise<void>): void {
    this.readObservers.push(observer);
  }

  /** True once this view has read every milestone the node had confirmed at some point since it opened. */
  get caughtUp(): boolean {
    return this.caughtUpTo >= 0;
  }

  get ledgerIndex(): number {
    return this.checkpoint;
  }

  /** Processes every milestone its source has after the checkpoint. Returns how many it processed. */
  async catchUp(): Promise<number> {
    let processed = 0;
    for await (const step of this.source.read(this.checkpoint, this.outputs, () => this.stopRequested)) {
      if (step.kind === 'milestone') {
        await this.read(step.changes);
        processed++;
      } else if (step.kind === 'skipped') {
        this.log.warn(
          { from: this.checkpoint + 1, to: step.to },
          'milestones were pruned before this wallet read them; outputs received in that range are not seen',
        );
        const events: Event[] = step.spent.map((id) => ({ t: 'spent', outputId: id }));
        await this.commitWithCheckpoint(events, step.to);
      } else {
        if (step.index > this.checkpoint) await this.commitWithCheckpoint([], step.index);
        if (!this.stopRequested && this.checkpoint >= step.index)
          this.caughtUpTo = Math.max(this.caughtUpTo, step.index);
      }
    }
    return processed;
  }

  /** One milestone: its observers first, then what concerns us and the checkpoint, in one journal write. */
  private async read(changes: MilestoneChanges): Promise<void> {
    const index = changes.index;
    const createdOwn = changes.created.filter((o) => this.concernsUs(o));
    // An output created and spent within one milestone (a transaction on unconfirmed change) was ours for
    // a moment: whoever spent it is told, and it is never listed as unspent.
    const createdIds = new Set(createdOwn.map((o) => o.outputId));
    const spentOwn = changes.consumed.filter((id) => this.outputs.has(id) || createdIds.has(id));
    // Before the milestone counts as read: whoever spent our outputs is accounted for first.
    if (spentOwn.length && this.spendObserver) await this.spendObserver(spentOwn, index);
    for (const observe of this.readObservers) await observe(changes);
    const events: Event[] = spentOwn
      .filter((id) => this.outputs.has(id))
      .map((id) => ({ t: 'spent', outputId: id }));
    const consumed = new Set(changes.consumed);
    for (const o of createdOwn)
      if (!consumed.has(o.outputId)) events.push({ t: 'output', output: outputSummaryToJson(o) });
    await this.commitWithCheckpoint(events, index);
    this.emit('milestone', changes);
    if (events.length > 0) this.emit('changed');
  }

  /**
   * Records `events` and the checkpoint `index`. A milestone with nothing of ours is journaled only every
   * `checkpointEvery` milestones (the source's choice); in between the checkpoint moves in memory.
   */
  private async commitWithCheckpoint(events: Event[], index: number): Promise<void> {
    if (events.length === 0 && index - this.journaledCheckpoint < this.source.checkpointEvery) {
      this.checkpoint = Math.max(this.checkpoint, index);
      return;
    }
    await this.commit([...events, { t: 'checkpoint', milestoneIndex: index }]);
    this.journaledCheckpoint = index;
  }

  /**
   * A milestone was confirmed (inx-mqtt tells the moment it is): read it now rather than at the next poll.
   * A wake during a catch-up runs another right after it.
   */
  wake(): void {
    this.waker.wake();
  }

  /** Follows milestones until stop() is called, when woken or every pollIntervalMs; errors are logged and retried. */
  follow(pollIntervalMs: number): void {
    if (this.following) return;
    this.following = true;
    this.loop = this.followLoop(pollIntervalMs);
  }

  private async followLoop(pollIntervalMs: number): Promise<void> {
    let lastError = '';
    while (!this.stopRequested) {
      try {
        await this.catchUp();
        lastError = '';
      } catch (error) {
        if (error instanceof JournalFailedError) {
          this.emit('failed', error);
          return;
        }
        const message = (error as Error).message;
        if (message !== lastError) this.log.warn({ err: message }, 'following milestones failed; retrying');
        lastError = message;
      }
      await this.waker.sleep(pollIntervalMs);
    }
  }

  async stop(): Promise<void> {
    this.stopRequested = true;
    this.waker.wake();
    await this.loop;
    await this.source.close?.();
    await this.journal.close();
  }

  all(): OutputSummary[] {
    return [...this.outputs.values()];
  }

  /** Plain coin outputs we own outright. */
  /**
   * Outputs we can spend outright: plain coin outputs we own, and micro-payments we sent whose payee did
   * not claim them before they expired (from then on the whole output is ours again). The margin keeps
   * clear of the expiry instant; should the payee's claim still win, our transaction is found
   * conflicting and its payments re-issued.
   */
  spendable(
    nowSeconds = Math.floor(Date.now() / 1000),
    marginSeconds = RECLAIM_MARGIN_SECONDS,
  ): OutputSummary[] {
    return this.all().filter(
      (o) =>
        (o.ownerHex === this.addressHex && isPlainCoinOutput(o)) ||
        this.reclaimable(o, nowSeconds, marginSeconds),
    );
  }

  private reclaimable(o: OutputSummary, nowSeconds: number, marginSeconds: number): boolean {
    return (
      o.ownerHex !== this.addressHex &&
      o.expiration?.addressHex === this.addressHex &&
      o.expiration.unixTime + marginSeconds <= nowSeconds &&
      !o.timelockUntil &&
      !o.hasNativeTokens
    );
  }

  /** Received micro-payments we can still claim (owner is us, not expired with a safety margin). */
  claimable(nowSeconds: number, marginSeconds = 60): OutputSummary[] {
    return this.all().filter(
      (o) =>
        o.ownerHex === this.addressHex &&
        o.depositReturn !== undefined &&
        (o.expiration === undefined || o.expiration.unixTime > nowSeconds + marginSeconds) &&
        !o.timelockUntil &&
        !o.hasNativeTokens,
    );
  }

  balance(nowSeconds: number, locked: ReadonlySet<string>): WalletBalance {
    let total = 0n;
    let available = 0n;
    let claimable = 0n;
    for (const o of this.all()) {
      if (this.reclaimable(o, nowSeconds, 0)) {
        // An unclaimed micro-payment past its expiry: all of it is ours again.
        total += o.amount;
        if (!locked.has(o.outputId) && this.reclaimable(o, nowSeconds, RECLAIM_MARGIN_SECONDS))
          available += o.amount;
        continue;
      }
      if (o.ownerHex !== this.addressHex) continue;
      const expired = o.expiration !== undefined && o.expiration.unixTime <= nowSeconds;
      if (expired) continue; // belongs to the return address now
      const owed = o.depositReturn?.amount ?? 0n;
      total += o.amount - owed;
      if (o.depositReturn) claimable += o.amount - owed;
      else if (isPlainCoinOutput(o) && !locked.has(o.outputId)) available += o.amount;
    }
    return {
      totalUnits: total,
      availableUnits: available,
      claimableUnits: claimable,
      outputs: this.outputs.size,
      ledgerIndex: this.checkpoint,
    };
  }
}
