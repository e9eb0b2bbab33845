import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { isError } from '@tanglewatt/errors';
import { Journal, JournalFailedError } from '@tanglewatt/journal';
import {
  isPlainCoinOutput,
  type MilestoneChanges,
  milestoneChanges,
  type NodeApi,
  type OutputSummary,
  type OutputSummaryJson,
  outputSummaryFromJson,
  outputSummaryToJson,
  summarizeOutput,
} from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import { Waker } from './waker.js';

/**
 * The wallet's view of its own outputs, kept by following confirmed milestones (Stardust has no address
 * lookup without an indexer): every created output that names our address as owner, deposit-return or
 * expiration-return address is remembered, every consumed one forgotten. Journaled, so a restart
 * continues from its checkpoint.
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
    private readonly api: NodeApi,
    readonly addressHex: string,
    private readonly log: Logger,
  ) {
    super();
  }

  static async open(options: {
    dataDir: string;
    api: NodeApi;
    addressHex: string;
    initialOutputs: string[];
    scanFromMilestone?: number;
    log: Logger;
  }): Promise<WalletLedger> {
    const { journal, records } = await Journal.open<Event>(join(options.dataDir, 'ledger.journal'));
    const ledger = new WalletLedger(journal, options.api, options.addressHex.toLowerCase(), options.log);
    for (const event of records) ledger.apply(event);
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
    const info = await this.api.info();
    const events: Event[] = [];
    for (const id of initialOutputs) {
      const summary = summarizeOutput(id, await this.api.output(id));
      if (!summary.isSpent && this.concernsUs(summary))
        events.push({ t: 'output', output: outputSummaryToJson(summary) });
    }
    const start = scanFrom ?? info.status.confirmedMilestone.index + 1;
    events.push({ t: 'checkpoint', milestoneIndex: start - 1 });
    await this.commit(events);
  }

  private concernsUs(o: OutputSummary): boolean {
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

  /** Processes every confirmed milestone after the checkpoint. Returns how many it processed. */
  async catchUp(): Promise<number> {
    const info = await this.api.info();
    const confirmed = info.status.confirmedMilestone.index;
    let processed = 0;
    for (let index = this.checkpoint + 1; index <= confirmed && !this.stopRequested; index++) {
      let changes: MilestoneChanges;
      try {
        changes = await milestoneChanges(this.api, index);
      } catch (error) {
        if (isError(error, 'NOT_FOUND') && index <= info.status.pruningIndex) {
          await this.recoverFromPruning(info.status.pruningIndex);
          index = this.checkpoint;
          continue;
        }
        throw error;
      }
      const events: Event[] = [];
      const createdOwn = changes.created.filter((o) => this.concernsUs(o));
      const consumed = new Set(changes.consumed);
      // An output created and spent within one milestone (a transaction on unconfirmed change) is spent
      // too: it was ours for a moment, never to be listed as unspent.
      const createdIds = new Set(createdOwn.map((o) => o.outputId));
      const spentOwn = changes.consumed.filter((id) => this.outputs.has(id) || createdIds.has(id));
      // Before the milestone counts as read: whoever spent our outputs is accounted for first.
      if (spentOwn.length && this.spendObserver) await this.spendObserver(spentOwn, index);
      for (const observe of this.readObservers) await observe(changes);
      for (const id of spentOwn) if (this.outputs.has(id)) events.push({ t: 'spent', outputId: id });
      for (const o of createdOwn)
        if (!consumed.has(o.outputId)) events.push({ t: 'output', output: outputSummaryToJson(o) });
      events.push({ t: 'checkpoint', milestoneIndex: index });
      await this.commit(events);
      processed++;
      this.emit('milestone', changes);
      if (events.length > 1) this.emit('changed');
    }
    if (!this.stopRequested && this.checkpoint >= confirmed)
      this.caughtUpTo = Math.max(this.caughtUpTo, confirmed);
    return processed;
  }

  /** The node pruned milestones we had not read: re-check what we know and continue after the pruned range. */
  private async recoverFromPruning(pruningIndex: number): Promise<void> {
    this.log.warn(
      { from: this.checkpoint + 1, to: pruningIndex },
      'milestones were pruned before this wallet read them; outputs received in that range are not seen',
    );
    const events: Event[] = [];
    for (const id of this.outputs.keys()) {
      const meta = await this.api.outputMetadata(id).catch(() => undefined);
      if (!meta || meta.isSpent) events.push({ t: 'spent', outputId: id });
    }
    events.push({ t: 'checkpoint', milestoneIndex: pruningIndex });
    await this.commit(events);
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
