import { type AgentChannel, channelSampleOf, channelSummaryOf, type OpenChannel } from '../channel.js';
import type { Clock } from '../clock.js';
import type { ChannelConfig } from '../config.js';
import { errorMessage } from '../errors.js';
import type { Feature, Kernel } from '../kernel.js';
import type { Logger } from '../log.js';
import type { SampleRecord } from '../metering/records.js';
import {
  awaitingChannelRoot,
  type ChannelRootRecord,
  type PeriodRecord,
  paymentState,
} from '../store/state.js';
import type { SettlementFeature } from './settlement.js';

/**
 * Channel publishing: every counted reading goes to the meter's channel, every closed period ends its
 * messages there, and the root the channel seals for it is journaled onto the period, after which the
 * period's payment (naming the root) can go out. The channel itself is opened with the hardware, before
 * the journal is replayed, since the periods recorded meanwhile name it.
 */
export class ChannelFeature implements Feature {
  readonly name = 'channel';
  #channel!: AgentChannel;
  readonly #settlement: SettlementFeature | undefined;
  #kernel: Kernel | undefined;
  /** Roots being journaled (a stop waits for them); periods whose root is on its way to the journal. */
  #rootWrites: Promise<void> = Promise.resolve();
  readonly #rootsInFlight = new Set<string>();

  constructor(settlement: SettlementFeature | undefined) {
    this.#settlement = settlement;
  }

  /** Opens the channel (with the hardware: before anything is written, and before the journal is replayed). */
  async open(
    openChannel: OpenChannel,
    config: ChannelConfig,
    context: { dataDir: string; clock: Clock; log: Logger },
  ): Promise<void> {
    this.#channel = await openChannel(config, { ...context, hooks: this.#hooks });
  }

  get channelId(): string {
    return this.#channel.channelId;
  }

  /**
   * Closed periods whose root is not journaled: the channel has it (a crash came between), or it never
   * sealed their last message and gets their readings again from the sample journal; then the readings of
   * the open period.
   */
  async start(kernel: Kernel): Promise<void> {
    const { state, samples, clock, log } = kernel;
    this.#kernel = kernel;
    const reclose: PeriodRecord[] = [];
    for (const period of state.state.periods.filter(awaitingChannelRoot)) {
      // A root whose messages are not all posted yet is not journaled: the payment must name their blocks.
      const root = this.#channel.rootOf(period.id);
      if (root?.refs) await this.#journalRoot(root);
      else reclose.push(period);
    }
    const openStartMs = kernel.openPeriod.startMs;
    const journaled = await samples.readFrom(
      Math.min(openStartMs, reclose[0]?.startMs ?? openStartMs),
      clock.nowMs(),
    );
    for (const period of reclose) {
      for (const sample of journaled)
        if (sample.tMs >= period.startMs && sample.tMs < period.endMs) this.#publish(sample);
      this.#channel.closePeriod(channelSummaryOf(period));
    }
    if (reclose.length)
      log.info({ periods: reclose.map((p) => p.id) }, 'closing periods on the channel again');
    for (const sample of journaled) if (sample.tMs >= openStartMs) this.#publish(sample);
    kernel.on('periodClosed', (record) => {
      // Journaled first: the channel's root for it can only land on a period that exists.
      this.#channel.closePeriod(channelSummaryOf(record));
    });
    kernel.on('sampleDone', (sample) => this.#publish(sample));
    kernel.on('snapshot', (s) => {
      s.channel = this.#channel.view();
    });
  }

  /** The channel's hooks: opened before the kernel exists, they reach it once the feature has started. */
  readonly #hooks = {
    onRoot: (root: ChannelRootRecord) => this.#onRoot(root),
    onProblem: (message: string) => this.#kernel?.problem(message),
    onChange: () => this.#kernel?.statusChanged(),
  };

  /** The channel's posted blocks of a closed period ([{seq, blockId}], for verify-period). */
  blocks(periodId: string): { seq: number; blockId: string }[] {
    const period = this.#kernel?.state.state.periods.findLast((p) => p.id === periodId);
    const ch = period?.channel;
    if (ch?.fromSeq === undefined || ch.toSeq === undefined) return [];
    return this.#channel.blockIndex(ch.fromSeq, ch.toSeq);
  }

  /** Seals and posts what it can (bounded), then its journal closes; roots it found are journaled here. */
  async stop(): Promise<void> {
    await this.#kernel?.idle();
    await this.#channel
      ?.stop()
      .catch((error) => this.#kernel?.problem(`channel stop: ${errorMessage(error)}`));
    await this.#rootWrites;
  }

  /** Feeds a counted sample's metered reading to the channel (in the channel's units). */
  #publish(sample: SampleRecord): void {
    const reading = channelSampleOf(sample, this.#kernel!.metered);
    if (reading) this.#channel.addSample(reading);
  }

  /** The channel sealed a period's last message: journal its root, then the payment can name it. */
  #onRoot(root: ChannelRootRecord): void {
    const kernel = this.#kernel;
    if (!kernel || this.#rootsInFlight.has(root.periodId)) return;
    this.#rootsInFlight.add(root.periodId);
    const write = this.#journalRoot(root)
      .then((period) => {
        if (period?.payment.state === 'due' && paymentState(period, kernel.state.state.outcomes) === 'queued')
          this.#settlement?.enqueue(period);
        kernel.statusChanged();
      })
      .catch((error) =>
        // Not lost: the channel's journal keeps the root, and the next start journals it.
        kernel.problem(`channel root of ${root.periodId} not journaled: ${errorMessage(error)}`),
      )
      .finally(() => this.#rootsInFlight.delete(root.periodId));
    this.#rootWrites = this.#rootWrites.then(() => write);
  }

  /** Journals a channel root onto its period (once); returns the period. */
  async #journalRoot(root: ChannelRootRecord): Promise<PeriodRecord | undefined> {
    const { state, log } = this.#kernel!;
    const period = state.state.periods.findLast((p) => p.id === root.periodId);
    if (!period || !awaitingChannelRoot(period)) return undefined;
    await state.append({ kind: 'channel-root', root });
    log.info(
      { period: root.periodId, root: root.root, fromSeq: root.fromSeq, toSeq: root.toSeq },
      'period readings sealed on the channel',
    );
    return period;
  }
}
