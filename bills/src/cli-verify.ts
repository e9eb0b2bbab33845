/**
 * `tanglewatt-bills verify <bill.json>`: checks a bill against the ledger and the meter's signed readings
 * through the community indexer (and a node), trusting no wallet-service. Prints PASS, or one
 * `FAIL <CODE>: …` line per discrepancy (`PENDING PENDING_INDEX: …` for a purchase whose messages the
 * indexer has not reached yet). Exit status: 0 PASS, 1 FAIL, 2 usage or network error, 3 only pending.
 */
import { readFileSync } from 'node:fs';
import { fromHex } from '@tanglewatt/channels';
import { didResolver } from '@tanglewatt/channels/node';
import { type BillJson, bill as billSchema } from '@tanglewatt/contract';
import { IndexerApi, NodeApi } from '@tanglewatt/ledger';
import { Command, InvalidArgumentError } from 'commander';
import { httpUrl } from './cli-args.js';
import { findingLines, findingsExitStatus } from './verify.js';
import { verifyBill } from './verify-ledger.js';

interface VerifyOptions {
  indexer: string;
  node?: string;
  keyFile?: string;
  records?: string;
  tokenEnv?: string;
}

function readText(field: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new InvalidArgumentError(`${field}: cannot read ${file}: ${(cause as Error).message}`);
  }
}

function readBill(file: string): BillJson {
  let json: unknown;
  try {
    json = JSON.parse(readText('bill', file));
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    throw new InvalidArgumentError(`bill: ${file} is not JSON`);
  }
  const parsed = billSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidArgumentError(`bill: ${issue.path.join('.') || 'the bill'}: ${issue.message}`);
  }
  return parsed.data;
}

export function verifyCommand(): Command {
  return new Command('verify')
    .description('check a bill against the ledger and the meter readings, through the indexer')
    .argument('<bill.json>', 'the bill as JSON (tanglewatt-bills --format json, GET /bills)')
    .requiredOption('--indexer <url>', "the community indexer's REST API", httpUrl('indexer'))
    .option(
      '--node <url>',
      'HORNET REST API: blocks the indexer has not reached, and the meter DIDs purchases name',
      httpUrl('node'),
    )
    .option('--key-file <file>', 'an X25519 reader key of a restricted meter channel (64 hex digits)')
    .option('--records <file>', "the meter's records as export-records wrote them (JSON Lines)")
    .option('--token-env <name>', "environment variable holding the indexer's bearer token")
    .action(async (file: string, options: VerifyOptions) => {
      const bill = readBill(file);
      const key = options.keyFile
        ? (() => {
            try {
              return fromHex(readText('key-file', options.keyFile).trim(), 32, 'reader key');
            } catch {
              throw new InvalidArgumentError('key-file: a file holding an X25519 secret key, 64 hex digits');
            }
          })()
        : undefined;
      const recordsText = options.records ? readText('records', options.records) : undefined;
      const token = options.tokenEnv ? process.env[options.tokenEnv] : undefined;
      if (options.tokenEnv && !token)
        throw new InvalidArgumentError(`token-env: ${options.tokenEnv} is not set`);
      const { findings } = await verifyBill(bill, {
        indexer: new IndexerApi(options.indexer, token ? { token } : {}),
        ...(options.node ? { node: new NodeApi(options.node), resolveDid: didResolver(options.node) } : {}),
        ...(key ? { readerSecretKey: key } : {}),
        ...(recordsText !== undefined ? { recordsText } : {}),
      });
      process.stdout.write(`${findingLines(findings).join('\n')}\n`);
      process.exitCode = findingsExitStatus(findings);
    });
}
