import { readFileSync } from 'node:fs';
import type { Clock } from '../clock.js';
import { MeterAgentError } from '../errors.js';
import { type PowerReading, type PowerSensor, powerUWFrom } from '../power-sensor.js';
import { seededRandom } from './prng.js';

/** What a simulated sensor would measure at a wall-clock time: bus voltage and signed current. */
export interface Operating {
  busVoltageMV: number;
  currentMA: number;
}

/** A simulation profile: operating point as a function of wall-clock time (ms since the epoch). */
export type Profile = (tMs: number) => Operating;

export function constantProfile(busVoltageMV: number, currentMA: number): Profile {
  return () => ({ busVoltageMV, currentMA });
}

export interface SolarDay {
  busVoltageMV: number;
  peakCurrentMA: number;
  /** Length of one simulated day; 86 400 s is a real day, shorter days let tests see dawn and dusk. */
  dayLengthS: number;
  /** Sunrise and sunset in hours of a 24-hour day (scaled to dayLengthS), UTC plus utcOffsetHours. */
  sunriseHour: number;
  sunsetHour: number;
  /** Hours added to UTC, or "local": the machine's own zone, so the sun follows its clock on the wall. */
  utcOffsetHours: number | 'local';
  /**
   * Current delivered at every hour on top of the panel's (a battery or a base generator): 0, the
   * default, keeps the realistic curve with nothing at night.
   */
  baseCurrentMA?: number;
}

/** The machine's offset from UTC at `tMs`, in hours (daylight saving included). */
export function machineUtcOffsetHours(tMs: number): number {
  return -new Date(tMs).getTimezoneOffset() / 60;
}

/** Time of day in hours (0–24) on a day of `dayLengthS`, shifted by the offset. */
export function hourOfDay(tMs: number, dayLengthS: number, utcOffsetHours: number): number {
  const dayMs = dayLengthS * 1000;
  const shifted = tMs + (utcOffsetHours / 24) * dayMs;
  return ((((shifted % dayMs) + dayMs) % dayMs) / dayMs) * 24;
}

/**
 * A bell curve between sunrise and sunset (σ = a sixth of daylight), exactly zero at night, plus the
 * base current at every hour.
 */
export function solarProfile(day: SolarDay, localOffsetHours = machineUtcOffsetHours): Profile {
  const noon = (day.sunriseHour + day.sunsetHour) / 2;
  const sigma = (day.sunsetHour - day.sunriseHour) / 6;
  const base = day.baseCurrentMA ?? 0;
  return (tMs) => {
    const offset = day.utcOffsetHours === 'local' ? localOffsetHours(tMs) : day.utcOffsetHours;
    const h = hourOfDay(tMs, day.dayLengthS, offset);
    if (h <= day.sunriseHour || h >= day.sunsetHour)
      return { busVoltageMV: day.busVoltageMV, currentMA: base };
    const x = (h - noon) / sigma;
    return { busVoltageMV: day.busVoltageMV, currentMA: base + day.peakCurrentMA * Math.exp(-0.5 * x * x) };
  };
}

export interface RandomWalk {
  seed: number;
  busVoltageMV: number;
  startMA: number;
  minMA: number;
  maxMA: number;
  /** Largest change between two readings. */
  stepMA: number;
}

/** A load that wanders: each reading moves by up to ±stepMA, reflected at the bounds. Same seed, same walk. */
export function randomWalkProfile(walk: RandomWalk): Profile {
  const random = seededRandom(walk.seed);
  let currentMA = walk.startMA;
  return () => {
    currentMA += (random() * 2 - 1) * walk.stepMA;
    if (currentMA > walk.maxMA) currentMA = 2 * walk.maxMA - currentMA;
    if (currentMA < walk.minMA) currentMA = 2 * walk.minMA - currentMA;
    currentMA = Math.max(walk.minMA, Math.min(walk.maxMA, currentMA));
    return { busVoltageMV: walk.busVoltageMV, currentMA };
  };
}

export interface TracePoint {
  offsetS: number;
  busVoltageMV: number;
  currentMA: number;
}

/** Parses a recorded trace: `seconds offset, busVoltageMV, currentMA` per line; a header line is allowed. */
export function parseTraceCsv(text: string, source = 'trace'): TracePoint[] {
  const points: TracePoint[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const cells = line.split(',').map((c) => c.trim());
    const numbers = cells.map(Number);
    if (cells.length !== 3 || numbers.some((n) => !Number.isFinite(n))) {
      if (points.length === 0 && i === lines.findIndex((l) => l.trim() !== '')) continue; // header
      throw new MeterAgentError(
        'TRACE_INVALID',
        `${source}: line ${i + 1}: expected "seconds,busVoltageMV,currentMA" as three numbers`,
      );
    }
    const [offsetS, busVoltageMV, currentMA] = numbers as [number, number, number];
    const last = points.at(-1);
    if (last && offsetS <= last.offsetS)
      throw new MeterAgentError('TRACE_INVALID', `${source}: line ${i + 1}: offsets must increase`);
    points.push({ offsetS, busVoltageMV, currentMA });
  }
  if (points.length < 2)
    throw new MeterAgentError('TRACE_INVALID', `${source}: needs at least two data lines`);
  return points;
}

/**
 * Replays a trace from `startMs`, interpolating linearly between points. With `loop` the trace repeats;
 * without, it holds the last point.
 */
export function replayProfile(points: readonly TracePoint[], startMs: number, loop: boolean): Profile {
  const first = points[0]!;
  const last = points.at(-1)!;
  const spanS = last.offsetS - first.offsetS;
  return (tMs) => {
    let s = (tMs - startMs) / 1000 + first.offsetS;
    if (loop && spanS > 0) s = first.offsetS + ((((s - first.offsetS) % spanS) + spanS) % spanS);
    if (s <= first.offsetS) return { busVoltageMV: first.busVoltageMV, currentMA: first.currentMA };
    if (s >= last.offsetS) return { busVoltageMV: last.busVoltageMV, currentMA: last.currentMA };
    let lo = 0;
    let hi = points.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (points[mid]!.offsetS <= s) lo = mid;
      else hi = mid;
    }
    const a = points[lo]!;
    const b = points[hi]!;
    const f = (s - a.offsetS) / (b.offsetS - a.offsetS);
    return {
      busVoltageMV: a.busVoltageMV + (b.busVoltageMV - a.busVoltageMV) * f,
      currentMA: a.currentMA + (b.currentMA - a.currentMA) * f,
    };
  };
}

export function loadTrace(file: string): TracePoint[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new MeterAgentError('TRACE_INVALID', `${file}: cannot be read: give an existing CSV trace`);
  }
  return parseTraceCsv(text, file);
}

/** A sensor that reports a profile at the clock's current time, rounded as a real chip would be. */
export class SimulatedSensor implements PowerSensor {
  readonly description: string;

  constructor(
    readonly name: string,
    private readonly profile: Profile,
    private readonly clock: Clock,
    kind = 'simulated',
  ) {
    this.description = kind;
  }

  async read(): Promise<PowerReading> {
    const op = this.profile(this.clock.nowMs());
    const busVoltageMV = Math.round(op.busVoltageMV / 4) * 4; // the INA219's 4 mV steps
    const currentUA = Math.round(op.currentMA * 1000);
    return { busVoltageMV, currentUA, powerUW: powerUWFrom(busVoltageMV, currentUA), overflow: false };
  }

  async close(): Promise<void> {}
}
