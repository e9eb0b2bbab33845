import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type MonthResult, monthTable, runMonth } from '@tanglewatt/deploy';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BILLS_CLI = fileURLToPath(new URL('../../bills/src/cli.ts', import.meta.url));

async function verifyCli(args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', BILLS_CLI, 'verify', ...args]);
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

// The month runs on a tangle of its own (its genesis slots 0 and 1 are its alone), with its own indexer.
describe('three simulated days of two households: paid at the tariff, billed, verified, added up', () => {
  let dir: string;
  let result: MonthResult;
  const cli: { pass?: { code: number; stdout: string }; tampered?: { code: number; stdout: string } } = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tanglewatt-month-'));
    result = await runMonth({
      log: pino({ level: process.env.LOG_LEVEL ?? 'warn' }),
      dataDir: dir,
      households: 2,
      days: 3,
      periodHours: 6,
      realSecondsPerPeriod: 1,
      onBills: async ({ indexerUrl, nodeUrl, households }) => {
        const bill = households[0]!.bill;
        const file = join(dir, 'bill.json');
        await writeFile(file, JSON.stringify(bill));
        cli.pass = await verifyCli([file, '--indexer', indexerUrl, '--node', nodeUrl]);
        const line = bill.lines.find((l) => l.direction === 'bought')!;
        const tampered = {
          ...bill,
          lines: bill.lines.map((l) =>
            l === line ? { ...l, amountUnits: String(BigInt(l.amountUnits) + 1n) } : l,
          ),
        };
        await writeFile(file, JSON.stringify(tampered));
        cli.tampered = await verifyCli([file, '--indexer', indexerUrl]);
      },
    });
    process.stdout.write(`${monthTable(result)}\n`);
  }, 240_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('every period of the three days is paid once and billed once', () => {
    for (const h of result.households) {
      expect([h.name, h.periods, h.paidPeriods]).toEqual([h.name, 12, 12]);
      const periods = h.bill.lines.filter((l) => l.direction === 'bought').map((l) => l.periodId);
      expect(new Set(periods).size).toBe(12);
    }
    expect(result.problems).toEqual([]);
  });

  it("the bills' paid add up to the ledger's payment outputs to the unit, with operator and grid shares", () => {
    expect(result.billsPaidUnits).toBe(result.ledgerPaidUnits);
    expect(result.billsPaidUnits).toBe(
      result.billsEnergyPaidUnits + result.billsOperatorUnits + result.billsGridUnits,
    );
    expect(result.billsEarnedUnits).toBe(result.billsEnergyPaidUnits);
    expect(result.billsOperatorUnits).toBeGreaterThan(0n);
    expect(result.billsGridUnits).toBeGreaterThan(0n);
    expect(result.ok).toBe(true);
  });

  it('the verifier passes every bill, and its CLI fails a bill with one amount changed', () => {
    for (const h of result.households) expect(h.verdict).toEqual(['PASS']);
    expect(cli.pass).toEqual({ code: 0, stdout: 'PASS\n' });
    expect(cli.tampered?.code).toBe(1);
    expect(cli.tampered?.stdout).toMatch(
      /^FAIL AMOUNT: line "[^"]+" \(0x[0-9a-f]{10}…\): the bill says \d+ units, the ledger \d+\n/,
    );
    expect(cli.tampered?.stdout).toContain('FAIL TOTALS: paidUnits:');
  });
});
