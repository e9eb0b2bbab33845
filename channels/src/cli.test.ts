import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.js';
import { channelIdHex, ed25519PublicKey, x25519PublicKey } from './crypto.js';

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

  it('verify-period --cycle refuses to run without --indexer or --tariff, in one line, exit 2', async () => {
    const noIndexer = await cli(['verify-period', '--cycle', '2026-01', '--node', NODE]);
    expect([noIndexer.code, noIndexer.stderr.trim()]).toEqual([
      2,
      'error: --cycle needs --indexer <url> (it finds the payment)',
    ]);
    const noTariff = await cli(['verify-period', '--cycle', '2026-01', '--indexer', NODE]);
    expect([noTariff.code, noTariff.stderr.trim()]).toEqual([
      2,
      'error: --cycle needs --tariff <file> (it recomputes the amounts)',
    ]);
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
    const result = await cli(['read', '--node', NODE]);
    expect(result.code).toBe(2);
    expect(result.stderr.match(/error: required option/g)).toHaveLength(1);
  });

  it('verify-period needs the transaction, or the period with the indexer, and says so in one line', async () => {
    const result = await cli(['verify-period', '--node', NODE, '--period', 'meter-1/3']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'error: give --tx <transactionId> (the payment transaction), or --period <periodId> with --indexer',
    );
    const nowhere = await cli(['verify-period', '--tx', TX]);
    expect(nowhere.stderr.trim()).toBe('error: give --node <url> or --indexer <url>');
  });

  it('export-records needs somewhere to find the messages, verify-records a readable file; each one line, exit 2', async () => {
    const bare = await cli(['export-records', '--channel', CHANNEL, '--node', NODE]);
    expect(bare.code).toBe(2);
    expect(bare.stderr.trim()).toBe(
      'error: without --indexer, give --tx or --newest: where the channel’s messages are',
    );
    const badFrom = await cli([
      'export-records',
      '--channel',
      CHANNEL,
      '--indexer',
      NODE,
      '--from',
      'yesterday',
    ]);
    expect(badFrom.code).toBe(2);
    expect(badFrom.stderr.split('\n')[0]).toBe(
      "error: option '--from <seq|date>' argument 'yesterday' is invalid. --from: a sequence number or a date (ISO 8601), not \"yesterday\"",
    );
    const missing = await cli(['verify-records', '/nonexistent/records.jsonl']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('error: /nonexistent/records.jsonl: cannot be read (ENOENT)');
  });

  it('verify-period --blocks still needs the channel and the payment key', async () => {
    const result = await cli(['verify-period', '--node', NODE, '--tx', TX, '--blocks', BLOCK]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('error: --blocks needs --channel <id>');
  });

  it('a reader key file that holds no key is named, in one line, before any request', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'cli-test-')), 'reader.key');
    await writeFile(file, 'not a key\n');
    const result = await cli(['verify-period', '--node', NODE, '--tx', TX, '--key-file', file]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      `error: --key-file ${file}: holds no X25519 secret key (64 hex digits, or the JSON keygen prints)`,
    );
  });

  it("prints a meter's public key and channel id from its signing key file, and a reader's public key", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-test-'));
    const secret = '11'.repeat(32);
    await writeFile(join(dir, 'signing.key'), `${secret}\n`);
    const meter = await cli(['public-key', join(dir, 'signing.key')]);
    expect(meter.code).toBe(0);
    const publicKey = ed25519PublicKey(fromHex(secret, 32));
    expect(JSON.parse(meter.stdout)).toEqual({
      type: 'ed25519',
      publicKey: toHex(publicKey),
      channelId: channelIdHex(publicKey),
    });
    await writeFile(join(dir, 'reader.json'), JSON.stringify({ type: 'x25519', secretKey: secret }));
    const reader = await cli(['public-key', '--reader', join(dir, 'reader.json')]);
    expect(JSON.parse(reader.stdout)).toEqual({
      type: 'x25519',
      publicKey: toHex(x25519PublicKey(fromHex(secret, 32))),
    });
  });
});
