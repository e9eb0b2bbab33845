import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { hexToBech32 } from '@tanglewatt/ledger';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
// Nothing listens there: these refusals must come before any request.
const INDEXER = 'http://127.0.0.1:9';
const ADDRESS = hexToBech32(`0x${'11'.repeat(32)}`, 'rms');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const base = ['--indexer', INDEXER, '--address', ADDRESS, '--from', '2026-11-01', '--to', '2026-11-30'];

describe('tanglewatt-bills CLI', () => {
  it('names the field at fault in one line and exits 2, before asking the indexer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tanglewatt-bills-cli-'));
    const config = join(dir, 'bill.json');
    await writeFile(config, JSON.stringify({ retailUnitsPerWh: '0.3', timeZone: 'Nowhere/Else' }));
    const cases: [string[], string][] = [
      [[...base, '--address', 'rms1nope'], 'error: address: a bech32 Ed25519 address such as rms1q…'],
      [[...base, '--format', 'pdf'], 'error: out: a PDF needs a file to go to (--out bill.pdf)'],
      [[...base, '--config', config], 'error: timeZone: an IANA time zone such as "Europe/Berlin"'],
      [[...base, '--to', '2026-10-01'], 'error: to: must be after from'],
      [[...base, '--meter', 'abc'], "error: meters.0: a meter's public signing key, 64 lowercase hex digits"],
    ];
    for (const [args, line] of cases) {
      const result = await cli(args);
      expect(result.stderr).toBe(`${line}\n`);
      expect([result.code, result.stdout]).toEqual([2, '']);
    }
  });

  it('refuses a format it does not write, through Commander', async () => {
    const result = await cli([...base, '--format', 'xlsx']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('format: json, csv or pdf');
  });
});
