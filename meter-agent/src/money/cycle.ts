/**
 * Billing cycles of the `net` and `feed-in` modes. Each period record under these modes carries its cycle's
 * running import and export per (tariff version, band) and the carry into the cycle, so the cycle is
 * settled from the journaled records alone (and survives the journal's compaction). The record that closes
 * a cycle carries the settlement: under `net` it is paid once, with the key `<meterId>/net/<cycle>`.
 */
import type {
  CycleSettlement,
  PaymentMetadata,
  PeriodCycle,
  PeriodRecord,
  TariffPayee,
} from '@tanglewatt/contract';
import {
  cycleBandsMWs,
  instantAtLocal,
  localTime,
  PAYEES,
  settleNetTotals,
  type TariffHistory,
  tariffAt,
} from '@tanglewatt/tariff';
import type { AgentConfig } from '../config.js';
import type { TariffConfig } from '../config-tariff.js';
import { tariffHistoryOf } from '../config-tariff.js';
import { add, formatRational, mul, parseRational, rational, ZERO } from './rational.js';

const DAY_MS = 86_400_000;
const HALF_NJ_PER_WH = 7_200_000_000_000n;

export interface CycleSpan {
  id: string;
  startMs: number;
  endMs: number;
}

/**
 * The cycle `tMs` falls in: a calendar month in the zone of the tariff version in force (id "2026-01"), or
 * `days` days counted from the first version's validFrom (id "<start ISO>+<days>d").
 */
export function cycleAt(tariff: TariffConfig, tMs: number): CycleSpan {
  const history = tariffHistoryOf(tariff);
  const cycle = tariff.cycle ?? 'monthly';
  if (cycle === 'monthly') {
    const zone = (tariffAt(history, tMs) ?? history[0]!).timeZone;
    const local = new Date(localTime(zone, tMs).localMs);
    const [y, m] = [local.getUTCFullYear(), local.getUTCMonth()];
    return {
      id: `${y}-${String(m + 1).padStart(2, '0')}`,
      startMs: instantAtLocal(zone, Date.UTC(y, m, 1)),
      endMs: instantAtLocal(zone, Date.UTC(y, m + 1, 1)),
    };
  }
  const lengthMs = cycle.days * DAY_MS;
  const anchor = history[0]!.validFromMs;
  const startMs = anchor + Math.floor((tMs - anchor) / lengthMs) * lengthMs;
  return { id: `${new Date(startMs).toISOString()}+${cycle.days}d`, startMs, endMs: startMs + lengthMs };
}

type Energy = PeriodCycle['energy'];

function addEnergy(a: Energy, b: Energy): Energy {
  const byKey = new Map(a.map((e) => [`${e.version}/${e.band}`, { ...e }]));
  for (const e of b) {
    const key = `${e.version}/${e.band}`;
    const sum = byKey.get(key);
    if (!sum) byKey.set(key, { ...e });
    else {
      sum.importHalfNJ = (BigInt(sum.importHalfNJ) + BigInt(e.importHalfNJ)).toString();
      sum.exportHalfNJ = (BigInt(sum.exportHalfNJ) + BigInt(e.exportHalfNJ)).toString();
    }
  }
  return [...byKey.values()].sort((x, y) => x.version - y.version || x.band - y.band);
}

/** `settleNet` over a cycle's totals (tariff's settleNetTotals, which verifiers recompute with too). */
function settleNetCycle(history: TariffHistory, cycle: PeriodCycle): NonNullable<CycleSettlement['net']> {
  const carryIn = Object.fromEntries(PAYEES.map((p) => [p, parseRational(cycle.carryIn[p])]));
  const energy = cycle.energy.map((e) => ({
    version: e.version,
    band: e.band,
    importHalfNJ: BigInt(e.importHalfNJ),
    exportHalfNJ: BigInt(e.exportHalfNJ),
  }));
  const net = settleNetTotals(history, cycle, energy, carryIn);
  const each = <T>(f: (p: TariffPayee) => T) =>
    Object.fromEntries(PAYEES.map((p) => [p, f(p)])) as Record<TariffPayee, T>;
  // As per period: when the producer's units are 0 nothing is paid and every payee carries all it is owed.
  const nothing = net.units.producer === 0n;
  return {
    lines: net.lines.map((l) => ({
      version: l.version,
      band: l.band,
      bandName: l.bandName,
      netHalfNJ: formatRational(l.netHalfNJ),
      surplusHalfNJ: formatRational(l.surplusHalfNJ),
    })),
    exact: each((p) => formatRational(net.exact[p])),
    units: each((p) => (nothing ? '0' : net.units[p].toString())),
    carryOut: each((p) => formatRational(nothing ? add(net.exact[p], carryIn[p]!) : net.carryOut[p])),
    // What the payment states so that a verifier recomputes the cycle from its readings.
    carryIn: cycle.carryIn,
    energy: cycle.energy,
  };
}

/** What the cycle's export is owed at each band's feed-in price (exact; paid by the member's buyer). */
function feedInOwed(history: TariffHistory, cycle: PeriodCycle): NonNullable<CycleSettlement['feedIn']> {
  let owed = ZERO;
  const lines = cycle.energy.map((e) => {
    const band = history.find((t) => t.version === e.version)!.bands.find((b) => b.digit === e.band)!;
    const amount = mul(
      mul(rational(BigInt(e.exportHalfNJ)), rational(1n, HALF_NJ_PER_WH)),
      band.feedInUnitsPerWh ?? ZERO,
    );
    owed = add(owed, amount);
    return { version: e.version, band: e.band, exportHalfNJ: e.exportHalfNJ, owed: formatRational(amount) };
  });
  return { lines, owed: formatRational(owed) };
}

/** The settlement of a cycle that has ended, by the record's mode. */
export function settleCycle(history: TariffHistory, cycle: PeriodCycle): CycleSettlement {
  const span = { id: cycle.id, startMs: cycle.startMs, endMs: cycle.endMs };
  return cycle.mode === 'net'
    ? { ...span, net: settleNetCycle(history, cycle) }
    : { ...span, feedIn: feedInOwed(history, cycle) };
}

const ZERO_CARRY = { producer: '0/1', operator: '0/1', grid: '0/1' };

/** Whether a record's own cycle is settled (on that record). */
const ownSettled = (c: PeriodCycle) => c.settled?.id === c.id;

/** The carry into the cycle after `previous`: its own settlement's carry-out, or the carry it went in with. */
function carryAfter(previous: PeriodRecord | undefined): PeriodCycle['carryIn'] {
  const c = previous?.cycle;
  if (!c) return ZERO_CARRY;
  return ownSettled(c) && c.settled!.net ? c.settled!.net.carryOut : c.carryIn;
}

/**
 * The record with its cycle: its energy added to the cycle's running totals. The record settles a cycle when
 * it ends its own cycle, or when the previous record's cycle ended unsettled (no period closed at its end):
 * that one is settled here and this record's own cycle starts from its carry-out.
 */
export function withCycle(record: PeriodRecord, previous: PeriodRecord | undefined, tariff: TariffConfig) {
  const history = tariffHistoryOf(tariff);
  const span = cycleAt(tariff, record.startMs);
  const energy = record.tariff?.energy ?? [];
  const mode = tariff.mode === 'feed-in' ? 'feed-in' : 'net';
  const before = previous?.cycle;
  if (before && !ownSettled(before) && before.id !== span.id) {
    const settled = settleCycle(history, before);
    const carryIn = settled.net?.carryOut ?? before.carryIn;
    const cycle = { mode, ...span, carryIn, energy, settled } satisfies PeriodCycle;
    return { ...record, cycle };
  }
  const running = before && !ownSettled(before) ? addEnergy(before.energy, energy) : energy;
  const cycle: PeriodCycle = { mode, ...span, carryIn: carryAfter(previous), energy: running };
  if (record.endMs >= span.endMs) cycle.settled = settleCycle(history, cycle);
  return { ...record, cycle };
}

/**
 * Under `net` a period pays nothing of its own (its tariff record says what metered would have paid); the
 * period that settles a cycle pays the cycle's units once, keyed by meter id and cycle id, so a restart or a
 * second attempt never pays twice. Under `feed-in` the period pays as metered.
 */
export function cyclePayment(record: PeriodRecord, config: AgentConfig): PeriodRecord {
  const cycle = record.cycle;
  if (cycle?.mode !== 'net' || record.payment.state === 'not-paying') return record;
  const net = cycle.settled?.net;
  if (!net || net.units.producer === '0')
    return { ...record, amount: '0', payment: { state: 'nothing-due' } };
  const shares = (['operator', 'grid'] as const).flatMap((role) => {
    const to = config.tariff?.[role];
    return to && net.units[role] !== '0' ? [{ role, to, amount: net.units[role] }] : [];
  });
  return {
    ...record,
    amount: net.units.producer,
    payment: {
      state: 'due',
      key: `${record.meterId}/net/${cycle.settled!.id}`,
      to: config.parties.producer,
      amount: net.units.producer,
      ...(shares.length ? { shares } : {}),
    },
  };
}

/**
 * What a cycle paid under `net` states for a verifier: the cycle, its import and export per band digit
 * (whole mW·s) and the carry into it. Absent for a settlement of an older agent's records (no energy kept).
 */
export function cycleMetadata(record: PeriodRecord): { cycle?: NonNullable<PaymentMetadata['cycle']> } {
  const settled = record.cycle?.settled;
  const net = settled?.net;
  if (!settled || !net?.energy || !net.carryIn || !record.tariff) return {};
  const energy = net.energy.map((e) => ({
    version: e.version,
    band: e.band,
    importHalfNJ: BigInt(e.importHalfNJ),
    exportHalfNJ: BigInt(e.exportHalfNJ),
  }));
  return {
    cycle: {
      id: settled.id,
      start: new Date(settled.startMs).toISOString(),
      end: new Date(settled.endMs).toISOString(),
      bands: cycleBandsMWs(energy),
      carry: net.carryIn,
      gapMs: record.tariff.gapMs,
    },
  };
}

/** The payment's note for a cycle paid under `net`: the cycle and each band's net energy in mW·s. */
export function netNote(record: PeriodRecord): string | undefined {
  const settled = record.cycle?.settled;
  if (!settled?.net) return undefined;
  const bands = settled.net.lines
    .map((l) => {
      const n = parseRational(l.netHalfNJ);
      return `${l.band}:${n.num >= 0n ? '+' : ''}${n.num / n.den / 2_000_000n}`;
    })
    .join(' ');
  return `net cycle ${settled.id} (${new Date(settled.startMs).toISOString()} to ${new Date(settled.endMs).toISOString()}), net mW·s by band ${bands}`.slice(
    0,
    256,
  );
}
