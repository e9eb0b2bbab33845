import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type MonthResult, monthTable, runMonth } from '@tanglewatt/deploy';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BILLS_CLI = fileURLToPath(new URL('../../bills/src/cli.ts', import.meta.url));
const CHANNELS_CLI = fileURLToPath(new URL('../../channels/src/cli.ts', import.meta.url));

type CliResult = { code: number; stdout: string; stderr: string };

async function tsxCli(cli: string, args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', cli, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as CliResult;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function verifyCli(args: string[]): Promise<{ code: number; stdout: string }> {
  const { code, stdout } = await tsxCli(BILLS_CLI, ['verify', ...args]);
  return { code, stdout };
}

/** Each household's channel through the CLIs: export-records, verify-records, the bill verified with them. */
type RecordsRun = {
  name: string;
  lastPostedSeq: number;
  exported: CliResult;
  verified: CliResult;
  bill: CliResult;
};

// The month runs on a tangle of its own (its genesis slots 0 and 1 are its alone), with its own indexer.
describe('three simulated days of two households: paid at the tariff, billed, verified, added up', () => {
  let dir: string;
  let result: MonthResult;
  const cli: { pass?: { code: number; stdout: string }; tampered?: { code: number; stdout: string } } = {};
  const records: RecordsRun[] = [];
  let tamperedRecords: (CliResult & { line: number; seq: number }) | undefined;

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
        // Each household buys from its own meter's channel: its records hold every period it paid for.
        records.push(
          ...(await Promise.all(
            households.map(async (h): Promise<RecordsRun> => {
              const [file, bill] = [join(dir, `${h.name}.jsonl`), join(dir, `${h.name}-bill.json`)];
              await writeFile(bill, JSON.stringify(h.bill));
              const exported = await tsxCli(CHANNELS_CLI, [
                ...['export-records', '--channel', h.channelId],
                ...['--indexer', indexerUrl, '--node', nodeUrl, '--out', file],
              ]);
              const verified = await tsxCli(CHANNELS_CLI, ['verify-records', file, '--indexer', indexerUrl]);
              const billed = await tsxCli(BILLS_CLI, [
                ...['verify', bill, '--indexer', indexerUrl, '--node', nodeUrl, '--records', file],
              ]);
              return { name: h.name, lastPostedSeq: h.lastPostedSeq, exported, verified, bill: billed };
            }),
          )),
        );
        // One reading changed in one record: verify-records names that record and field, and nothing else.
        const lines = (await readFile(join(dir, 'H1.jsonl'), 'utf8')).trimEnd().split('\n');
        const at = lines.findIndex((l) => JSON.parse(l).payload.RD.length > 0);
        const record = JSON.parse(lines[at]!);
        record.payload.RD[0].XE = (BigInt(record.payload.RD[0].XE) + 1000n).toString();
        lines[at] = JSON.stringify(record);
        const changed = join(dir, 'H1-tampered.jsonl');
        await writeFile(changed, `${lines.join('\n')}\n`);
        tamperedRecords = {
          ...(await tsxCli(CHANNELS_CLI, ['verify-records', changed, '--indexer', indexerUrl])),
          line: at + 1,
          seq: record.seq,
        };

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

  it("each household's channel exports as records that verify, and its bill verifies with them; a changed reading is one FAIL line", () => {
    expect(records.map((r) => r.name)).toEqual(['H1', 'H2']);
    for (const r of records) {
      const range = `seq 0..${r.lastPostedSeq}`;
      expect([r.name, r.exported.code, r.exported.stdout]).toEqual([
        r.name,
        0,
        expect.stringMatching(
          new RegExp(`^exported ${r.lastPostedSeq + 1} records \\(${range}\\) of channel `),
        ),
      ]);
      expect([r.name, r.verified.code, r.verified.stdout]).toEqual([
        r.name,
        0,
        expect.stringMatching(
          new RegExp(
            `^PASS: ${r.lastPostedSeq + 1} records \\(${range}\\) .*every block checked on the ledger\n$`,
          ),
        ),
      ]);
      expect([r.name, r.bill.code, r.bill.stdout]).toEqual([r.name, 0, 'PASS\n']);
    }
    expect(tamperedRecords?.code).toBe(1);
    expect(tamperedRecords?.stdout).toBe(
      `FAIL TAMPERED: line ${tamperedRecords?.line}, seq ${tamperedRecords?.seq}: payload.RD[0].XE is not what the meter signed\n`,
    );
  });
});
