import type { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WalletServiceClient } from '@tanglewatt/contract';
import { type OpenChannel, openNodeChannel } from './channel.js';
import { acceleratedClock, type Clock, systemClock } from './clock.js';
import {
  type AgentConfig,
  type AgentConfigInput,
  meteredSensorName,
  parseConfig,
  resolveToken,
} from './config.js';
import { errorMessage, MeterAgentError } from './errors.js';
import type { AgentEventMap } from './events.js';
import { ChannelFeature } from './features/channel.js';
import { DeliveryFeature } from './features/delivery.js';
import { ReadApiFeature } from './features/read-api.js';
import { SettlementFeature } from './features/settlement.js';
import type { SysfsFiles } from './hardware/gpio-sysfs.js';
import type { I2cBus } from './hardware/i2c.js';
import { type Relay, switchOffUntilConfirmed } from './hardware/relay.js';
import type { PeriodView } from './http-api.js';
import { type Feature, Kernel } from './kernel.js';
import { createLogger, type Logger } from './log.js';
import type { MarketSource } from './market/desk.js';
import { type PeriodCalendar, periodCalendar, periodId } from './metering/periods.js';
import type { PaymentClient } from './payments/outbox.js';
import type { PowerSensor } from './power-sensor.js';
import { createRelay, createSensors } from './sensors/create.js';
import type { AgentSnapshot } from './status.js';
import { acquireLock } from './store/lock.js';
import { SampleStore } from './store/sample-store.js';
import { type PurchaseRecord, paymentState, StateStore } from './store/state.js';

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

export function clockFor(config: AgentConfig): Clock {
  return config.clock.speed > 1
    ? acceleratedClock(config.clock.speed, config.clock.epochMs ?? Date.now())
    : systemClock;
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
  const settlement = wallet
    ? new SettlementFeature({ wallet, channelOpen: config.channel !== undefined })
    : undefined;
  const channel = config.channel ? new ChannelFeature(settlement) : undefined;
  let kernel: Kernel;
  try {
    if (channel && config.channel)
      await channel.open(options.openChannel ?? openNodeChannel, config.channel, {
        dataDir: config.dataDir,
        clock,
        log,
      });
    kernel = new Kernel({
      config,
      clock,
      log,
      calendar,
      metered,
      sensors,
      closeSensors: sensorSet.close,
      relay,
      state,
      samples,
      releaseLock,
      channelId: channel?.channelId,
    });
  } catch (error) {
    await samples.close().catch(() => undefined);
    await state.close().catch(() => undefined);
    await sensorSet.close().catch(() => undefined);
    await relay?.close().catch(() => undefined);
    await releaseLock();
    throw error;
  }
  const delivery = relay ? new DeliveryFeature({ relay, market, settlement }) : undefined;
  return new Agent(kernel, { settlement, channel, delivery }).start();
}

/** The agent's features; each is absent when its part of the config is. */
interface Features {
  settlement: SettlementFeature | undefined;
  channel: ChannelFeature | undefined;
  delivery: DeliveryFeature | undefined;
}

/**
 * A running agent: the kernel (sampling, journals, meter, periods, status) and its features. Features
 * start after the kernel rebuilt the open period, the channel first (its roots name the periods'
 * payments), then settlement, delivery and the read API. They stop delivery first, so the relay is off
 * before anything else stops, then the read API, the channel (its last roots go to the journal) and
 * settlement (the payment in flight is answered); the kernel closes the journals last.
 */
class Agent implements AgentHandle {
  readonly config: AgentConfig;
  readonly events: EventEmitter<AgentEventMap>;
  readonly #kernel: Kernel;
  readonly #f: Features;
  readonly #readApi: ReadApiFeature;
  readonly #startOrder: Feature[];
  readonly #stopOrder: Feature[];
  #stopping: Promise<void> | undefined;

  constructor(kernel: Kernel, features: Features) {
    this.#kernel = kernel;
    this.config = kernel.config;
    this.events = kernel.events;
    this.#f = features;
    this.#readApi = new ReadApiFeature(this);
    const { settlement, channel, delivery } = features;
    const readApi = kernel.config.http ? this.#readApi : undefined;
    const present = (list: (Feature | undefined)[]) => list.filter((f): f is Feature => f !== undefined);
    this.#startOrder = present([channel, settlement, delivery, readApi]);
    this.#stopOrder = present([delivery, readApi, channel, settlement]);
  }

  async start(): Promise<this> {
    const kernel = this.#kernel;
    try {
      await kernel.recover();
      for (const feature of this.#startOrder) await feature.start(kernel);
    } catch (error) {
      for (const feature of this.#stopOrder) await feature.stop().catch(() => undefined);
      await kernel.abandon();
      throw error;
    }
    kernel.start();
    const { config, log } = kernel;
    log.info(
      {
        meterId: config.meterId,
        role: config.role,
        sensors: kernel.snapshot().sensors.map((s) => `${s.name}: ${s.description}`),
        metered: kernel.metered,
        period: kernel.calendar.description,
        intervalMs: config.sampleIntervalMs,
        dataDir: config.dataDir,
        openPeriod: periodId(config.meterId, kernel.openPeriod.startMs),
        queuedPayments: this.#f.settlement?.size ?? 0,
        features: this.#startOrder.map((f) => f.name),
        ...(this.#f.channel ? { channel: this.#f.channel.channelId } : {}),
      },
      'meter-agent started',
    );
    kernel.statusChanged();
    return this;
  }

  snapshot(): AgentSnapshot {
    return this.#kernel.snapshot();
  }

  get meteredSensor(): string {
    return this.#kernel.metered;
  }

  get httpUrl(): string | undefined {
    return this.#readApi.url;
  }

  periods(limit: number): PeriodView[] {
    const { periods, outcomes } = this.#kernel.state.state;
    return periods
      .slice(-limit)
      .reverse()
      .map((p) => {
        const outcome = p.payment.state === 'due' ? outcomes.get(p.payment.key) : undefined;
        return { ...p, paymentState: paymentState(p, outcomes), ...(outcome ? { outcome } : {}) };
      });
  }

  async purchase(energyMWs: bigint, id?: string): Promise<PurchaseRecord> {
    if (!this.#f.delivery)
      throw new MeterAgentError(
        'PURCHASE_REFUSED',
        'prepaid delivery is not enabled: set prepaid.enabled and prepaid.relay',
      );
    return this.#f.delivery.purchase(energyMWs, id);
  }

  channelBlocks(periodId: string): { seq: number; blockId: string }[] {
    return this.#f.channel?.blocks(periodId) ?? [];
  }

  idle(): Promise<void> {
    return this.#kernel.idle();
  }

  paymentsDrained(): Promise<void> {
    return this.#f.settlement?.drained() ?? Promise.resolve();
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const kernel = this.#kernel;
    kernel.halt();
    // One feature failing to stop must not keep the others running or the journals open.
    for (const feature of this.#stopOrder)
      await feature.stop().catch((error) => kernel.problem(`${feature.name} stop: ${errorMessage(error)}`));
    await kernel.idle();
    await kernel.close();
    kernel.log.info({ meterId: this.config.meterId }, 'meter-agent stopped');
  }
}
