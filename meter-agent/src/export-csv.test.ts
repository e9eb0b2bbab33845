import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startAgent } from './agent.js';
import { ManualClock } from './clock.js';
import { mwsToWh, PERIOD_CSV_COLUMNS, parseTimeBound, periodsCsv, periodsInRange } from './export-csv.js';
import { silentLogger } from './log.js';
import { FakeWallet } from './payments/fake-wallet.js';
import type { PaymentOutcome, PeriodRecord } from './store/state.js';
import { agentConfig, T0 as NOON, PRODUCER, tempDir, writeConfigFile } from './testing/fixtures.js';
import { nextTurn, run as runAgent, tick } from './testing/in-process.js';

const HUGE = '18446744073709551615';
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

/** The fields of a period record the CSV reads. */
function period(seq: number, extra: Partial<PeriodRecord> = {}): PeriodRecord {
  return {
    id: `house-12/${new Date(T0 + (seq - 1) * 60_000).toISOString()}`,
    seq,
    startMs: T0 + (seq - 1) * 60_000,
    endMs: T0 + seq * 60_000,
    energyMWs: '60000',
    amount: '60',
    payment: { state: 'due', key: `k${seq}`, to: PRODUCER, amount: '60' },
    quality: { samples: 60, gapMs: 0, readErrors: 0 },
    ...extra,
  } as PeriodRecord;
}

describe('mwsToWh', () => {
  it('writes Wh with 7 decimals, rounded to the nearest on integers, exact however large', () => {
    expect(mwsToWh('0')).toBe('0.0000000');
    expect(mwsToWh('3600000')).toBe('1.0000000');
    expect(mwsToWh('60000')).toBe('0.0166667');
    expect(mwsToWh('1')).toBe('0.0000003');
    // 9 mW·s is exactly 0.0000025 Wh; 2 mW·s is 0.000000555… Wh.
    expect(mwsToWh('9')).toBe('0.0000025');
    expect(mwsToWh('2')).toBe('0.0000006');
    expect(mwsToWh(HUGE)).toBe('5124095576030.4310042');
    expect(mwsToWh('-1')).toBe('-0.0000003');
  });

  it('gives every mW·s its own value: the decimal is finer than the integer it comes from', () => {
    const seen = new Set<string>();
    for (let mws = 0n; mws < 20_000n; mws++) seen.add(mwsToWh(mws));
    expect(seen.size).toBe(20_000);
  });
});

describe('parseTimeBound', () => {
  it('takes an ISO 8601 time with a zone, or a date at UTC midnight', () => {
    expect(parseTimeBound('2026-01-31', '--since')).toBe(Date.UTC(2026, 0, 31));
    expect(parseTimeBound('2026-01-31T12:30:00Z', '--since')).toBe(Date.UTC(2026, 0, 31, 12, 30));
    expect(parseTimeBound('2026-01-31T12:30:00.250+02:00', '--until')).toBe(
      Date.UTC(2026, 0, 31, 10, 30, 0, 250),
    );
  });

  it('refuses anything else in one line naming the option', () => {
    for (const bad of [
      'yesterday',
      '2026-02-30',
      '2026-02-30T00:00:00Z',
      '2026-13-01',
      '2026-01-31T12:30:00',
      '2026-01-31T12:30Z',
      '1767225600000',
      '',
    ])
      expect(() => parseTimeBound(bad, '--until'), bad).toThrow(/^--until: an ISO 8601 time .*\(got ".*"\)$/);
  });
});

describe('periodsInRange', () => {
  const periods = [period(1), period(2), period(3)];
  it('keeps the periods starting at or after since and before until', () => {
    expect(periodsInRange(periods, {}).map((p) => p.seq)).toEqual([1, 2, 3]);
    expect(periodsInRange(periods, { sinceMs: T0 + 60_000 }).map((p) => p.seq)).toEqual([2, 3]);
    expect(periodsInRange(periods, { sinceMs: T0 + 1, untilMs: T0 + 120_000 }).map((p) => p.seq)).toEqual([
      2,
    ]);
  });
  it('refuses until before since, naming --until', () => {
    expect(() => periodsInRange(periods, { sinceMs: T0 + 1, untilMs: T0 })).toThrow(/^--until: /);
  });
});

describe('periodsCsv', () => {
  it('writes one CRLF line per period with exact integers and the payment state', () => {
    const outcomes = new Map<string, PaymentOutcome>([
      ['k1', { key: 'k1', atMs: T0, result: 'accepted', serviceState: 'queued' }],
    ]);
    const text = periodsCsv(
      [
        period(1, { amount: HUGE, energyMWs: HUGE }),
        period(2, { quality: { samples: 58, gapMs: 2000, readErrors: 2 } as PeriodRecord['quality'] }),
        period(3, { id: 'meter "a", north\nside', payment: { state: 'nothing-due' } }),
      ],
      { outcomes },
    );
    expect(text.split('\r\n')).toEqual([
      PERIOD_CSV_COLUMNS.join(','),
      `house-12/2026-01-01T00:00:00.000Z,2026-01-01T00:00:00.000Z,2026-01-01T00:01:00.000Z,${HUGE},5124095576030.4310042,${HUGE},accepted,60,0,0`,
      'house-12/2026-01-01T00:01:00.000Z,2026-01-01T00:01:00.000Z,2026-01-01T00:02:00.000Z,60000,0.0166667,60,queued,58,2000,2',
      '"meter ""a"", north\nside",2026-01-01T00:02:00.000Z,2026-01-01T00:03:00.000Z,60000,0.0166667,60,nothing-due,60,0,0',
      '',
    ]);
  });
});

describe('meter-agent periods --csv', { timeout: 60_000 }, () => {
  const cli = fileURLToPath(new URL('../bin/meter-agent.mjs', import.meta.url));
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [cli, ...args], { timeout: 30_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it("prints the agent's closed periods from its journal, and refuses a bad --since in one line", async () => {
    const dir = await tempDir('meter-csv-');
    const config = agentConfig(join(dir, 'data'));
    const configFile = await writeConfigFile(dir, config);
    const clock = new ManualClock(NOON);
    const agent = await startAgent({ config, clock, wallet: new FakeWallet(), log: silentLogger() });
    await tick(clock, agent, 0, nextTurn);
    await runAgent(clock, agent, 185_000);
    await agent.paymentsDrained();
    await agent.stop();

    const all = await run(['periods', '--csv', '-c', configFile]);
    expect(all.stderr).toBe('');
    expect(all.code).toBe(0);
    const lines = all.stdout.split('\r\n');
    expect(lines[0]).toBe(PERIOD_CSV_COLUMNS.join(','));
    expect(lines.slice(1, -1)).toHaveLength(3);
    expect(lines[1]).toBe(
      'house-12/2024-06-01T12:00:00.000Z,2024-06-01T12:00:00.000Z,2024-06-01T12:01:00.000Z,60000,0.0166667,60,accepted,60,0,0',
    );

    const some = await run(['periods', '--csv', '-c', configFile, '--since', '2024-06-01T12:01:00Z']);
    expect(
      some.stdout
        .split('\r\n')
        .slice(1, -1)
        .map((l) => l.split(',')[1]),
    ).toEqual(['2024-06-01T12:01:00.000Z', '2024-06-01T12:02:00.000Z']);

    const bad = await run(['periods', '--csv', '-c', configFile, '--since', 'last week']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe(
      'meter-agent: --since: an ISO 8601 time such as 2026-01-31T00:00:00Z, or a date such as 2026-01-31 (got "last week")\n',
    );
  });
});
