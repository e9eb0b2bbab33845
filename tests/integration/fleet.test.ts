import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FleetReport, fleetHolds, fleetTable, runFleet } from '@tanglewatt/deploy';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('the fleet simulator on a tangle of its own', () => {
  let dir: string;
  let report: FleetReport;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tanglewatt-fleet-'));
    // Two consumers paying two producers every 5 s for a minute, on one node with its indexer; one
    // household pair per child process, their period boundaries 2 s apart.
    report = await runFleet(
      {
        meters: 4,
        nodes: 1,
        periodSeconds: 5,
        minutes: 1,
        channel: true,
        milestoneInterval: '1s',
        sampleSeconds: 1,
        processes: 2,
        spread: true,
      },
      dir,
      pino({ level: process.env.LOG_LEVEL ?? 'warn' }),
    );
    process.stdout.write(`${fleetTable(report)}\n`);
  }, 150_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('closes periods of every consumer, each owing a payment', () => {
    // A minute of 5 s periods: at least 10 per consumer.
    expect(report.consumers).toBe(2);
    expect(report.periodsDue).toBeGreaterThanOrEqual(20);
  });

  it('finds every period paid exactly once through the indexer', () => {
    expect(report.indexer).toMatchObject({
      due: report.periodsDue,
      paidOnce: report.periodsDue,
      missing: [],
      paidTwice: [],
      wrongAmount: [],
    });
  });

  it('finds every period paid exactly once straight from the node’s core API', () => {
    expect(report.node).toMatchObject({
      due: report.periodsDue,
      paidOnce: report.periodsDue,
      missing: [],
      paidTwice: [],
      wrongAmount: [],
    });
    expect(fleetHolds(report)).toBe(true);
  });

  it('reads the CPU of the processes the tangle started', () => {
    expect(report.processes.map((p) => p.name)).toEqual(expect.arrayContaining(['hornet-1', 'indexer']));
  });

  it('ran the households in two child processes, each reporting its share', () => {
    expect(report.householdsProcesses.map((p) => p.households)).toEqual([2, 2]);
    expect(new Set(report.householdsProcesses.map((p) => p.pid)).size).toBe(2);
    expect(report.householdsProcesses.every((p) => p.pid !== process.pid && p.cpuPercent > 0)).toBe(true);
  });
});
