import { EventEmitter } from 'node:events';
import type { Clock, Timer } from './clock.js';
import { type AgentConfig, gapThresholdMs } from './config.js';
import { errorMessage } from './errors.js';
import type { AgentEventMap } from './events.js';
import type { Relay } from './hardware/relay.js';
import type { Logger } from './log.js';
import { Meter, type MeterStart, type PeriodTotals } from './metering/meter.js';
import { type PeriodCalendar, periodId } from './metering/periods.js';
import { meteredValue, type SampleRecord } from './metering/records.js';
import { pricePeriod } from './money/pricing.js';
import { registersView } from './money/registers.js';
import { TariffSoFar } from './money/tariff-so-far.js';
import { closedPeriodRecord, keepSamplesFromMs } from './period-close.js';
import type { PowerSensor } from './power-sensor.js';
import type { PurchaseProgress } from './prepaid.js';
import { type Tick, TickScheduler } from './sampling/scheduler.js';
import { readSensors, SensorHealth } from './sampling/sensor-health.js';
import { SensorReader } from './sampling/sensor-reader.js';
import { type AgentSnapshot, writeStatus } from './status.js';
import type { SampleStore } from './store/sample-store.js';
import { type PeriodRecord, paymentState, type StateStore } from './store/state.js';

/**
 * A part of the agent that is not the metering pipeline itself (settlement, the channel, delivery, the read
 * API). It starts once the kernel has rebuilt the open period from the journal, subscribes to the kernel's
 * stages, and stops in the agent's stop order (delivery first, so power is off before anything else stops).
 */
export interface Feature {
  readonly name: string;
  start(kernel: Kernel): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The kernel's stages a feature can subscribe to; handlers run in the order features started, and the
 * kernel waits for each before the next step of the sample.
 */
export interface KernelStages {
  /** The sampler ran, before the reading. */
  tick: (tick: Tick) => void;
  /** A durable sample was added to the open period, before the periods it ended are recorded. */
  counted: (sample: SampleRecord, deliveredHalfNJ: bigint, valid: boolean) => Promise<void>;
  /** A period's record is in the journal. */
  periodClosed: (record: PeriodRecord) => Promise<void> | void;
  /** A sample and every period it ended are recorded. */
  sampleDone: (sample: SampleRecord) => void;
  /** Sampling has started (timers of a feature's own start here). */
  running: () => void;
  /** Fills the feature's part of a snapshot. */
  snapshot: (snapshot: AgentSnapshot) => void;
}

export interface KernelParts {
  config: AgentConfig;
  clock: Clock;
  log: Logger;
  calendar: PeriodCalendar;
  metered: string;
  sensors: PowerSensor[];
  closeSensors: () => Promise<void>;
  relay: Relay | undefined;
  state: StateStore;
  samples: SampleStore;
  releaseLock: () => Promise<void>;
  /** The channel's id, when one is open: period records name it. */
  channelId: string | undefined;
}

const STATUS_EVERY_MS = 5_000;
const ERRORS_KEPT = 10;

/** Where metering resumes: after the last closed period, or in the period of the first sample ever taken. */
function meterStart(
  last: PeriodRecord | undefined,
  firstSampleMs: number,
  calendar: PeriodCalendar,
): MeterStart {
  if (last) return { seq: last.seq + 1, startMs: last.endMs, resume: last.resume };
  return {
    seq: 1,
    startMs: calendar.containing(firstSampleMs).startMs,
    resume: { bridge: null, uncoveredSinceMs: null, lastTMs: null },
  };
}

/**
 * The agent's metering pipeline: sample → journal → meter → period → events. It owns the sensors, the two
 * journals, the meter and status.json; everything else is a feature subscribed to its stages.
 */
export class Kernel {
  readonly config: AgentConfig;
  readonly clock: Clock;
  readonly log: Logger;
  readonly state: StateStore;
  readonly samples: SampleStore;
  readonly metered: string;
  readonly calendar: PeriodCalendar;
  readonly events = new EventEmitter<AgentEventMap>();
  /** The running purchase, when delivery is on: its samples are synced, its trades paid on their own. */
  activePurchase: () => PurchaseProgress | undefined = () => undefined;
  readonly #p: KernelParts;
  readonly #startedAtMs: number;
  readonly #hooks: { [K in keyof KernelStages]: KernelStages[K][] } = {
    tick: [],
    counted: [],
    periodClosed: [],
    sampleDone: [],
    running: [],
    snapshot: [],
  };
  #meter!: Meter;
  #scheduler: TickScheduler;
  #lastPeriod: PeriodRecord | undefined;
  /** Counting happens in sample order, each after its sample is durable. */
  #chain: Promise<void> = Promise.resolve();
  #reading: Promise<void> | undefined;
  #pendingMissed = 0;
  #lastSample: SampleRecord | null = null;
  #powerUW: number | null = null;
  #ticks = { count: 0, missed: 0, lastLateMs: 0, maxLateMs: 0 };
  #errors: { atMs: number; message: string }[] = [];
  readonly #health: SensorHealth;
  /** Under a tariff: the open period's readings, priced for the snapshot as the close prices them. */
  readonly #tariffSoFar: TariffSoFar | undefined;
  readonly #readers: SensorReader[];
  #timers: Timer[] = [];
  #running = false;
  #statusWrite: Promise<void> | undefined;
  #statusDirty = false;

  constructor(parts: KernelParts) {
    this.#p = parts;
    this.config = parts.config;
    this.clock = parts.clock;
    this.log = parts.log;
    this.state = parts.state;
    this.samples = parts.samples;
    this.metered = parts.metered;
    this.calendar = parts.calendar;
    this.#startedAtMs = parts.clock.nowMs();
    this.#readers = parts.sensors.map((s) => new SensorReader(s));
    this.#health = new SensorHealth(parts.log, (message) => this.problem(message));
    const { tariff, pricing } = parts.config;
    this.#tariffSoFar = tariff
      ? new TariffSoFar(tariff, pricing, parts.metered, gapThresholdMs(parts.config))
      : undefined;
    parts.samples.onWriteError = (error, count) =>
      this.problem(`${count} samples not journaled: ${errorMessage(error)}`);
    this.#scheduler = new TickScheduler(parts.clock, parts.config.sampleIntervalMs, (tick) =>
      this.#onTick(tick),
    );
  }

  /** Subscribes a feature to a stage of the pipeline. */
  on<K extends keyof KernelStages>(stage: K, handler: KernelStages[K]): void {
    this.#hooks[stage].push(handler);
  }

  get running(): boolean {
    return this.#running;
  }

  get openPeriod(): Meter['open'] {
    return this.#meter.open;
  }

  get lastPeriod(): PeriodRecord | undefined {
    return this.#lastPeriod;
  }

  get gapThresholdMs(): number {
    return gapThresholdMs(this.config);
  }

  /**
   * Rebuilds the open period from the sample journal. A period whose end passed while the agent was down
   * closes, at its end, on the first sample (replayed or new) that shows nothing more can be added to it.
   */
  async recover(): Promise<void> {
    const { state, samples, clock, calendar, log } = this.#p;
    this.#lastPeriod = state.state.periods.at(-1);
    const first = this.#lastPeriod ? undefined : await samples.first();
    const start = meterStart(this.#lastPeriod, first?.tMs ?? clock.nowMs(), calendar);
    this.#meter = new Meter(
      { meteredSensor: this.metered, gapThresholdMs: this.gapThresholdMs, calendar },
      start,
    );
    const journaled = await samples.readFrom(start.startMs, clock.nowMs());
    for (const sample of journaled)
      for (const closed of this.#meter.add(sample).closed) await this.#closePeriod(closed);
    this.#lastSample = journaled.at(-1) ?? null;
    const open = this.#meter.open;
    this.#tariffSoFar?.seed(open, await samples.readFrom(open.startMs - this.gapThresholdMs, clock.nowMs()));
    if (journaled.length)
      log.info(
        { replayed: journaled.length, openPeriodSeq: this.#meter.open.seq },
        'rebuilt the open period from the journal',
      );
  }

  /** Starts sampling and the status timer; features have started. */
  start(): void {
    this.#running = true;
    this.#scheduler.start();
    this.every(STATUS_EVERY_MS, () => this.statusChanged());
    for (const handler of this.#hooks.running) handler();
  }

  /** Stops sampling and every timer; what is being counted still finishes (see `idle`). */
  halt(): void {
    this.#running = false;
    this.#scheduler.stop();
    for (const t of this.#timers) t.cancel();
  }

  /** Writes the last status.json and closes the journals, the sensors, the relay and the lock. */
  async close(): Promise<void> {
    const { samples, state, relay, releaseLock, closeSensors } = this.#p;
    await this.#statusWrite;
    await writeStatus(this.config.dataDir, this.snapshot()).catch(() => undefined);
    await samples.close();
    await state.close();
    await closeSensors();
    await relay?.close().catch(() => undefined);
    await releaseLock();
  }

  /** Closes what the kernel holds after a start that failed, whatever state it is in. */
  async abandon(): Promise<void> {
    const { samples, state, relay, releaseLock, closeSensors } = this.#p;
    this.halt();
    await samples.close().catch(() => undefined);
    await state.close().catch(() => undefined);
    await closeSensors().catch(() => undefined);
    await relay?.close().catch(() => undefined);
    await releaseLock();
  }

  /** Repeats `fn` every `ms` of the agent's clock until stop; each job keeps its own timer slot. */
  every(ms: number, fn: () => void): void {
    const slot = this.#timers.length;
    const arm = () => {
      this.#timers[slot] = this.clock.setTimer(ms, () => {
        if (!this.#running) return;
        fn();
        arm();
      });
    };
    arm();
  }

  /** Something went wrong that the agent survives: logged (unless the caller logged it), kept, emitted. */
  problem(message: string, log = true): void {
    if (log) this.log.warn(message);
    this.#errors.push({ atMs: this.clock.nowMs(), message });
    if (this.#errors.length > ERRORS_KEPT) this.#errors.shift();
    this.events.emit('problem', message);
  }

  /** Writes status.json; writes never overlap, and a request during a write causes one more. */
  statusChanged(): void {
    if (!this.#running) return;
    if (this.#statusWrite) {
      this.#statusDirty = true;
      return;
    }
    const snapshot = this.snapshot();
    this.events.emit('status', snapshot);
    this.#statusWrite = writeStatus(this.config.dataDir, snapshot)
      .catch((error) => this.log.debug({ error: errorMessage(error) }, 'status.json not written'))
      .finally(() => {
        this.#statusWrite = undefined;
        if (this.#statusDirty) {
          this.#statusDirty = false;
          this.statusChanged();
        }
      });
  }

  /** Resolves once every sample taken so far is durable and counted. */
  async idle(): Promise<void> {
    for (;;) {
      const reading = this.#reading;
      const chain = this.#chain;
      await reading;
      await chain;
      if (reading === this.#reading && chain === this.#chain) return;
    }
  }

  snapshot(): AgentSnapshot {
    const { config, clock, state } = this.#p;
    const open = this.#meter.open;
    const last = this.#lastPeriod;
    const tariff = this.#tariffSoFar?.price(last);
    const tariffNow = this.#tariffSoFar?.bandAt(clock.nowMs(), open.endMs, tariff);
    const soFar = tariff
      ? tariff.units.producer
      : pricePeriod(open.energy.deliveredHalfNJ, config.price, 'truncate').amount.toString();
    const snapshot: AgentSnapshot = {
      meterId: config.meterId,
      role: config.role,
      consumer: config.parties.consumer,
      producer: config.parties.producer,
      pid: process.pid,
      running: this.#running,
      startedAtMs: this.#startedAtMs,
      nowMs: clock.nowMs(),
      sensors: this.#readers.map((r) => ({
        name: r.sensor.name,
        description: r.sensor.description,
        ...r.stats,
      })),
      meteredSensor: this.metered,
      lastSample: this.#lastSample,
      powerUW: this.#powerUW,
      period: {
        id: periodId(config.meterId, open.startMs),
        seq: open.seq,
        startMs: open.startMs,
        endMs: open.endMs,
        energyMWs: (open.energy.deliveredHalfNJ / 2_000_000n).toString(),
        amountSoFar: soFar,
        ...(tariff ? { tariffSoFar: tariff.units } : {}),
        ...(tariffNow ? { tariffNow } : {}),
        quality: open.quality,
      },
      lastPeriod: last
        ? {
            id: last.id,
            seq: last.seq,
            energyMWs: last.energyMWs,
            amount: last.amount,
            payment: paymentState(last, state.state.outcomes),
          }
        : null,
      outbox: { queued: [], nextAttemptAtMs: null, consecutiveFailures: 0 },
      ticks: { ...this.#ticks },
      errors: [...this.#errors],
      relay: null,
      channel: null,
      trades: null,
      registers: registersView(state.state.periods),
      purchase: null,
    };
    for (const fill of this.#hooks.snapshot) fill(snapshot);
    return snapshot;
  }

  #onTick(tick: Tick): void {
    this.#ticks.count++;
    this.#ticks.missed += tick.missedTicks;
    this.#ticks.lastLateMs = tick.lateMs;
    this.#ticks.maxLateMs = Math.max(this.#ticks.maxLateMs, tick.lateMs);
    this.events.emit('tick', tick);
    this.#pendingMissed += tick.missedTicks;
    for (const handler of this.#hooks.tick) handler(tick);
    // One reading at a time: a sensor that hangs costs ticks (counted), never a pile of parallel reads.
    if (this.#reading) {
      this.#pendingMissed++;
      this.#ticks.missed++;
      return;
    }
    const missedTicks = this.#pendingMissed;
    this.#pendingMissed = 0;
    const reading = this.#sample(tick.wallMs, missedTicks)
      .catch((error) => this.problem(`sampling failed: ${errorMessage(error)}`))
      .finally(() => {
        if (this.#reading === reading) this.#reading = undefined;
      });
    this.#reading = reading;
  }

  async #sample(tMs: number, missedTicks: number): Promise<void> {
    const timeoutMs = Math.max(50, Math.floor(this.config.sampleIntervalMs * 0.8));
    const readings = await readSensors(this.#readers, timeoutMs, this.#health);
    const sample: SampleRecord = missedTicks ? { tMs, missedTicks, readings } : { tMs, readings };
    // While a prepaid purchase runs, its delivered energy is rebuilt from the samples after a restart.
    const durable = this.#p.samples.append(sample, { sync: this.activePurchase() !== undefined });
    durable.catch(() => undefined); // handled where the chain reaches it; not an unhandled rejection meanwhile
    this.#chain = this.#chain
      .then(() => durable)
      .then(
        () => this.#count(sample),
        (error) =>
          this.problem(`sample at ${new Date(tMs).toISOString()} not journaled: ${errorMessage(error)}`),
      )
      .catch((error) => this.problem(`counting a sample failed: ${errorMessage(error)}`));
  }

  async #count(sample: SampleRecord): Promise<void> {
    const step = this.#meter.add(sample);
    this.#tariffSoFar?.add(sample, this.#meter.open);
    this.#lastSample = sample;
    const value = meteredValue(sample, this.metered);
    if (value.kind === 'valid') this.#powerUW = value.point.powerUW;
    for (const handler of this.#hooks.counted)
      await handler(sample, step.integrated.deliveredHalfNJ, value.kind === 'valid');
    for (const closed of step.closed) await this.#closePeriod(closed);
    for (const handler of this.#hooks.sampleDone) handler(sample);
    this.events.emit('sample', sample);
  }

  async #closePeriod(totals: PeriodTotals): Promise<void> {
    const { state, log, samples } = this.#p;
    // A recorded period's samples are on disk, whatever the sample durability (a failed write is reported).
    await samples.flush().catch(() => undefined);
    const k = {
      ...this.#p,
      gapMs: this.gapThresholdMs,
      previous: this.#lastPeriod,
      activePurchase: this.activePurchase(),
      problem: (message: string) => this.problem(message),
    };
    const record = await closedPeriodRecord(totals, k);
    await state.append({ kind: 'period', period: record });
    this.#lastPeriod = record;
    log.info(
      {
        period: record.id,
        seq: record.seq,
        energyMWs: record.energyMWs,
        amount: record.amount,
        payment: record.payment.state,
        samples: record.quality.samples,
        gapMs: record.quality.gapMs,
        readErrors: record.quality.readErrors,
      },
      'period closed',
    );
    for (const handler of this.#hooks.periodClosed) await handler(record);
    this.events.emit('period', record);
    const keepFromMs = keepSamplesFromMs(record, k);
    const deleted = await samples.prune(keepFromMs).catch((error) => {
      this.problem(`pruning old sample files failed: ${errorMessage(error)}`);
      return [];
    });
    if (deleted.length) log.info({ deleted }, 'deleted sample files past retention');
    if (await state.compactIfWorthIt()) log.info({ records: state.recordCount }, 'state journal compacted');
    this.statusChanged();
  }
}
