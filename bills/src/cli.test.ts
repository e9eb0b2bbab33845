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

  it('allocate: refuses a bad config, cycle or --pay in one line, exit 2, before any request', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tanglewatt-allocate-cli-'));
    const config = join(dir, 'allocation.json');
    const good = {
      tariff: {
        id: 'flat',
        version: 1,
        timeZone: 'UTC',
        validFrom: '2026-01-01T00:00Z',
        bands: [{ digit: 1, name: 'flat', priceUnitsPerWh: '1' }],
        slots: [
          {
            days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
            from: '00:00',
            to: '24:00',
            band: 'flat',
          },
        ],
      },
      payees: { producer: ADDRESS },
      generation: [{ meterId: 'pv', publicKey: '01'.repeat(32) }],
      members: [{ meterId: 'house-a', publicKey: '02'.repeat(32), keyPercent: '101', address: ADDRESS }],
    };
    await writeFile(config, JSON.stringify(good));
    const allocate = ['allocate', '--config', config, '--indexer', INDEXER];
    const fixed = join(dir, 'fixed.json');
    await writeFile(fixed, JSON.stringify({ ...good, members: [{ ...good.members[0], keyPercent: '50' }] }));
    const cases: [string[], string][] = [
      [
        [...allocate, '--cycle', '2026-11'],
        'error: members[0].keyPercent: the keys add up to more than 100 %',
      ],
      [
        ['allocate', '--config', fixed, '--indexer', INDEXER, '--cycle', 'last-week'],
        'error: cycle: a month YYYY-MM, or from..to as dates YYYY-MM-DD or ISO times with Z or an offset, not "last-week"',
      ],
      [
        ['allocate', '--config', fixed, '--indexer', INDEXER, '--cycle', '2026-11', '--pay'],
        'error: member: --member <meterId> names who pays',
      ],
      [
        [
          'allocate',
          '--config',
          fixed,
          '--indexer',
          INDEXER,
          '--cycle',
          '2026-11',
          '--pay',
          '--member',
          'house-z',
        ],
        'error: member: "house-z" is not a member of the config (house-a)',
      ],
      [
        [
          'allocate',
          '--config',
          fixed,
          '--indexer',
          INDEXER,
          '--cycle',
          '2099-11',
          '--pay',
          '--member',
          'house-a',
          '--wallet-url',
          INDEXER,
          '--token-env',
          'PATH',
        ],
        'error: cycle: it ends at 2099-12-01T00:00:00.000Z; pay once it has ended',
      ],
      [
        ['allocate', '--config', fixed, '--indexer', INDEXER, '--cycle', '2026-11', '--member', 'house-a'],
        'error: pay: --member, --wallet-url and --token-env only with --pay',
      ],
    ];
    for (const [args, line] of cases) {
      const result = await cli(args);
      expect(result.stderr).toBe(`${line}\n`);
      expect([result.code, result.stdout]).toEqual([2, '']);
    }
  });
});
