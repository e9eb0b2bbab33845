import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const CHANNEL = 'ab'.repeat(32);
const TX = `0x${'cd'.repeat(32)}`;
const BLOCK = `0x${'ef'.repeat(32)}`;
// Nothing listens there: these refusals must come before any request.
const NODE = 'http://127.0.0.1:9';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('tanglewatt-channels CLI', () => {
  it('verify-period without --did or --public-key says who must sign, in one line, and exits 2', async () => {
    const result = await cli([
      'verify-period',
      ...['--node', NODE, '--channel', CHANNEL, '--transaction', TX, '--payment-key', 'k', '--blocks', BLOCK],
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('error: who signs? give --did with --did-origin, or --public-key');
    expect(result.stdout).toBe('');
  });

  it('a bad reader key met inside a command names the field and exits 2', async () => {
    const result = await cli([
      'read',
      ...['--node', NODE, '--channel', CHANNEL, '--public-key', 'aa'.repeat(32), '--key', 'not-hex'],
      ...['--blocks', BLOCK],
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('error: reader key: 32 bytes as hex');
  });

  it('leaves usage errors to Commander, which prints them once', async () => {
    const result = await cli(['verify-period', '--node', NODE]);
    expect(result.code).toBe(2);
    expect(result.stderr.match(/error: required option/g)).toHaveLength(1);
  });
});
