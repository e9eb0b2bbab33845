// The channels CLI as an operator runs it: `verify-period` against a node, from the repository root.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;

/**
 * `channels verify-period` on the payment `transaction` under `paymentKey`, over the channel's blocks in
 * `blocksFile`; `more` names how to read it (--key, --public-key, --did …). Rejects, like execFile, on a
 * non-zero exit.
 */
export function verifyPeriodCli(
  nodeUrl: string,
  payment: { transaction: string; paymentKey: string; channel: string; blocksFile: string },
  more: string[],
) {
  return run(
    process.execPath,
    [
      ...['--import', 'tsx', 'channels/src/cli.ts', 'verify-period', '--node', nodeUrl],
      ...['--transaction', payment.transaction, '--payment-key', payment.paymentKey],
      ...['--channel', payment.channel, '--blocks', payment.blocksFile, ...more],
    ],
    { cwd: ROOT },
  );
}

/** `channels verify-period` with any arguments, as a member runs it: exit code and what it printed. */
export async function verifyPeriodArgs(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'channels/src/cli.ts', 'verify-period', ...args],
      { cwd: ROOT },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
