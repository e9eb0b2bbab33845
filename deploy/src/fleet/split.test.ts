import { describe, expect, it } from 'vitest';
import { type HouseholdsResult, mergeHouseholds } from './merge.js';
import { planFleet, splitPairs, stopTime } from './plan.js';

describe('splitPairs', () => {
  it('deals the pairs round robin over the processes, each pair exactly once', () => {
    const pairs = planFleet(20, 48).pairs;
    const slices = splitPairs(pairs, 3);
    expect(slices.map((s) => s.map((p) => p.index))).toEqual([
      [0, 3, 6, 9],
      [1, 4, 7],
      [2, 5, 8],
    ]);
    expect(
      slices
        .flat()
        .map((p) => p.index)
        .sort((a, b) => a - b),
    ).toEqual(pairs.map((p) => p.index));
  });

  it('starts no empty process when there are fewer pairs than processes', () => {
    expect(splitPairs(planFleet(4, 48).pairs, 8)).toHaveLength(2);
  });

  it('refuses a process count below 1 with a one-line error', () => {
    expect(() => splitPairs([], 0)).toThrow(/^processes: a whole number ≥ 1$/);
  });
});

describe('period phase of the plan', () => {
  it('spreads the pairs’ period boundaries evenly over the period', () => {
    const plan = planFleet(8, 48, { periodSeconds: 60, spread: true });
    expect(plan.pairs.map((p) => p.offsetSeconds)).toEqual([0, 15, 30, 45]);
  });

  it('closes every pair’s periods at the same second without spread', () => {
    const plan = planFleet(8, 48, { periodSeconds: 60, spread: false });
    expect(plan.pairs.map((p) => p.offsetSeconds)).toEqual([0, 0, 0, 0]);
  });

  it('stops each household a third into its own period', () => {
    expect(stopTime(0, 1, 60, 15)).toBe(75_000 + 20_000);
    expect(stopTime(0, 1, 60, 45)).toBe(45_000 + 20_000);
    expect(stopTime(30_000, 1, 60, 50)).toBe(110_000 + 20_000);
  });
});

const result = (over: Partial<HouseholdsResult>): HouseholdsResult => ({
  pid: 1,
  consumers: 2,
  producers: 2,
  periodsClosed: 4,
  due: [],
  latenciesMs: [],
  walletIncluded: 0,
  walletNotIncluded: 0,
  cpuPercent: 10,
  rssMB: 100,
  eventLoopP99Ms: 20,
  growthMB: 8,
  ...over,
});

describe('mergeHouseholds', () => {
  it('sums counts, joins due periods, takes quantiles over every payment and the worst event loop', () => {
    const merged = mergeHouseholds([
      result({
        pid: 11,
        due: [{ key: 'a/1', amount: '5' }],
        latenciesMs: [1000, 2000],
        walletIncluded: 2,
        cpuPercent: 30,
        eventLoopP99Ms: 40,
      }),
      result({
        pid: 12,
        consumers: 1,
        producers: 1,
        periodsClosed: 3,
        due: [
          { key: 'b/1', amount: '6' },
          { key: 'b/2', amount: '7' },
        ],
        latenciesMs: [3000, 4000],
        walletIncluded: 2,
        walletNotIncluded: 1,
        cpuPercent: 20,
        eventLoopP99Ms: 90,
        growthMB: 4,
      }),
    ]);
    expect(merged).toMatchObject({
      consumers: 3,
      producers: 3,
      periodsClosed: 7,
      walletIncluded: 4,
      walletNotIncluded: 1,
      postToIncludedP50Ms: 2000,
      postToIncludedP99Ms: 4000,
      cpuPercent: 50,
      rssMB: 200,
      eventLoopP99Ms: 90,
      memoryPerHouseholdMB: 2,
    });
    expect(merged.due.map((d) => d.key)).toEqual(['a/1', 'b/1', 'b/2']);
    expect(merged.processes).toEqual([
      { pid: 11, households: 4, cpuPercent: 30, rssMB: 100, eventLoopP99Ms: 40 },
      { pid: 12, households: 2, cpuPercent: 20, rssMB: 100, eventLoopP99Ms: 90 },
    ]);
  });

  it('leaves the latency quantiles out when no payment was included', () => {
    const merged = mergeHouseholds([result({})]);
    expect(merged.postToIncludedP50Ms).toBeUndefined();
    expect(merged.postToIncludedP99Ms).toBeUndefined();
  });
});
