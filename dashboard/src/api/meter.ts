import type {
  AgentPaymentState,
  AgentSnapshot,
  ChannelBlocks,
  PeriodRecord as JournaledPeriod,
  MeterTradeView,
  PaymentOutcome,
} from '@tanglewatt/contract/wire';
import { getJson, type RequestOptions } from './http';

/**
 * The meter agent's read-only API. The shapes are the wire contract's (@tanglewatt/contract), imported as
 * types only: nothing of the contract reaches the bundle.
 */

export type {
  AgentPaymentState,
  AgentSnapshot,
  ChannelBlocks,
  MeterChannelView as AgentChannelView,
  MeterRegistersView,
  MeterTradeView,
  PaymentIntent,
  PaymentOutcome,
  PeriodQuality,
  Price,
  SampleEvent,
  SensorSample,
  TariffNow,
} from '@tanglewatt/contract/wire';

/**
 * A period as the page holds it: GET /periods adds what became of its payment (the contract's PeriodView);
 * a live `period` event comes without, until the `payment` event answers it.
 */
export type PeriodRecord = JournaledPeriod & { paymentState?: AgentPaymentState; outcome?: PaymentOutcome };

/** Applies a payment outcome to the period it answers (matched by the payment's key). */
export function applyOutcome(periods: PeriodRecord[], outcome: PaymentOutcome): PeriodRecord[] {
  return periods.map((p) =>
    p.payment.state === 'due' && p.payment.key === outcome.key
      ? { ...p, outcome, paymentState: outcome.result }
      : p,
  );
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
