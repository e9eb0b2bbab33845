/**
 * The meter agent's read API (GET /status, /periods, /trades, /channel/blocks and the /events stream):
 * the records it journals and the snapshot it keeps, as it serves them. Big numbers are decimal strings
 * (JSON has no bigint); energy in mW·s or half-nanojoules as each name says.
 */

export type Role = 'consumer' | 'producer';

/** One sensor's part of a sample: a reading, or why there is none. */
export type SensorSample =
  | { sensor: string; busVoltageMV: number; currentUA: number; powerUW: number; overflow?: true }
  | { sensor: string; error: string };

/** The /events stream's `sample` event: one tick, with the metered sensor's power when it read well. */
export interface SampleEvent {
  tMs: number;
  powerUW: number | null;
  readings: SensorSample[];
}

export interface Gap {
  fromMs: number;
  toMs: number;
}

/** How well a period was observed. */
export interface PeriodQuality {
  /** Samples taken (valid or not). */
  samples: number;
  /** Ticks skipped because the sampler ran late; never made up by a burst. */
  missedTicks: number;
  readErrors: number;
  overflows: number;
  /** Samples ignored because the wall clock went backwards. */
  clockSteps: number;
  /** Time covered by integration; the rest of the period is gap. */
  coveredMs: number;
  gapMs: number;
  gapCount: number;
  /** The first gaps (at most 20), clipped to the period. */
  gaps: Gap[];
  minPowerUW: number | null;
  meanPowerUW: number | null;
  maxPowerUW: number | null;
}

/** Integration state at a period's end: where the next period's integration continues from. */
export interface MeterResume {
  /** Last valid point before the end that a later sample may still integrate from. */
  bridge: { tMs: number; powerUW: number } | null;
  /** Set while integration is interrupted: the time the uncovered stretch began. */
  uncoveredSinceMs: number | null;
  /** Time of the last sample taken before the end (to detect a clock going backwards). */
  lastTMs: number | null;
}

/** Base units per Wh or per mW·s, as a decimal string (may have a fraction). */
export type Price = { unitsPerWh: string } | { unitsPerMWs: string };

/** `carry` keeps each period's fraction of a base unit for the next; `truncate` drops it (reference design). */
export type PricingPolicy = 'carry' | 'truncate';

/** What a closed period asks of the payment outbox. */
export type PaymentIntent =
  /** In the outbox: to be sent to the wallet-service with `key` until it answers. */
  | {
      state: 'due';
      key: string;
      to: string;
      amount: string;
      /** Under a tariff: the operator's and grid's units, paid in the same transaction. */
      shares?: { role: 'operator' | 'grid'; to: string; amount: string }[];
    }
  /** Less than one base unit owed (the fraction carries under `carry`). */
  | { state: 'nothing-due' }
  /** A producer records what it delivered; the consumer's agent pays. */
  | { state: 'not-paying' };

/** The period's messages on the meter's channel: Merkle root of their hashes, and their seq range. */
export interface PeriodChannel {
  channelId: string;
  root?: string;
  fromSeq?: number;
  toSeq?: number;
  /** Where the messages are on the Tangle (journaled with the root once they are posted). */
  refs?: ChannelBlockRefs;
}

/** What a payment names so that anyone finds the period's messages from the transaction alone. */
export interface ChannelBlockRefs {
  /** Block of the period's last message: the walk back by previous-block ids starts there. */
  lastBlockId: string;
  /** Ed25519 public key (hex) that signed the period's messages. */
  publicKey?: string;
  /** Restricted channels: epoch number → block of the announcement of each epoch the messages are in. */
  epochs?: Record<string, string>;
  /** The meter's DID and the output that created its alias, when it has one. */
  did?: string;
  didOrigin?: string;
}

/** A closed payment period, as journaled and as the `period` event carries it. */
export interface PeriodRecord {
  /** `<meterId>/<startISO>`: the period's name and its payment's idempotency key. */
  id: string;
  /** 1, 2, 3, … with no holes: each period starts where the previous one ended. */
  seq: number;
  meterId: string;
  role: Role;
  consumer: string;
  producer: string;
  startMs: number;
  endMs: number;
  closedAtMs: number;
  /** Delivered energy in whole mW·s; the part below 1 mW·s carries into the next period. */
  energyMWs: string;
  deliveredHalfNJ: string;
  returnedHalfNJ: string;
  price: Price;
  pricing: PricingPolicy;
  /** What the energy is worth, exactly, as "num/den" base units. */
  amountExact: string;
  /** Whole base units owed for this period. */
  amount: string;
  /** Carried into the next period: money fraction ("num/den" base units) and energy below 1 mW·s. */
  carry: { money: string; energyHalfNJ: string };
  quality: PeriodQuality;
  /** SHA-256 over the period's counted samples as the agent journaled them. */
  readingsHash: string;
  /**
   * Set when the readings are published on the meter's channel. The payment is requested only once `root`
   * is journaled (a `channel-root` record), and then names it as readingsHash.
   */
  channel?: PeriodChannel;
  resume: MeterResume;
  payment: PaymentIntent;
  /**
   * Energy of this period delivered under market trades (paid to the trade's seller at the trade's price,
   * so left out of `amount`), and the running total over all periods up to this one.
   */
  traded?: { halfNJ: string; totalHalfNJ: string };
  /** Set when a tariff priced the period (then `amount` is the producer's units). */
  tariff?: PeriodTariff;
  /**
   * The operator's and grid's carries ("num/den" base units) held while no tariff prices the periods: the
   * last tariff period's carry-out, picked up again as carry-in when a tariff is configured again.
   */
  feeCarry?: Record<'operator' | 'grid', string>;
  /** Under the `net` and `feed-in` modes: the period's billing cycle so far, and what it settles. */
  cycle?: PeriodCycle;
  /** The meter's cumulative OBIS registers after this period (absent in records of older agents). */
  registers?: PeriodRegisters;
}

/** A billing cycle's running totals up to a period, per tariff version and band (whole half-nJ). */
export interface PeriodCycle {
  mode: 'net' | 'feed-in';
  /** "2026-01" for a calendar month, "<start ISO>+<n>d" for a run of days. */
  id: string;
  startMs: number;
  endMs: number;
  /** Each payee's carry into the cycle ("num/den" base units). */
  carryIn: Record<TariffPayee, string>;
  energy: { version: number; band: number; importHalfNJ: string; exportHalfNJ: string }[];
  /** The settlement of the cycle this period closes: its own, or the previous one if that ended unsettled. */
  settled?: CycleSettlement;
}

/**
 * A cycle settled at its end. `net`: `settleNet` over the cycle, per (version, band) net = import − export, a
 * positive net priced, paid once. `feed-in`: what the cycle's export is owed to the member by its buyer.
 */
export interface CycleSettlement {
  id: string;
  startMs: number;
  endMs: number;
  net?: {
    lines: { version: number; band: number; bandName: string; netHalfNJ: string; surplusHalfNJ: string }[];
    exact: Record<TariffPayee, string>;
    units: Record<TariffPayee, string>;
    carryOut: Record<TariffPayee, string>;
    /** The cycle's carry-in and energy it was settled from (absent in records of older agents). */
    carryIn?: Record<TariffPayee, string>;
    energy?: PeriodCycle['energy'];
  };
  /** Export × the band's feedInUnitsPerWh, exact "num/den" base units, per (version, band) and in all. */
  feedIn?: { lines: { version: number; band: number; exportHalfNJ: string; owed: string }[]; owed: string };
}

/**
 * Cumulative registers, whole half-nJ per OBIS code (`1-0:1.8.x` import, `1-0:2.8.x` export, x the band
 * digit, 0 the total), and what they noticed in this period (a different meter id: `METER_REPLACED`).
 */
export interface PeriodRegisters {
  halfNJ: Record<string, string>;
  events?: { kind: 'METER_REPLACED'; atMs: number; fromMeterId: string; toMeterId: string }[];
}

/** A period priced slot by slot under a tariff, from its readings at the channel's resolution. */
export interface PeriodTariff {
  id: string;
  /** The version(s) in force, joined by ",". */
  version: string;
  /** The reading before the period its first stretch starts from, if within gapMs. */
  from?: { tMs: number; powerMW: number };
  gapMs: number;
  /** Energy per band digit, whole mW·s. */
  bandsMWs: Record<string, string>;
  /** Per payee, exact base units "num/den": what the period's energy comes to, carried in and out. */
  exact: Record<TariffPayee, string>;
  carryIn: Record<TariffPayee, string>;
  carryOut: Record<TariffPayee, string>;
  /** Whole base units owed now per payee (0 each when the producer's is 0: all is carried). */
  units: Record<TariffPayee, string>;
  /** Import and export per tariff version and band digit, whole half-nJ (absent in records of older agents). */
  energy?: { version: number; band: number; importHalfNJ: string; exportHalfNJ: string }[];
}

export type TariffPayee = 'producer' | 'operator' | 'grid';

/** Where a period's payment stands, in the agent's words. */
export type AgentPaymentState = 'queued' | 'accepted' | 'rejected' | 'nothing-due' | 'not-paying';

/** The wallet-service's final word on a period's payment (the `payment` event). */
export interface PaymentOutcome {
  key: string;
  atMs: number;
  result: 'accepted' | 'rejected';
  /** The payment's state at the wallet-service when it answered (queued, submitted, included…). */
  serviceState?: string;
  status?: number;
  code?: string;
  reason?: string;
}

/** GET /periods: a period with what became of its payment. */
export type PeriodView = PeriodRecord & { paymentState: AgentPaymentState; outcome?: PaymentOutcome };

/** How one market trade the household buys stands, as its meter runs it (GET /trades, the snapshot). */
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
  /** Payment increments the wallet-service has not answered yet. */
  unanswered: number;
}

/** The meter's channel of signed readings, as the agent publishes it. */
export interface MeterChannelView {
  channelId: string;
  mode: 'public' | 'restricted';
  /** Ed25519 public key (hex) the messages are signed with: `verify-period --public-key`. */
  signingPublicKey: string;
  /** Newest sealed message (journaled; maybe not posted yet). */
  lastSeq: number | null;
  /** Newest message known to be on the Tangle, and its block. */
  lastPostedSeq: number | null;
  lastBlockId: string | null;
  /** Sealed, not yet posted (the node is away). */
  unposted: number;
  /** Readings not yet sealed into a message. */
  pendingSamples: number;
  /** Periods closed by the agent whose root the channel has not produced yet. */
  awaitingRoots: string[];
  lastError: string | null;
}

/** GET /channel/blocks: the channel's newest messages, oldest first. */
export interface ChannelBlocks {
  channelId: string;
  items: { seq: number; blockId: string }[];
}

/** One sensor's read counters. */
export interface SensorReadStats {
  reads: number;
  failures: number;
  /** Reads given up after the deadline (their I/O ran on; the sensor stayed busy until it settled). */
  timeouts: number;
  /** Ticks that found the sensor still busy and started nothing. */
  skippedReads: number;
  /** Readings out of range (OVF or a register at full scale): kept out of the energy. */
  overRange: number;
}

export interface OutboxEntryView {
  key: string;
  amount: string;
  attempts: number;
  lastError?: string;
}

/** The payments the agent still has to hand to its wallet-service. */
export interface OutboxView {
  queued: OutboxEntryView[];
  /** When the next attempt is due (wall clock), if the outbox is backing off. */
  nextAttemptAtMs: number | null;
  consecutiveFailures: number;
}

/** The live state of an agent (GET /status, the `status` event, `meter-agent status`). */
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
    /**
     * What the period would cost if it closed now (whole base units, before carry). Under a tariff: the
     * producer's units as the close would pay them now (with the carry-in).
     */
    amountSoFar: string;
    /** Under a tariff: each payee's units as the close would pay them now (priced as the close prices). */
    tariffSoFar?: Record<TariffPayee, string>;
    /** Under a tariff: the version and band in force now, and the period's energy per band so far. */
    tariffNow?: TariffNow;
    quality: PeriodQuality;
  };
  lastPeriod: {
    id: string;
    seq: number;
    energyMWs: string;
    amount: string;
    payment: AgentPaymentState;
  } | null;
  outbox: OutboxView;
  ticks: { count: number; missed: number; lastLateMs: number; maxLateMs: number };
  errors: { atMs: number; message: string }[];
  relay: { description: string; on: boolean } | null;
  /** The meter's channel, when `channel` is configured (absent in snapshots of older agents). */
  channel?: MeterChannelView | null;
  purchase: { id: string; energyMWs: string; deliveredMWs: string; startMs: number } | null;
  /** Market trades this household buys, newest first, when `market` is configured. */
  trades?: MeterTradeView[] | null;
  /** The cumulative registers after the last closed period (absent in snapshots of older agents). */
  registers?: MeterRegistersView | null;
}

/** The tariff band a meter is in now (register 1-0:1.8.<band>), as its snapshot shows it. */
export interface TariffNow {
  id: string;
  version: number;
  /** The OBIS tariff digit in force now. */
  band: number;
  bandName: string;
  /** When this band (or version) ends, at most the open period's end. */
  untilMs: number;
  /** The open period's energy per band digit so far, whole mW·s (at the channel's mW resolution). */
  bandsMWs: Record<string, string>;
}

/** The meter's OBIS registers as the snapshot shows them. */
export interface MeterRegistersView {
  /** Per OBIS code: exact whole half-nJ, and Wh for people (1 Wh = 7.2 × 10¹² half-nJ). */
  values: { obis: string; halfNJ: string; wh: number }[];
  /** The period the registers stand at (its end). */
  atMs: number;
  events: NonNullable<PeriodRegisters['events']>;
  /** Under `net` or `feed-in`: the last cycle settled (under feed-in, what its export is owed). */
  lastCycle?: CycleSettlement;
}
