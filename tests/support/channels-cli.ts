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
