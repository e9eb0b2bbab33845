import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { dueTick, type Tick, TickScheduler } from './scheduler.js';

describe('dueTick', () => {
  it('runs the next tick when on time, and skips (counts) ticks it is too late for', () => {
    expect(dueTick(0, 1000, 4, 5_003)).toEqual({ index: 5, missedTicks: 0 });
    expect(dueTick(0, 1000, 4, 4_999)).toEqual({ index: 5, missedTicks: 0 }); // a timer that fires early
    expect(dueTick(0, 1000, 4, 8_200)).toEqual({ index: 8, missedTicks: 3 });
  });
});

describe('TickScheduler', () => {
  it('keeps targets at start + n × interval: a late tick does not shift later ones', () => {
    const clock = new ManualClock();
    const ticks: Tick[] = [];
    const scheduler = new TickScheduler(clock, 1000, (t) => ticks.push(t));
    scheduler.start();
    clock.advance(0);
    clock.advance(3000);
    expect(ticks.map((t) => t.targetMonoMs - ticks[0]!.targetMonoMs)).toEqual([0, 1000, 2000, 3000]);
    expect(ticks.every((t) => t.lateMs === 0)).toBe(true);
    scheduler.stop();
  });

  it('skips ticks after a blocked loop instead of bursting, and records how many', () => {
    const clock = new ManualClock();
    const ticks: Tick[] = [];
    let block = false;
    const scheduler = new TickScheduler(clock, 1000, (t) => {
      ticks.push(t);
      // Simulates the event loop stuck for 3.5 s inside this tick.
      if (block) {
        block = false;
        clock.stall(3500);
      }
    });
    scheduler.start();
    clock.advance(1000);
    block = true;
    clock.advance(1000);
    clock.advance(2000);
    const indexes = ticks.map((t) => t.index);
    expect(indexes).toEqual([0, 1, 2, 5, 6, 7]);
    expect(ticks.find((t) => t.index === 5)?.missedTicks).toBe(2);
    expect(ticks.find((t) => t.index === 5)?.lateMs).toBe(500);
    scheduler.stop();
    expect(clock.pendingTimers).toBe(0);
  });
});
