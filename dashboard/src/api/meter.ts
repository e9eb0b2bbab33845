import { getJson, type RequestOptions } from './http';

/**
 * The meter agent's read-only API. The fields mirror meter-agent/src/status.ts (AgentSnapshot) and
 * meter-agent/src/store/state.ts (PeriodRecord); declared here, not imported, because those modules
 * import node code and are still changing. Only what the dashboard shows; everything optional that a
 * newer or older agent might leave out.
 */

export type SensorSample =
  | { sensor: string; busVoltageMV: number; currentUA: number; powerUW: number; overflow?: true }
  | { sensor: string; error: string };

export interface PeriodQuality {
  samples: number;
  missedTicks?: number;
  readErrors: number;
  overflows: number;
  clockSteps?: number;
  coveredMs?: number;
  gapMs?: number;
  gapCount?: number;
  gaps?: { fromMs: number; toMs: number }[];
  minPowerUW: number | null;
  meanPowerUW: number | null;
  maxPowerUW: number | null;
}

export type Price = { unitsPerWh: string } | { unitsPerMWs: string };

export type PaymentIntent =
  | { state: 'due'; key: string; to: string; amount: string }
  | { state: 'nothing-due' }
  | { state: 'not-paying' };

/** The agent's view of a period's payment (meter-agent/src/store/state.ts PaymentState). */
export type AgentPaymentState = 'queued' | 'accepted' | 'rejected' | 'nothing-due' | 'not-paying';

export interface PeriodRecord {
  id: string;
  seq: number;
  meterId: string;
  role: 'consumer' | 'producer';
  startMs: number;
  endMs: number;
  closedAtMs?: number;
  energyMWs: string;
  price: Price;
  amount: string;
  quality: PeriodQuality;
  readingsHash?: string;
  payment: PaymentIntent;
  /** Added by GET /periods (meter-agent/src/http-api.ts PeriodView); a live `period` event lacks it. */
  paymentState?: AgentPaymentState;
  outcome?: PaymentOutcome;
}

/** The wallet-service's answer for a period's payment (the `payment` event). */
export interface PaymentOutcome {
  key: string;
  atMs: number;
  result: 'accepted' | 'rejected';
  serviceState?: string;
  status?: number;
  code?: string;
  reason?: string;
}

/** Applies a payment outcome to the period it answers (matched by the payment's key). */
export function applyOutcome(periods: PeriodRecord[], outcome: PaymentOutcome): PeriodRecord[] {
  return periods.map((p) =>
    p.payment.state === 'due' && p.payment.key === outcome.key
      ? { ...p, outcome, paymentState: outcome.result }
      : p,
  );
}

export interface AgentSnapshot {
  meterId: string;
  role: 'consumer' | 'producer';
  consumer: string;
  producer: string;
  running: boolean;
  startedAtMs: number;
  nowMs: number;
  sensors?: { name: string; description: string }[];
  meteredSensor?: string;
  lastSample: { tMs: number; readings: SensorSample[] } | null;
  powerUW: number | null;
  period: {
    id: string;
    seq: number;
    startMs: number;
    endMs: number;
    energyMWs: string;
    amountSoFar: string;
    quality: PeriodQuality;
  };
  lastPeriod: {
    id: string;
    seq: number;
    energyMWs: string;
    amount: string;
    payment: AgentPaymentState;
  } | null;
  outbox?: { queued: { key: string; amount: string; attempts: number; lastError?: string }[] };
  errors?: { atMs: number; message: string }[];
  relay: { description: string; on: boolean } | null;
  purchase: { id: string; energyMWs: string; deliveredMWs: string; startMs: number } | null;
  /** The meter's channel (meter-agent/src/channel.ts ChannelView); absent or null without one. */
  channel?: AgentChannelView | null;
  /** Market trades the meter runs as buyer (meter-agent/src/market/desk.ts TradeView); absent without. */
  trades?: MeterTradeView[] | null;
}

/** How a market trade's delivery and payment stand, as the buyer's meter runs it. */
export interface MeterTradeView {
  id: string;
  seller: string;
  payTo: string;
  energyWh: number;
  priceUnitsPerWh: string;
  window: { startMs: number; endMs: number };
  state: 'waiting' | 'delivering' | 'delivered' | 'shortfall';
  creditedMWs: string;
  shortfallMWs: string;
  owedUnits: string;
  paidUnits: string;
  unanswered: number;
}

export interface AgentChannelView {
  channelId: string;
  mode: 'public' | 'restricted';
  signingPublicKey: string;
  lastSeq: number | null;
  lastPostedSeq: number | null;
  lastBlockId: string | null;
  unposted?: number;
  pendingSamples?: number;
  lastError?: string | null;
}

/** GET /channel/blocks: the channel's newest messages, oldest first. */
export interface ChannelBlocks {
  channelId: string;
  items: { seq: number; blockId: string }[];
}

export interface SampleEvent {
  tMs: number;
  powerUW: number | null;
  readings: SensorSample[];
}

/** What a period's payment is, in the agent's words. */
export function periodPaymentState(period: PeriodRecord): AgentPaymentState | 'due' {
  if (period.paymentState) return period.paymentState;
  if (period.outcome) return period.outcome.result;
  return period.payment.state === 'due' ? 'queued' : period.payment.state;
}

export function createMeterClient(url: string) {
  const get = <T>(path: string, options?: RequestOptions) => getJson<T>(url, path, options);
  return {
    url,
    eventsUrl: `${url.replace(/\/+$/, '')}/events`,
    status: (o?: RequestOptions) => get<AgentSnapshot>('/status', o),
    periods: (limit: number, o?: RequestOptions) =>
      get<{ items: PeriodRecord[] }>(`/periods?limit=${limit}`, o),
    trades: (o?: RequestOptions) => get<{ items: MeterTradeView[] }>('/trades', o),
    channelBlocks: (limit: number, o?: RequestOptions) =>
      get<ChannelBlocks>(`/channel/blocks?limit=${limit}`, o),
  };
}

export type MeterClient = ReturnType<typeof createMeterClient>;
