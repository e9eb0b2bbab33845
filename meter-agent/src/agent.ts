import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WalletServiceClient } from '@tanglewatt/payments-api';
import {
  type AgentChannel,
  channelSampleOf,
  channelSummaryOf,
  type OpenChannel,
  openNodeChannel,
} from './channel.js';
import { acceleratedClock, type Clock, systemClock, type Timer } from './clock.js';
import {
  type AgentConfig,
  type AgentConfigInput,
  gapThresholdMs,
  meteredSensorName,
  parseConfig,
  resolveToken,
} from './config.js';
import { errorMessage, MeterAgentError } from './errors.js';
import type { AgentEventMap } from './events.js';
import type { SysfsFiles } from './hardware/gpio-sysfs.js';
import type { I2cBus } from './hardware/i2c.js';
import { type Relay, switchOffUntilConfirmed } from './hardware/relay.js';
import { type PeriodView, type ReadApi, startReadApi } from './http-api.js';
import { createLogger, type Logger } from './log.js';
import { type MarketSource, TradeDesk, tradeIdOfPurchase, tradesCreditedHalfNJ } from './market/desk.js';
import { deliveredSince } from './metering/delivered.js';
import { Meter, type MeterStart, type PeriodTotals } from './metering/meter.js';
import { type PeriodCalendar, periodCalendar, periodId } from './metering/periods.js';
import { meteredValue, type SampleRecord, type SensorSample } from './metering/records.js';
import { pricePeriod } from './money/pricing.js';
import { type PaymentClient, PaymentOutbox } from './payments/outbox.js';
import { carryAfter, paymentRequestFor, periodRecordFrom, tradedShare } from './period-record.js';
import type { PowerSensor } from './power-sensor.js';
import { PrepaidDelivery, type PurchaseProgress, takeInbox } from './prepaid.js';
import { type Tick, TickScheduler } from './sampling/scheduler.js';
import { SensorReader } from './sampling/sensor-reader.js';
import { createRelay, createSensors } from './sensors/create.js';
import { type AgentSnapshot, writeStatus } from './status.js';
import { acquireLock } from './store/lock.js';
import { SampleStore } from './store/sample-store.js';
import {
  awaitingChannelRoot,
  type ChannelRootRecord,
  type PaymentOutcome,
  type PeriodRecord,
  type PurchaseRecord,
  paymentState,
  StateStore,
  unsettled,
} from './store/state.js';

export type { AgentEventMap } from './events.js';

export interface StartAgentOptions {
  /** A config object (validated here) or an already validated one. */
  config: AgentConfigInput | AgentConfig;
  /** Defaults to real time (or the config's accelerated clock). */
  clock?: Clock;
  log?: Logger;
  /** Replace the configured sensors (tests, embedding). */
  sensors?: PowerSensor[];
  /** Where INA219 sensors find their bus (tests pass a FakeIna219Bus). */
  openI2cBus?: (busNumber: number) => Promise<I2cBus>;
  /** Replace the configured relay (tests); it is switched off before anything else. */
  relay?: Relay;
  /** The GPIO sysfs file layer for a GPIO relay (tests pass a FakeGpioKernel). */
  gpioFiles?: SysfsFiles;
  /** Replace the wallet-service client (tests). */
  wallet?: PaymentClient;
  /** Replace where market trades are read and acknowledged (tests); default the wallet-service. */
  market?: MarketSource;
  /** Replace how the channel is opened when `channel` is configured (tests pass a FakeChannel's `open`). */
  openChannel?: OpenChannel;
  env?: NodeJS.ProcessEnv;
}

export interface AgentHandle {
  readonly config: AgentConfig;
  readonly events: EventEmitter<AgentEventMap>;
  /** Live state for a dashboard feed. */
  snapshot(): AgentSnapshot;
  /** The newest closed periods, newest first, each with what became of its payment. */
  periods(limit: number): PeriodView[];
  /** Where the read-only HTTP API listens, when `http` is configured. */
  readonly httpUrl: string | undefined;
  /** Starts a prepaid delivery of `energyMWs` (prepaid mode only). */
  purchase(energyMWs: bigint, id?: string): Promise<PurchaseRecord>;
  /** The channel's posted blocks of a closed period ([{seq, blockId}], for verify-period); [] without. */
  channelBlocks(periodId: string): { seq: number; blockId: string }[];
  /** Resolves once every sample taken so far is durable and counted (tests). */
  idle(): Promise<void>;
  /** Resolves once the payment outbox is empty. */
  paymentsDrained(): Promise<void>;
  /** Switches the relay off, stops sampling, lets the payment in flight finish, closes the stores. */
  stop(): Promise<void>;
}

const STATUS_EVERY_MS = 5_000;
const INBOX_EVERY_MS = 2_000;
/** How often trade windows are checked: a window's end opens the relay within this. */
const TRADE_TICK_MS = 1_000;
const ERRORS_KEPT = 10;

export function clockFor(config: AgentConfig): Clock {
  return config.clock.speed > 1
    ? acceleratedClock(config.clock.speed, config.clock.epochMs ?? Date.now())
    : systemClock;
}

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
 * Starts an agent: recovers from the journal (finishing periods whose end passed while it was down and
 * re-queueing unanswered payments), then samples, meters, journals and pays until `stop()`.
 */
export async function startAgent(options: StartAgentOptions): Promise<AgentHandle> {
  const config = parseConfig(options.config);
  const clock = options.clock ?? clockFor(config);
  const log = options.log ?? createLogger('meter-agent');
  const calendar = periodCalendar(config.period);
  const metered = meteredSensorName(config);

  // The relay first: whatever a crash left on goes off before anything else can fail.
  const relay = options.relay ?? (await createRelay(config, options.gpioFiles));
  if (options.relay) await switchOffUntilConfirmed(options.relay, 3, 100);
  try {
    return await assemble(options, config, clock, log, calendar, metered, relay);
  } catch (error) {
    await relay?.close().catch(() => undefined);
    throw error;
  }
}

/** Everything that can fail for want of hardware or a token fails before anything is written. */
async function assemble(
  options: StartAgentOptions,
  config: AgentConfig,
  clock: Clock,
  log: Logger,
  calendar: PeriodCalendar,
  metered: string,
  relay: Relay | undefined,
): Promise<AgentHandle> {
  let wallet: PaymentClient | undefined = options.wallet;
  let market: MarketSource | undefined = options.market;
  if ((!wallet || (config.market && !market)) && config.role === 'consumer') {
    const token = await resolveToken(config, options.env ?? process.env);
    if (!token)
      throw new MeterAgentError(
        'BAD_CONFIG',
        'walletService.token: required for role "consumer": set METER_AGENT_TOKEN, walletService.tokenFile or walletService.token',
      );
    const client = new WalletServiceClient(config.walletService!.url, {
      token,
      timeoutMs: config.walletService!.timeoutMs,
    });
    wallet ??= client;
    if (config.market) market ??= client;
  }
  const sensorSet = options.sensors
    ? { sensors: options.sensors, close: async () => undefined }
    : await createSensors(config, clock, options.openI2cBus);
  const sensors = sensorSet.sensors;
  if (!sensors.some((s) => s.name === metered)) {
    await sensorSet.close();
    throw new MeterAgentError('BAD_CONFIG', `meteredSensor: no sensor is named "${metered}"`);
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o750 });
  const releaseLock = await acquireLock(config.dataDir);
  const state = await StateStore.open(config.dataDir).catch(async (error) => {
    await releaseLock();
    throw error;
  });
  const samples = new SampleStore(join(config.dataDir, 'samples'), { durability: config.durability, clock });
  return new Agent({
    config,
    clock,
    log,
    calendar,
    metered,
    wallet,
    market,
    sensors,
    closeSensors: sensorSet.close,
    relay,
    state,
    samples,
    releaseLock,
    openChannel: options.openChannel ?? openNodeChannel,
  }).start();
}

interface AgentParts {
  config: AgentConfig;
  clock: Clock;
  log: Logger;
  calendar: PeriodCalendar;
  metered: string;
  wallet: PaymentClient | undefined;
  market: MarketSource | undefined;
  sensors: PowerSensor[];
  closeSensors: () => Promise<void>;
  relay: Relay | undefined;
  state: StateStore;
  samples: SampleStore;
  releaseLock: () => Promise<void>;
  openChannel: OpenChannel;
}

class Agent implements AgentHandle {
  readonly config: AgentConfig;
  readonly events = new EventEmitter<AgentEventMap>();
  readonly #p: AgentParts;
  readonly #startedAtMs: number;
  #meter!: Meter;
  #outbox: PaymentOutbox | undefined;
  #prepaid: PrepaidDelivery | undefined;
  #desk: TradeDesk | undefined;
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
  #sensorFailing = new Map<string, number>();
  /** Sensors whose readings are out of range now, with how many in a row. */
  #sensorOverRange = new Map<string, number>();
  readonly #readers: SensorReader[];
  #timers: Timer[] = [];
  #running = false;
  #statusWrite: Promise<void> | undefined;
  #statusDirty = false;
  #stopping: Promise<void> | undefined;
  #api: ReadApi | undefined;
  #channel: AgentChannel | undefined;
  /** Roots being journaled (a stop waits for them); periods whose root is on its way to the journal. */
  #rootWrites: Promise<void> = Promise.resolve();
  readonly #rootsInFlight = new Set<string>();
  #warnedNoChannel = false;

  constructor(parts: AgentParts) {
    this.#p = parts;
    this.config = parts.config;
    this.#startedAtMs = parts.clock.nowMs();
    this.#readers = parts.sensors.map((s) => new SensorReader(s));
    parts.samples.onWriteError = (error, count) =>
      this.#problem(`${count} samples not journaled: ${errorMessage(error)}`);
    this.#scheduler = new TickScheduler(parts.clock, parts.config.sampleIntervalMs, (tick) =>
      this.#onTick(tick),
    );
  }

  async start(): Promise<this> {
    const { config, log, state, samples, clock } = this.#p;
    try {
      if (config.channel)
        this.#channel = await this.#p.openChannel(config.channel, {
          dataDir: config.dataDir,
          clock,
          log,
          hooks: {
            onRoot: (root) => this.#onChannelRoot(root),
            onProblem: (message) => this.#problem(message),
            onChange: () => this.#writeStatusSoon(),
          },
        });
      await this.#recover();
    } catch (error) {
      await this.#channel?.stop().catch(() => undefined);
      await samples.close().catch(() => undefined);
      await state.close().catch(() => undefined);
      await this.#p.closeSensors().catch(() => undefined);
      await this.#p.relay?.close().catch(() => undefined);
      await this.#p.releaseLock();
      throw error;
    }
    if (this.#p.wallet) {
      this.#outbox = new PaymentOutbox({
        client: this.#p.wallet,
        clock,
        log,
        backoffBaseMs: config.payments.backoffBaseMs,
        backoffCapMs: config.payments.backoffCapMs,
        record: async (outcome) => {
          await state.append({ kind: 'payment', outcome });
          this.events.emit('payment', outcome);
          this.#writeStatusSoon();
        },
        onError: (message) => this.#problem(message, false),
      });
      for (const period of unsettled(state.state)) this.#enqueue(period);
      if (config.market && this.#p.market && this.#prepaid) {
        const outbox = this.#outbox;
        this.#desk = new TradeDesk({
          source: this.#p.market,
          state,
          prepaid: this.#prepaid,
          clock,
          log,
          buyer: config.market.identity ?? config.parties.consumer,
          ack: config.market.ack,
          // After the open period's own payment, in the order they became due.
          enqueue: (_due, request) => outbox.enqueue({ seq: this.#meter.open.seq, request }),
          onProblem: (message) => this.#problem(message),
          onChange: () => this.#writeStatusSoon(),
        });
        this.#desk.resume();
      }
      this.#outbox.start();
    }
    if (config.http) {
      try {
        this.#api = await startReadApi(this, { ...config.http, log });
      } catch (error) {
        await this.#outbox?.stop();
        await this.#channel?.stop().catch(() => undefined);
        await samples.close().catch(() => undefined);
        await state.close().catch(() => undefined);
        await this.#p.closeSensors().catch(() => undefined);
        await this.#p.relay?.close().catch(() => undefined);
        await this.#p.releaseLock();
        throw new MeterAgentError(
          'BAD_CONFIG',
          `http: cannot listen on ${config.http.host}:${config.http.port} (${errorMessage(error)}): choose another port`,
        );
      }
    }
    this.#running = true;
    this.#scheduler.start();
    this.#every(STATUS_EVERY_MS, () => this.#writeStatusSoon());
    if (this.#prepaid) this.#every(INBOX_EVERY_MS, () => this.#pollInbox());
    const desk = this.#desk;
    if (desk && config.market) {
      void desk.poll();
      this.#every(config.market.pollSeconds * 1000, () => void desk.poll());
      this.#every(TRADE_TICK_MS, () => void desk.tick());
    }
    log.info(
      {
        meterId: config.meterId,
        role: config.role,
        sensors: this.#p.sensors.map((s) => `${s.name}: ${s.description}`),
        metered: this.#p.metered,
        period: this.#p.calendar.description,
        intervalMs: config.sampleIntervalMs,
        dataDir: config.dataDir,
        openPeriod: periodId(config.meterId, this.#meter.open.startMs),
        queuedPayments: this.#outbox?.size ?? 0,
        ...(this.#channel ? { channel: this.#channel.channelId } : {}),
      },
      'meter-agent started',
    );
    this.#writeStatusSoon();
    return this;
  }

  /**
   * Rebuilds the open period from the sample journal. A period whose end passed while the agent was down
   * closes, at its end, on the first sample (replayed or new) that shows nothing more can be added to it.
   */
  async #recover(): Promise<void> {
    const { state, samples, clock, calendar, config, log } = this.#p;
    this.#lastPeriod = state.state.periods.at(-1);
    const first = this.#lastPeriod ? undefined : await samples.first();
    const start = meterStart(this.#lastPeriod, first?.tMs ?? clock.nowMs(), calendar);
    this.#meter = new Meter(
      { meteredSensor: this.#p.metered, gapThresholdMs: gapThresholdMs(config), calendar },
      start,
    );
    const activePurchase = [...state.state.purchases.values()].find((p) => !p.done)?.purchase;
    // Closed periods whose channel root is not journaled: the channel has it (a crash came between), or it
    // never sealed their last message and gets their readings again from the sample journal.
    const reclose: PeriodRecord[] = [];
    for (const period of state.state.periods.filter(awaitingChannelRoot)) {
      const root = this.#channel?.rootOf(period.id);
      if (root) await this.#journalRoot(root);
      else if (this.#channel) reclose.push(period);
    }
    const fromMs = Math.min(
      start.startMs,
      activePurchase?.startMs ?? Number.POSITIVE_INFINITY,
      reclose[0]?.startMs ?? Number.POSITIVE_INFINITY,
    );
    const journaled = await samples.readFrom(fromMs, clock.nowMs());
    for (const period of reclose) {
      for (const sample of journaled)
        if (sample.tMs >= period.startMs && sample.tMs < period.endMs) this.#publish(sample);
      this.#channel!.closePeriod(channelSummaryOf(period));
    }
    if (reclose.length)
      log.info({ periods: reclose.map((p) => p.id) }, 'closing periods on the channel again');
    let replayed = 0;
    for (const sample of journaled) {
      if (sample.tMs < start.startMs) continue;
      for (const closed of this.#meter.add(sample).closed) await this.#closePeriod(closed);
      this.#publish(sample);
      replayed++;
    }
    this.#lastSample = journaled.at(-1) ?? null;
    if (replayed)
      log.info({ replayed, openPeriodSeq: this.#meter.open.seq }, 'rebuilt the open period from the journal');
    if (this.#p.relay) {
      this.#prepaid = new PrepaidDelivery({
        relay: this.#p.relay,
        store: state,
        clock,
        log,
        gapThresholdMs: gapThresholdMs(config),
        onError: (m) => this.#problem(m, false),
        onDone: (done) => this.#desk?.onPurchaseDone(done) ?? Promise.resolve(),
      });
      const progress: PurchaseProgress | undefined = activePurchase && {
        purchase: activePurchase,
        deliveredHalfNJ: deliveredSince(
          journaled,
          this.#p.metered,
          gapThresholdMs(config),
          activePurchase.startMs,
        ),
      };
      const tradeId = activePurchase && tradeIdOfPurchase(activePurchase.id);
      const trade = tradeId === undefined ? undefined : state.state.trades.get(tradeId);
      await this.#prepaid.resume(progress, trade !== undefined && trade.trade.window.endMs <= clock.nowMs());
    }
  }

  /** Repeats `fn` every `ms` of the agent's clock until stop; each job keeps its own timer slot. */
  #every(ms: number, fn: () => void): void {
    const slot = this.#timers.length;
    const arm = () => {
      this.#timers[slot] = this.#p.clock.setTimer(ms, () => {
        if (!this.#running) return;
        fn();
        arm();
      });
    };
    arm();
  }

  #onTick(tick: Tick): void {
    this.#ticks.count++;
    this.#ticks.missed += tick.missedTicks;
    this.#ticks.lastLateMs = tick.lateMs;
    this.#ticks.maxLateMs = Math.max(this.#ticks.maxLateMs, tick.lateMs);
    this.events.emit('tick', tick);
    this.#pendingMissed += tick.missedTicks;
    // Even when no sample gets counted (a stuck journal): the relay goes off after the gap threshold.
    void this.#prepaid?.tick(tick.wallMs).catch((error) => this.#problem(`relay: ${errorMessage(error)}`));
    // One reading at a time: a sensor that hangs costs ticks (counted), never a pile of parallel reads.
    if (this.#reading) {
      this.#pendingMissed++;
      this.#ticks.missed++;
      return;
    }
    const missedTicks = this.#pendingMissed;
    this.#pendingMissed = 0;
    const reading = this.#sample(tick.wallMs, missedTicks)
      .catch((error) => this.#problem(`sampling failed: ${errorMessage(error)}`))
      .finally(() => {
        if (this.#reading === reading) this.#reading = undefined;
      });
    this.#reading = reading;
  }

  async #sample(tMs: number, missedTicks: number): Promise<void> {
    const timeoutMs = Math.max(50, Math.floor(this.config.sampleIntervalMs * 0.8));
    const readings: SensorSample[] = await Promise.all(
      this.#readers.map(async (reader): Promise<SensorSample> => {
        const name = reader.sensor.name;
        const outcome = await reader.read(timeoutMs);
        if (outcome.kind === 'busy')
          return { sensor: name, error: 'skipped: the previous read is still on the bus' };
        if (outcome.kind === 'failed') {
          this.#sensorFailed(name, outcome.error);
          return { sensor: name, error: errorMessage(outcome.error).slice(0, 200) };
        }
        const r = outcome.reading;
        this.#sensorRecovered(name);
        this.#overRange(name, r.overflow ? (r.overRange ?? 'overflow') : undefined);
        return {
          sensor: name,
          busVoltageMV: r.busVoltageMV,
          currentUA: r.currentUA,
          powerUW: r.powerUW,
          ...(r.overflow ? { overflow: true as const } : {}),
        };
      }),
    );
    const sample: SampleRecord = missedTicks ? { tMs, missedTicks, readings } : { tMs, readings };
    // While a prepaid purchase runs, its delivered energy is rebuilt from the samples after a restart.
    const durable = this.#p.samples.append(sample, { sync: this.#prepaid?.active !== undefined });
    durable.catch(() => undefined); // handled where the chain reaches it; not an unhandled rejection meanwhile
    this.#chain = this.#chain
      .then(() => durable)
      .then(
        () => this.#count(sample),
        (error) =>
          this.#problem(`sample at ${new Date(tMs).toISOString()} not journaled: ${errorMessage(error)}`),
      )
      .catch((error) => this.#problem(`counting a sample failed: ${errorMessage(error)}`));
  }

  #sensorFailed(name: string, error: unknown): void {
    const failures = (this.#sensorFailing.get(name) ?? 0) + 1;
    this.#sensorFailing.set(name, failures);
    // The first failure of a run is worth a line; the rest are in the period's quality record.
    if (failures === 1) this.#problem(`sensor ${name}: ${errorMessage(error)}`);
  }

  /** Logs the first out-of-range reading of a run, and how many there were once readings are back in range. */
  #overRange(name: string, why: string | undefined): void {
    const run = this.#sensorOverRange.get(name);
    if (why === undefined) {
      if (run === undefined) return;
      this.#sensorOverRange.delete(name);
      this.#p.log.info({ sensor: name, overRangeReads: run }, 'sensor back in range');
      return;
    }
    this.#sensorOverRange.set(name, (run ?? 0) + 1);
    if (run === undefined)
      this.#problem(
        `sensor ${name}: reading over range (${why}): not counted as energy until it is back in range; raise maxCurrentA or use a smaller shunt`,
      );
  }

  #sensorRecovered(name: string): void {
    const failures = this.#sensorFailing.get(name);
    if (!failures) return;
    this.#sensorFailing.delete(name);
    this.#p.log.info({ sensor: name, failedReads: failures }, 'sensor reads again');
  }

  async #count(sample: SampleRecord): Promise<void> {
    const step = this.#meter.add(sample);
    this.#lastSample = sample;
    const value = meteredValue(sample, this.#p.metered);
    if (value.kind === 'valid') this.#powerUW = value.point.powerUW;
    const purchase = this.#prepaid?.active;
    await this.#prepaid?.onSample(sample.tMs, step.integrated.deliveredHalfNJ, value.kind === 'valid');
    if (purchase !== this.#prepaid?.active) this.#writeStatusSoon();
    for (const closed of step.closed) await this.#closePeriod(closed);
    this.#publish(sample);
    this.events.emit('sample', sample);
  }

  async #closePeriod(totals: PeriodTotals): Promise<void> {
    const { state, config, clock, log, samples } = this.#p;
    // A recorded period's samples are on disk, whatever the sample durability (a failed write is reported).
    await samples.flush().catch(() => undefined);
    // Energy the market trades were credited since the last period is paid per trade, not here.
    const traded = config.market
      ? tradedShare(
          tradesCreditedHalfNJ(state.state, this.#prepaid?.active),
          this.#lastPeriod,
          totals.energy.deliveredHalfNJ,
        )
      : undefined;
    const record = periodRecordFrom(
      totals,
      carryAfter(this.#lastPeriod),
      config,
      clock.nowMs(),
      this.#channel?.channelId,
      traded,
    );
    await state.append({ kind: 'period', period: record });
    this.#lastPeriod = record;
    // Journaled first: the channel's root for it can only land on a period that exists.
    this.#channel?.closePeriod(channelSummaryOf(record));
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
    if (record.payment.state === 'due') this.#enqueue(record);
    // Not awaited: the desk may be waiting on the wallet-service, and counting must not.
    void this.#desk?.onPeriodClosed();
    this.events.emit('period', record);
    const retentionStartMs = clock.nowMs() - config.retentionDays * 86_400_000;
    const unfinished = [...state.state.purchases.values()].find((p) => !p.done);
    const purchaseStartMs = unfinished?.purchase.startMs ?? Number.POSITIVE_INFINITY;
    // A period still waiting for its channel root may need its samples again after a restart.
    const awaitingStartMs =
      state.state.periods.find(awaitingChannelRoot)?.startMs ?? Number.POSITIVE_INFINITY;
    const keepFromMs = Math.min(retentionStartMs, record.endMs, purchaseStartMs, awaitingStartMs);
    const deleted = await samples.prune(keepFromMs).catch((error) => {
      this.#problem(`pruning old sample files failed: ${errorMessage(error)}`);
      return [];
    });
    if (deleted.length) log.info({ deleted }, 'deleted sample files past retention');
    if (await state.compactIfWorthIt()) log.info({ records: state.recordCount }, 'state journal compacted');
    this.#writeStatusSoon();
  }

  /** Feeds a counted sample's metered reading to the channel (in the channel's units). */
  #publish(sample: SampleRecord): void {
    if (!this.#channel) return;
    const reading = channelSampleOf(sample, this.#p.metered);
    if (reading) this.#channel.addSample(reading);
  }

  /** The channel sealed a period's last message: journal its root, then the payment can name it. */
  #onChannelRoot(root: ChannelRootRecord): void {
    if (this.#rootsInFlight.has(root.periodId)) return;
    this.#rootsInFlight.add(root.periodId);
    const write = this.#journalRoot(root)
      .then((period) => {
        if (
          period?.payment.state === 'due' &&
          paymentState(period, this.#p.state.state.outcomes) === 'queued'
        )
          this.#enqueue(period);
        this.#writeStatusSoon();
      })
      .catch((error) =>
        // Not lost: the channel's journal keeps the root, and the next start journals it.
        this.#problem(`channel root of ${root.periodId} not journaled: ${errorMessage(error)}`),
      )
      .finally(() => this.#rootsInFlight.delete(root.periodId));
    this.#rootWrites = this.#rootWrites.then(() => write);
  }

  /** Journals a channel root onto its period (once); returns the period. */
  async #journalRoot(root: ChannelRootRecord): Promise<PeriodRecord | undefined> {
    const { state, log } = this.#p;
    const period = state.state.periods.findLast((p) => p.id === root.periodId);
    if (!period || !awaitingChannelRoot(period)) return undefined;
    await state.append({ kind: 'channel-root', root });
    log.info(
      { period: root.periodId, root: root.root, fromSeq: root.fromSeq, toSeq: root.toSeq },
      'period readings sealed on the channel',
    );
    return period;
  }

  #enqueue(period: PeriodRecord): void {
    if (!this.#outbox) return;
    if (awaitingChannelRoot(period)) {
      // Paid once the channel has sealed the period's last message and its root is journaled.
      if (this.#channel) return;
      if (!this.#warnedNoChannel)
        this.#problem(
          `period ${period.id} was published on a channel that is no longer configured: paying it with the agent's own readings hash`,
        );
      this.#warnedNoChannel = true;
    }
    let request: ReturnType<typeof paymentRequestFor>;
    try {
      request = paymentRequestFor(period);
    } catch (error) {
      // Not a request the wallet-service could accept, now or ever: record why instead of retrying.
      const key = period.payment.state === 'due' ? period.payment.key : period.id;
      const outcome: PaymentOutcome = {
        key,
        atMs: this.#p.clock.nowMs(),
        result: 'rejected',
        code: 'INVALID_REQUEST',
        reason: errorMessage(error),
      };
      void this.#p.state.append({ kind: 'payment', outcome }).catch(() => undefined);
      this.#problem(`payment ${key} cannot be requested: ${outcome.reason}`);
      return;
    }
    this.#outbox.enqueue({ seq: period.seq, request });
  }

  async #pollInbox(): Promise<void> {
    if (!this.#prepaid) return;
    try {
      for (const request of await takeInbox(this.config.dataDir)) {
        try {
          await this.#prepaid.start(BigInt(request.energyMWs), request.id);
          this.#writeStatusSoon();
        } catch (error) {
          this.#problem(`purchase ${request.id} refused: ${errorMessage(error)}`);
        }
      }
    } catch (error) {
      this.#problem(`reading the purchase inbox failed: ${errorMessage(error)}`);
    }
  }

  #problem(message: string, log = true): void {
    if (log) this.#p.log.warn(message);
    this.#errors.push({ atMs: this.#p.clock.nowMs(), message });
    if (this.#errors.length > ERRORS_KEPT) this.#errors.shift();
    this.events.emit('problem', message);
  }

  /** Writes status.json; writes never overlap, and a request during a write causes one more. */
  #writeStatusSoon(): void {
    if (!this.#running) return;
    if (this.#statusWrite) {
      this.#statusDirty = true;
      return;
    }
    const snapshot = this.snapshot();
    this.events.emit('status', snapshot);
    this.#statusWrite = writeStatus(this.config.dataDir, snapshot)
      .catch((error) => this.#p.log.debug({ error: errorMessage(error) }, 'status.json not written'))
      .finally(() => {
        this.#statusWrite = undefined;
        if (this.#statusDirty) {
          this.#statusDirty = false;
          this.#writeStatusSoon();
        }
      });
  }

  snapshot(): AgentSnapshot {
    const { config, clock, state } = this.#p;
    const open = this.#meter.open;
    const last = this.#lastPeriod;
    const soFar = pricePeriod(open.energy.deliveredHalfNJ, config.price, 'truncate').amount;
    const active = this.#prepaid?.active;
    return {
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
      meteredSensor: this.#p.metered,
      lastSample: this.#lastSample,
      powerUW: this.#powerUW,
      period: {
        id: periodId(config.meterId, open.startMs),
        seq: open.seq,
        startMs: open.startMs,
        endMs: open.endMs,
        energyMWs: (open.energy.deliveredHalfNJ / 2_000_000n).toString(),
        amountSoFar: soFar.toString(),
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
      outbox: this.#outbox?.view() ?? { queued: [], nextAttemptAtMs: null, consecutiveFailures: 0 },
      ticks: { ...this.#ticks },
      errors: [...this.#errors],
      relay: this.#p.relay ? { description: this.#p.relay.description, on: this.#p.relay.isOn } : null,
      channel: this.#channel ? this.#channel.view() : null,
      trades: this.#desk ? this.#desk.views(20) : null,
      purchase: active
        ? {
            id: active.purchase.id,
            energyMWs: active.purchase.energyMWs,
            deliveredMWs: (active.deliveredHalfNJ / 2_000_000n).toString(),
            startMs: active.purchase.startMs,
          }
        : null,
    };
  }

  get meteredSensor(): string {
    return this.#p.metered;
  }

  get httpUrl(): string | undefined {
    return this.#api?.url;
  }

  periods(limit: number): PeriodView[] {
    const { periods, outcomes } = this.#p.state.state;
    return periods
      .slice(-limit)
      .reverse()
      .map((p) => {
        const outcome = p.payment.state === 'due' ? outcomes.get(p.payment.key) : undefined;
        return { ...p, paymentState: paymentState(p, outcomes), ...(outcome ? { outcome } : {}) };
      });
  }

  async purchase(energyMWs: bigint, id?: string): Promise<PurchaseRecord> {
    if (!this.#prepaid)
      throw new MeterAgentError(
        'PURCHASE_REFUSED',
        'prepaid delivery is not enabled: set prepaid.enabled and prepaid.relay',
      );
    return this.#prepaid.start(energyMWs, id);
  }

  channelBlocks(periodId: string): { seq: number; blockId: string }[] {
    const period = this.#p.state.state.periods.findLast((p) => p.id === periodId);
    const ch = period?.channel;
    if (!this.#channel || ch?.fromSeq === undefined || ch.toSeq === undefined) return [];
    return this.#channel.blockIndex(ch.fromSeq, ch.toSeq);
  }

  async idle(): Promise<void> {
    for (;;) {
      const reading = this.#reading;
      const chain = this.#chain;
      await reading;
      await chain;
      if (reading === this.#reading && chain === this.#chain) return;
    }
  }

  paymentsDrained(): Promise<void> {
    return this.#outbox?.drained() ?? Promise.resolve();
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const { log, samples, state, relay, releaseLock, closeSensors } = this.#p;
    this.#running = false;
    this.#scheduler.stop();
    // Off first: what follows waits on the network and may outlast systemd's TimeoutStopSec.
    await this.#prepaid?.shutdown().catch((error) => this.#problem(`relay: ${errorMessage(error)}`));
    for (const t of this.#timers) t.cancel();
    await this.#api?.close();
    await this.idle();
    // Seals and posts what it can (bounded), then its journal closes; roots it found are journaled here.
    await this.#channel?.stop().catch((error) => this.#problem(`channel stop: ${errorMessage(error)}`));
    await this.#rootWrites;
    await this.#desk?.settled();
    // The request in flight ends within the client's timeout; a stuck fake or socket must not hold up a stop.
    const giveUpMs = Math.min(this.config.walletService?.timeoutMs ?? 5000, 5000);
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#outbox?.stop(),
      new Promise((resolve) => {
        giveUp = setTimeout(resolve, giveUpMs);
      }),
    ]);
    clearTimeout(giveUp);
    await this.#statusWrite;
    await writeStatus(this.config.dataDir, this.snapshot()).catch(() => undefined);
    await samples.close();
    await state.close();
    await closeSensors();
    await relay?.close().catch(() => undefined);
    await releaseLock();
    log.info({ meterId: this.config.meterId }, 'meter-agent stopped');
  }
}
