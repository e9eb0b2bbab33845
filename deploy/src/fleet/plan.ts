/**
 * The fleet simulator's plan: N meters as pairs of households (a producer and the consumer that pays it),
 * and where each consumer's money comes from — a genesis-funded development account while there are
 * enough, else an account of the development mnemonic funded at the start by one funder wallet-service.
 */

export interface FleetOptions {
  /** Meters, two per pair (a producer's and a consumer's). */
  meters: number;
  nodes: number;
  periodSeconds: number;
  minutes: number;
  /** Consumers publish their readings on a meter channel (one tagged block per period). */
  channel: boolean;
  milestoneInterval: string;
  sampleSeconds: number;
  /** Child processes the households are split over (one event loop each). */
  processes: number;
  /** Households' period boundaries spread evenly over the period, rather than all at the same second. */
  spread: boolean;
  /** Each child process writes a V8 CPU profile (`node --cpu-prof`) into this directory. */
  cpuProfileDir?: string;
}

/** Accounts of the development mnemonic the simulator derives for households beyond the genesis ones. */
export const FUNDED_ACCOUNT_BASE = 1000;
export const PRODUCER_ACCOUNT_BASE = 5000;
/** What the funder sends each consumer beyond the genesis accounts: enough deposits for hours of periods. */
export const FUNDING_UNITS = 5_000_000n;

export type ConsumerFunds = { kind: 'genesis'; slot: number } | { kind: 'funded'; accountIndex: number };

export interface PairPlan {
  index: number;
  /** Seconds past the epoch's multiples of the period at which this pair's periods close. */
  offsetSeconds: number;
  producer: { name: string; accountIndex: number };
  consumer: { name: string; funds: ConsumerFunds };
}

export interface FleetPlan {
  pairs: PairPlan[];
  /** The genesis slot of the funder wallet-service, when some consumers need funding. */
  funderSlot?: number;
}

const label = (role: 'P' | 'C', i: number) => `${role}${String(i + 1).padStart(4, '0')}`;

/** Pairs for `meters` meters over `genesisSlots` funded accounts (one of them the funder when short). */
export function planFleet(
  meters: number,
  genesisSlots: number,
  phase: { periodSeconds: number; spread: boolean } = { periodSeconds: 60, spread: false },
): FleetPlan {
  if (!Number.isSafeInteger(meters) || meters < 2 || meters % 2 !== 0)
    throw new Error('meters: an even whole number ≥ 2 (a producer and a consumer per pair)');
  if (genesisSlots < 2) throw new Error('the profile must fund at least 2 genesis accounts');
  const consumers = meters / 2;
  const short = consumers > genesisSlots;
  // Short of genesis accounts: the last one funds every consumer past the others.
  const direct = short ? genesisSlots - 1 : consumers;
  const pairs = Array.from(
    { length: consumers },
    (_, i): PairPlan => ({
      index: i,
      offsetSeconds: phase.spread ? Math.floor((i * phase.periodSeconds) / consumers) : 0,
      producer: { name: label('P', i), accountIndex: PRODUCER_ACCOUNT_BASE + i },
      consumer: {
        name: label('C', i),
        funds:
          i < direct
            ? { kind: 'genesis', slot: i }
            : { kind: 'funded', accountIndex: FUNDED_ACCOUNT_BASE + i },
      },
    }),
  );
  return { pairs, ...(short ? { funderSlot: genesisSlots - 1 } : {}) };
}

/**
 * When the metering stops: the first moment at least `minutes` after `startMs` that lies a third into a
 * period, so every period that closed before it has been handed to its wallet-service and none is half-sent.
 */
export function stopTime(startMs: number, minutes: number, periodSeconds: number, offsetSeconds = 0): number {
  const periodMs = periodSeconds * 1000;
  const offsetMs = offsetSeconds * 1000;
  const earliest = startMs + minutes * 60_000;
  const boundary = Math.floor((earliest - offsetMs) / periodMs) * periodMs + offsetMs;
  const candidate = boundary + Math.round(periodMs / 3);
  return candidate >= earliest ? candidate : candidate + periodMs;
}

/** The pairs split over `processes` child processes, round robin (so each gets pairs on every node). */
export function splitPairs<T>(pairs: readonly T[], processes: number): T[][] {
  if (!Number.isSafeInteger(processes) || processes < 1) throw new Error('processes: a whole number ≥ 1');
  const slices: T[][] = Array.from({ length: Math.min(processes, Math.max(1, pairs.length)) }, () => []);
  for (const [i, p] of pairs.entries()) slices[i % slices.length]!.push(p);
  return slices;
}
