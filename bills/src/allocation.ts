/**
 * A cycle's allocation statement: the meters' verified readings cut into the cycle's segments (one tariff
 * version and band each, as the tariff package's `readingsBySegment` cuts them), the generation shared by
 * the members' fixed keys with the tariff package's `settleAllocation`, and per member what it was
 * allocated, covered and owes each payee (whole base units, from a zero carry). Pure: the readings come in.
 */
import { createHash } from 'node:crypto';
import type { PaymentRequest } from '@tanglewatt/contract';
import {
  type EnergyInterval,
  HALF_NJ_PER_WH,
  PAYEES,
  type Payee,
  type PowerReading,
  type Rational,
  rational,
  readingsBySegment,
  type Segment,
  settleAllocation,
} from '@tanglewatt/tariff';
import type { AllocationConfig } from './allocation-config.js';
import type { AllocationCycle } from './allocation-cycle.js';
import { ALLOCATION_PERIOD_PREFIX } from './describe.js';
import { BillError } from './errors.js';
import { exactText, parseExact, roundedText } from './exact.js';

export const ALLOCATION_STATEMENT = 'tanglewatt-allocation/v1';

/** One meter's verified readings over the cycle (and a gap's length before it). */
export interface MeterReadings {
  meterId: string;
  channelId: string;
  readings: PowerReading[];
  /** Hashes of the verified channel messages the readings came from, in seq order. */
  messageHashes: string[];
}

export interface AllocationBandLine {
  version: number;
  band: number;
  bandName: string;
  coveredWh: string;
  producer: string;
  operator: string;
  grid: string;
}

export interface AllocationMemberStatement {
  meterId: string;
  address: string;
  keyPercent: string;
  consumptionWh: string;
  allocatedWh: string;
  coveredWh: string;
  residualWh: string;
  bands: AllocationBandLine[];
  /** Exact amounts per payee; units are their floors (zero carry in). */
  exact: Record<Payee, string>;
  units: Record<Payee, string>;
  totalUnits: string;
  paymentKey: string;
}

export interface AllocationStatement {
  statement: typeof ALLOCATION_STATEMENT;
  cycle: { id: string; from: string; to: string };
  tariff: { id: string; versions: number[] };
  /** sha256 of the members' meter ids and keys: what a payment names so a verifier knows the keys. */
  keysHash: string;
  /** sha256 over every verified message (meter id and message hash, in config and seq order). */
  readingsHash: string;
  gapMs: number;
  meters: {
    meterId: string;
    role: 'generation' | 'member';
    channelId: string;
    messages: number;
    readings: number;
    energyWh: string;
  }[];
  members: AllocationMemberStatement[];
  totals: {
    generationWh: string;
    coveredWh: string;
    unallocatedWh: string;
    units: Record<Payee, string>;
    totalUnits: string;
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const whText = (halfNJ: Rational) => exactText(rational.mul(halfNJ, rational.rational(1n, HALF_NJ_PER_WH)));

/** The key every member's allocation payment of a cycle is made under: paid once however often it runs. */
export const allocationKey = (meterId: string, cycleId: string) => `${meterId}/allocation/${cycleId}`;

export function keysHashOf(members: readonly { meterId: string; keyPercent: string }[]): string {
  const keys = members.map((m) => [m.meterId, exactText(rational.parseDecimal(m.keyPercent))]);
  return sha256(JSON.stringify(keys));
}

export function readingsHashOf(meters: readonly MeterReadings[]): string {
  return sha256(meters.flatMap((m) => m.messageHashes.map((h) => `${m.meterId} ${h}\n`)).join(''));
}

/** Per segment of the cycle, one interval holding the meters' summed energy in it (none where it is 0). */
function intervalsOf(segments: Segment[], perMeter: bigint[][]): EnergyInterval[] {
  return segments.flatMap((s, k) => {
    const energyHalfNJ = perMeter.reduce((total, m) => total + m[k]!, 0n);
    return energyHalfNJ > 0n ? [{ startMs: s.startMs, endMs: s.endMs, energyHalfNJ }] : [];
  });
}

export function buildAllocationStatement(
  config: AllocationConfig,
  cycle: AllocationCycle,
  meters: readonly MeterReadings[],
): AllocationStatement {
  const span = { startMs: cycle.fromMs, endMs: cycle.toMs };
  const byId = new Map(meters.map((m) => [m.meterId, m]));
  const readingsOf = (meterId: string) => {
    const m = byId.get(meterId);
    if (!m) throw new BillError('UNREADABLE', `meter ${meterId}: no readings were read`);
    return m;
  };
  let segments: Segment[] = [];
  const energy = new Map<string, bigint[]>();
  for (const meter of [...config.generation, ...config.members]) {
    const split = readingsBySegment(
      config.history,
      { readings: readingsOf(meter.meterId).readings, gapMs: config.gapMs },
      span,
    );
    segments = split.segments;
    energy.set(meter.meterId, split.halfNJ);
  }
  const generation = intervalsOf(
    segments,
    config.generation.map((g) => energy.get(g.meterId)!),
  );
  const settled = settleAllocation(config.history, {
    ...span,
    generation,
    members: config.members.map((m) => ({
      id: m.meterId,
      keyPercent: m.keyPercent,
      consumption: intervalsOf(segments, [energy.get(m.meterId)!]),
    })),
  });
  const units = (u: Record<Payee, bigint>) =>
    Object.fromEntries(PAYEES.map((p) => [p, u[p].toString()])) as Record<Payee, string>;
  const members = settled.members.map((result, i): AllocationMemberStatement => {
    const m = config.members[i]!;
    return {
      meterId: m.meterId,
      address: m.address,
      keyPercent: m.keyPercent,
      consumptionWh: whText(rational.add(result.coveredHalfNJ, result.residualHalfNJ)),
      allocatedWh: whText(result.allocatedHalfNJ),
      coveredWh: whText(result.coveredHalfNJ),
      residualWh: whText(result.residualHalfNJ),
      bands: result.lines.map((l) => ({
        version: l.version,
        band: l.band,
        bandName: l.bandName,
        coveredWh: exactText(l.energyWh),
        producer: exactText(l.payees.producer),
        operator: exactText(l.payees.operator),
        grid: exactText(l.payees.grid),
      })),
      exact: Object.fromEntries(PAYEES.map((p) => [p, exactText(result.exact[p])])) as Record<Payee, string>,
      units: units(result.units),
      totalUnits: result.consumerUnits.toString(),
      paymentKey: allocationKey(m.meterId, cycle.id),
    };
  });
  const covered = rational.sum(settled.members.map((m) => m.coveredHalfNJ));
  // The statement adds up exactly, or it is not a statement.
  if (rational.compare(rational.add(covered, settled.unallocatedHalfNJ), settled.generationHalfNJ) !== 0)
    throw new BillError('UNREADABLE', 'allocation: covered + unallocated is not the generation');
  const total = (p: Payee) => settled.members.reduce((sum, m) => sum + m.units[p], 0n);
  const versions = [...new Set(segments.map((s) => s.version))];
  return {
    statement: ALLOCATION_STATEMENT,
    cycle: {
      id: cycle.id,
      from: new Date(cycle.fromMs).toISOString(),
      to: new Date(cycle.toMs).toISOString(),
    },
    tariff: { id: config.history[0]!.id, versions },
    keysHash: keysHashOf(config.members),
    readingsHash: readingsHashOf([...config.generation, ...config.members].map((m) => readingsOf(m.meterId))),
    gapMs: config.gapMs,
    meters: [
      ...config.generation.map((m) => ({ m, role: 'generation' as const })),
      ...config.members.map((m) => ({ m, role: 'member' as const })),
    ].map(({ m, role }) => {
      const r = readingsOf(m.meterId);
      const halfNJ = energy.get(m.meterId)!.reduce((a, b) => a + b, 0n);
      return {
        meterId: m.meterId,
        role,
        channelId: r.channelId,
        messages: r.messageHashes.length,
        readings: r.readings.length,
        energyWh: whText(rational.rational(halfNJ)),
      };
    }),
    members,
    totals: {
      generationWh: whText(settled.generationHalfNJ),
      coveredWh: whText(covered),
      unallocatedWh: whText(settled.unallocatedHalfNJ),
      units: units({ producer: total('producer'), operator: total('operator'), grid: total('grid') }),
      totalUnits: settled.members.reduce((sum, m) => sum + m.consumerUnits, 0n).toString(),
    },
  };
}

/** mW·s in a Wh text, floored (payment metadata states whole mW·s). */
function mwsOf(whTextValue: string): string {
  return rational.floor(rational.mul(parseExact(whTextValue), rational.rational(3_600_000n))).toString();
}

/**
 * The one payment request a member's wallet-service is asked for: the producer's units to the generation's
 * owner, operator and grid as shares of the same transaction, under `<meterId>/allocation/<cycle>`, with what
 * a verifier needs (cycle, keys hash, readings hash, covered energy, tariff). Undefined when nothing is due.
 */
export function allocationPayment(
  statement: AllocationStatement,
  meterId: string,
  payees: AllocationConfig['payees'],
): PaymentRequest | undefined {
  const m = statement.members.find((x) => x.meterId === meterId);
  if (!m) throw new BillError('INVALID_CONFIG', `member: no member with meterId "${meterId}" in the config`);
  if (m.units.producer === '0') return undefined;
  const shares = (['operator', 'grid'] as const).flatMap((role) =>
    m.units[role] !== '0' ? [{ role, to: payees[role]!, amount: m.units[role] }] : [],
  );
  const bands: Record<string, string> = {};
  for (const b of m.bands)
    bands[String(b.band)] = (BigInt(bands[String(b.band)] ?? '0') + BigInt(mwsOf(b.coveredWh))).toString();
  return {
    idempotencyKey: m.paymentKey,
    to: payees.producer,
    amount: m.units.producer,
    ...(shares.length ? { shares } : {}),
    metadata: {
      periodId: `${ALLOCATION_PERIOD_PREFIX}${statement.cycle.id}`,
      meterId,
      energyMWs: mwsOf(m.coveredWh),
      periodStart: statement.cycle.from,
      periodEnd: statement.cycle.to,
      readingsHash: statement.readingsHash,
      tariff: { id: statement.tariff.id, version: statement.tariff.versions.join(',') },
      bands,
      carry: { producer: '0/1', operator: '0/1', grid: '0/1' },
      gapMs: statement.gapMs,
      note: allocationNote(statement, m),
    },
  };
}

export function allocationNote(statement: AllocationStatement, m: AllocationMemberStatement): string {
  const covered = m.coveredWh.includes('/') ? roundedText(parseExact(m.coveredWh)) : m.coveredWh;
  return `allocation ${statement.cycle.id}: key ${m.keyPercent} % (keys sha256 ${statement.keysHash}), covered ${covered} Wh`.slice(
    0,
    256,
  );
}
