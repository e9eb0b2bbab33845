/**
 * What the agent and the channel exchange: the narrow `AgentChannel` interface (NodeChannel in channel.ts
 * implements it; FakeChannel stands in for tests) and readings and period summaries in the channel's units.
 */
import type { MeterChannelView as ChannelView } from '@tanglewatt/contract';
import type { Clock } from './clock.js';
import type { ChannelConfig } from './config.js';
import type { Logger } from './log.js';
import type { SampleRecord } from './metering/records.js';
import type { ChannelRootRecord, PeriodRecord } from './store/state.js';

/** One reading as the channel carries it: whole ms, mV, mA and mW. */
export interface ChannelSample {
  timestampMs: number;
  busVoltageMV: number;
  currentMA: number;
  powerMW: number;
}

/** The period summary that ends a period's messages (its energy is the payment's energyMWs). */
export interface ChannelSummary {
  periodId: string;
  startMs: number;
  endMs: number;
  energyMWs: bigint;
  sampleCount: number;
}

/** The channel as the status snapshot shows it. */
export type { MeterChannelView as ChannelView } from '@tanglewatt/contract';

/** The narrow interface the agent uses; `FakeChannel` stands in for it in tests. */
export interface AgentChannel {
  readonly channelId: string;
  /** The root of a period the channel has already closed (it is durable in the channel's journal). */
  rootOf(periodId: string): ChannelRootRecord | undefined;
  /** A counted reading; ignored when already sealed (a replay after a restart) or not after the last one. */
  addSample(sample: ChannelSample): void;
  /** Ends a period. Returns at once; the root arrives through `onRoot` once the closing message is sealed. */
  closePeriod(summary: ChannelSummary): void;
  /** Seq → block id of posted messages between fromSeq and toSeq. */
  blockIndex(fromSeq: number, toSeq: number): { seq: number; blockId: string }[];
  view(): ChannelView;
  /** Seals and posts what it can within a few seconds, then closes the journal. */
  stop(): Promise<void>;
}

export interface ChannelHooks {
  /** A period's root is durable in the channel's journal. */
  onRoot(root: ChannelRootRecord): void;
  /** Something failed that the channel survives (node away, …): retried on the next batch. */
  onProblem(message: string): void;
  /** The view changed (a message posted, a root found). */
  onChange?(): void;
}

export interface OpenChannelContext {
  dataDir: string;
  clock: Clock;
  log: Logger;
  hooks: ChannelHooks;
}

export type OpenChannel = (config: ChannelConfig, context: OpenChannelContext) => Promise<AgentChannel>;

/** Rounds µ-units to milli-units, half away from zero, so a signed value rounds the same both ways. */
export function microToMilli(micro: number): number {
  const milli = Math.floor((Math.abs(micro) + 500) / 1000);
  return micro < 0 && milli !== 0 ? -milli : milli;
}

/**
 * The metered sensor's reading of a sample, in the channel's units: mV as is, µA and µW rounded to mA and
 * mW (half away from zero). Undefined when the sample carries no usable reading (a read error, an
 * overflow, the sensor absent): those are not counted, so they are not published either.
 */
export function channelSampleOf(sample: SampleRecord, sensor: string): ChannelSample | undefined {
  const reading = sample.readings.find((r) => r.sensor === sensor);
  if (!reading || 'error' in reading || reading.overflow) return undefined;
  return {
    timestampMs: sample.tMs,
    busVoltageMV: reading.busVoltageMV,
    currentMA: microToMilli(reading.currentUA),
    powerMW: microToMilli(reading.powerUW),
  };
}

/** The summary that closes a period on the channel: the same id, bounds and energy the payment names. */
export function channelSummaryOf(period: PeriodRecord): ChannelSummary {
  return {
    periodId: period.id,
    startMs: period.startMs,
    endMs: period.endMs,
    energyMWs: BigInt(period.energyMWs),
    sampleCount: period.quality.samples,
  };
}
