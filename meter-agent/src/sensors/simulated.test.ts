import { describe, expect, it } from 'vitest';
import { acceleratedClock, ManualClock } from '../clock.js';
import {
  constantProfile,
  hourOfDay,
  parseTraceCsv,
  randomWalkProfile,
  replayProfile,
  SimulatedSensor,
  solarProfile,
} from './simulated.js';

const DAY = Date.UTC(2024, 5, 1);
/** An 18 V panel peaking at 2 A, sun from 06:00 to 18:00 of a 24 h day. */
const PANEL = {
  busVoltageMV: 18_000,
  peakCurrentMA: 2000,
  dayLengthS: 86_400,
  sunriseHour: 6,
  sunsetHour: 18,
};

describe('simulated sensors', () => {
  it('reads a constant profile in the chip units: 4 mV steps, µA, signed µW', async () => {
    const sensor = new SimulatedSensor('load', constantProfile(12_001, -250), new ManualClock());
    expect(await sensor.read()).toEqual({
      busVoltageMV: 12_000,
      currentUA: -250_000,
      powerUW: -3_000_000,
      overflow: false,
    });
  });

  it('gives a solar bell that peaks at midday and is exactly zero at night', () => {
    const solar = solarProfile({ ...PANEL, utcOffsetHours: 0 });
    expect(solar(DAY + 3 * 3_600_000).currentMA).toBe(0);
    expect(solar(DAY + 23 * 3_600_000).currentMA).toBe(0);
    expect(solar(DAY + 12 * 3_600_000).currentMA).toBeCloseTo(2000, 6);
    expect(solar(DAY + 9 * 3_600_000).currentMA).toBeCloseTo(2000 * Math.exp(-0.5 * 1.5 ** 2), 6);
  });

  it('delivers the base current at night and on top of the bell by day', () => {
    const solar = solarProfile({ ...PANEL, utcOffsetHours: 0, baseCurrentMA: 600 });
    expect(solar(DAY + 2 * 3_600_000).currentMA).toBe(600);
    expect(solar(DAY + 23 * 3_600_000).currentMA).toBe(600);
    expect(solar(DAY + 12 * 3_600_000).currentMA).toBeCloseTo(2600, 6);
  });

  it("follows the machine's local hour: 02:00 UTC is 11:00 in a UTC+9 zone, so the panel delivers", () => {
    const tokyo = solarProfile({ ...PANEL, utcOffsetHours: 'local' }, () => 9);
    const utc = solarProfile({ ...PANEL, utcOffsetHours: 0 });
    const night = DAY + 2 * 3_600_000;
    expect(utc(night).currentMA).toBe(0);
    expect(tokyo(night).currentMA).toBeCloseTo(2000 * Math.exp(-0.5 * 0.5 ** 2), 6);
    // 20:00 UTC is 05:00 there: before its sunrise.
    expect(tokyo(DAY + 20 * 3_600_000).currentMA).toBe(0);
  });

  it('compresses a day for tests: a 60 s day has its noon at 30 s', () => {
    expect(hourOfDay(DAY + 30_000, 60, 0)).toBeCloseTo(12, 9);
    const solar = solarProfile({
      ...PANEL,
      busVoltageMV: 5000,
      peakCurrentMA: 100,
      dayLengthS: 60,
      utcOffsetHours: 0,
    });
    expect(solar(DAY + 30_000).currentMA).toBeCloseTo(100, 6);
    expect(solar(DAY + 5_000).currentMA).toBe(0);
  });

  it('runs an accelerated clock ten times faster than real time', async () => {
    const clock = acceleratedClock(10, Date.now());
    const before = clock.nowMs();
    await new Promise((r) => setTimeout(r, 50));
    expect(clock.nowMs() - before).toBeGreaterThanOrEqual(450);
  });

  it('walks randomly but repeatably, within its bounds', () => {
    const walk = { seed: 42, busVoltageMV: 12_000, startMA: 500, minMA: 100, maxMA: 900, stepMA: 80 };
    const a = randomWalkProfile(walk);
    const b = randomWalkProfile(walk);
    const seqA = Array.from({ length: 500 }, () => a(0).currentMA);
    const seqB = Array.from({ length: 500 }, () => b(0).currentMA);
    expect(seqA).toEqual(seqB);
    expect(Math.min(...seqA)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...seqA)).toBeLessThanOrEqual(900);
    expect(new Set(seqA).size).toBeGreaterThan(400);
    expect(randomWalkProfile({ ...walk, seed: 43 })(0).currentMA).not.toBe(seqA[0]);
  });

  it('parses a CSV trace with a header and replays it interpolated, looping', () => {
    const points = parseTraceCsv('seconds,busVoltageMV,currentMA\n0,12000,100\n10,12000,300\n20,11000,100\n');
    const replay = replayProfile(points, DAY, true);
    expect(replay(DAY + 5_000)).toEqual({ busVoltageMV: 12_000, currentMA: 200 });
    expect(replay(DAY + 15_000)).toEqual({ busVoltageMV: 11_500, currentMA: 200 });
    expect(replay(DAY + 25_000)).toEqual(replay(DAY + 5_000));
    const once = replayProfile(points, DAY, false);
    expect(once(DAY + 99_000)).toEqual({ busVoltageMV: 11_000, currentMA: 100 });
  });

  it('refuses a trace it cannot replay, naming the line', () => {
    expect(() => parseTraceCsv('0,1,2\n1,x,3\n', 'day.csv')).toThrow(
      /day\.csv: line 2: expected "seconds,busVoltageMV,currentMA"/,
    );
    expect(() => parseTraceCsv('0,1,2\n0,1,2\n', 'day.csv')).toThrow(/line 2: offsets must increase/);
    expect(() => parseTraceCsv('0,1,2\n', 'day.csv')).toThrow(/at least two/);
  });
});
