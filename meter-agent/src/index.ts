// The meter agent's public surface: start it in-process, read its live state, reuse its pieces.
export {
  type AgentHandle,
  clockFor,
  type StartAgentOptions,
  startAgent,
} from './agent.js';
export {
  type AgentChannel,
  type ChannelSample,
  type ChannelSummary,
  type ChannelView,
  channelSampleOf,
  channelSummaryOf,
  loadOrCreateSigningKey,
  microToMilli,
  type OpenChannel,
  openNodeChannel,
} from './channel.js';
export { FakeChannel } from './channel-fake.js';
export { acceleratedClock, type Clock, ManualClock, systemClock, type Timer } from './clock.js';
export {
  type AgentConfig,
  type AgentConfigInput,
  type ChannelConfig,
  configSchema,
  loadConfig,
  parseConfig,
  resolveToken,
} from './config.js';
export { AgentConfigError, MeterAgentError, type MeterAgentErrorCode } from './errors.js';
export type { AgentEventMap } from './events.js';
export { FakeGpioKernel, lineState, makePiGpioTree, type PiModel } from './hardware/fake-gpio-kernel.js';
export { FakeIna219Bus, FakeIna219Chip } from './hardware/fake-ina219-bus.js';
export { findHeaderChip, resolveLine, type SysfsFiles } from './hardware/gpio-sysfs.js';
export { type I2cBus, openI2cBus } from './hardware/i2c.js';
export { Ina219, type Ina219Options } from './hardware/ina219.js';
export { computeCalibration, correctedCalibration } from './hardware/ina219-settings.js';
export { FakeRelay, GpioRelay, openGpioRelayOff, type Relay } from './hardware/relay.js';
export { type PeriodView, type ReadApi, startReadApi } from './http-api.js';
export { createLogger, silentLogger } from './log.js';
export {
  type MarketSource,
  purchaseIdOf,
  TradeDesk,
  type TradeView,
  tradePayment,
} from './market/desk.js';
export { type EnergyParts, type PowerPoint, segmentHalfNJ, splitSegment } from './metering/energy.js';
export { Meter, type MeterStart, type PeriodTotals } from './metering/meter.js';
export { type PeriodCalendar, type PeriodSpec, periodCalendar, periodId } from './metering/periods.js';
export type { PeriodQuality, SampleRecord, SensorSample } from './metering/records.js';
export { AgentMetrics, agentMetricNames } from './metrics.js';
export {
  HALF_NJ_PER_MWS,
  HALF_NJ_PER_WH,
  type Price,
  type PricingPolicy,
  pricePeriod,
} from './money/pricing.js';
export { type PaymentClient, PaymentOutbox } from './payments/outbox.js';
export { paymentRequestFor } from './period-record.js';
export type { PowerReading, PowerSensor } from './power-sensor.js';
export { submitPurchase } from './prepaid.js';
export { createSensors, createSimulatedSensor } from './sensors/create.js';
export {
  constantProfile,
  parseTraceCsv,
  randomWalkProfile,
  replayProfile,
  SimulatedSensor,
  solarProfile,
} from './sensors/simulated.js';
export { type AgentSnapshot, readStatus } from './status.js';
export { readAllSamples } from './store/sample-store.js';
export {
  type AgentState,
  type ChannelRootRecord,
  type PaymentOutcome,
  type PaymentState,
  type PeriodRecord,
  paymentState,
  readState,
  type TradeClosed,
  type TradeDue,
  type TradeEntry,
  type TradeTaken,
} from './store/state.js';
