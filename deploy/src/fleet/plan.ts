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
}

/** Accounts of the development mnemonic the simulator derives for households beyond the genesis ones. */
export const FUNDED_ACCOUNT_BASE = 1000;
export const PRODUCER_ACCOUNT_BASE = 5000;
/** What the funder sends each consumer beyond the genesis accounts: enough deposits for hours of periods. */
export const FUNDING_UNITS = 5_000_000n;

export type ConsumerFunds = { kind: 'genesis'; slot: number } | { kind: 'funded'; accountIndex: number };

export interface PairPlan {
  index: number;
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
export function planFleet(meters: number, genesisSlots: number): FleetPlan {
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
export function stopTime(startMs: number, minutes: number, periodSeconds: number): number {
  const periodMs = periodSeconds * 1000;
  const earliest = startMs + minutes * 60_000;
  const boundary = Math.floor(earliest / periodMs) * periodMs;
  const candidate = boundary + Math.round(periodMs / 3);
  return candidate >= earliest ? candidate : candidate + periodMs;
}
