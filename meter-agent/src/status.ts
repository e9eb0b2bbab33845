import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChannelView } from './channel.js';
import type { TradeView } from './market/desk.js';
import type { PeriodQuality, SensorSample } from './metering/records.js';
import type { OutboxView } from './payments/outbox.js';
import type { SensorReadStats } from './sampling/sensor-reader.js';
import type { PaymentState, Role } from './store/state.js';

/** The live state of an agent: what a dashboard shows and what `meter-agent status` prints. */
export interface AgentSnapshot {
  meterId: string;
  role: Role;
  consumer: string;
  producer: string;
  pid: number;
  running: boolean;
  startedAtMs: number;
  nowMs: number;
  /** Each sensor with its read counters (absent in snapshots of older agents). */
  sensors: ({ name: string; description: string } & Partial<SensorReadStats>)[];
  meteredSensor: string;
  lastSample: { tMs: number; readings: SensorSample[] } | null;
  /** Signed power of the metered sensor at the last valid sample. */
  powerUW: number | null;
  period: {
    id: string;
    seq: number;
    startMs: number;
    endMs: number;
    energyMWs: string;
    /** What the period would cost if it closed now (whole base units, before carry). */
    amountSoFar: string;
    quality: PeriodQuality;
  };
  lastPeriod: { id: string; seq: number; energyMWs: string; amount: string; payment: PaymentState } | null;
  outbox: OutboxView;
  ticks: { count: number; missed: number; lastLateMs: number; maxLateMs: number };
  errors: { atMs: number; message: string }[];
  relay: { description: string; on: boolean } | null;
  /** The meter's channel, when `channel` is configured (absent in snapshots of older agents). */
  channel?: ChannelView | null;
  purchase: { id: string; energyMWs: string; deliveredMWs: string; startMs: number } | null;
  /** Market trades this household buys, newest first, when `market` is configured. */
  trades?: TradeView[] | null;
}

export const STATUS_FILE = 'status.json';

/** Replaces status.json atomically. Not synced: it is a view, rebuilt every few seconds. */
export async function writeStatus(dataDir: string, snapshot: AgentSnapshot): Promise<void> {
  const file = join(dataDir, STATUS_FILE);
  const temp = `${file}.tmp`;
  await writeFile(temp, `${JSON.stringify(snapshot, null, 2)}\n`);
  await rename(temp, file);
}

export async function readStatus(dataDir: string): Promise<AgentSnapshot | undefined> {
  try {
    return JSON.parse(await readFile(join(dataDir, STATUS_FILE), 'utf8')) as AgentSnapshot;
  } catch {
    return undefined;
  }
}
