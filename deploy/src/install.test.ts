import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COMPONENTS } from './components.js';
import { buildTarget, reportBuildProgress } from './install.js';

const hornet = COMPONENTS.find((c) => c.name === 'hornet')!;

describe('reportBuildProgress', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs the module that is building and its elapsed time every 10 s until stopped', () => {
    const lines: { fields: Record<string, unknown>; msg: string }[] = [];
    const log = { info: (fields: Record<string, unknown>, msg: string) => lines.push({ fields, msg }) };
    const stop = reportBuildProgress(log as never, hornet, 'v2.0.1');
    vi.advanceTimersByTime(9_999);
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(20_001);
    expect(lines.map((l) => l.msg)).toEqual([
      'still building hornet v2.0.1 (github.com/iotaledger/hornet/v2): 10 s',
      'still building hornet v2.0.1 (github.com/iotaledger/hornet/v2): 20 s',
      'still building hornet v2.0.1 (github.com/iotaledger/hornet/v2): 30 s',
    ]);
    expect(lines[0]!.fields).toEqual({
      component: 'hornet',
      module: 'github.com/iotaledger/hornet/v2',
      seconds: 10,
    });
    stop();
    vi.advanceTimersByTime(60_000);
    expect(lines).toHaveLength(3);
  });

  it('names our own source directory for the programs built from it', () => {
    const coordinator = COMPONENTS.find((c) => c.build.kind === 'source')!;
    expect(buildTarget(coordinator)).toMatch(/coordinator$/);
  });
});
