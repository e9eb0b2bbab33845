#!/usr/bin/env node
/**
 * tanglewatt-bills: a household's bill for a billing cycle, from the community indexer (the ledger and the
 * meter channels), as JSON, CSV or PDF.
 *   npx tsx bills/src/cli.ts --indexer <url> --address <bech32> --from <date> --to <date>
 *     [--config bill.json] [--node <url>] --format json|csv|pdf --out <file>
 *   npx tsx bills/src/cli.ts verify <bill.json> --indexer <url> [--node <url>] [--key-file <reader.key>]
 *     [--records <file.jsonl>]
 *   npx tsx bills/src/cli.ts allocate --config allocation.json --indexer <url> --cycle <YYYY-MM|from..to>
 *     [--format json|csv] [--out <file>] [--pay --member <meterId> --wallet-url <url> --token-env <VAR>]
 *   npx tsx bills/src/cli.ts allocate verify --config allocation.json --indexer <url> --cycle <…> --member <id>
 * Exit status: 0 written (or PASS), 1 FAIL, 2 usage, config or network error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fromHex } from '@tanglewatt/channels';
import { didResolver } from '@tanglewatt/channels/node';
import { type BillFormat, billFormats } from '@tanglewatt/contract';
import { IndexerApi, isBech32Address } from '@tanglewatt/ledger';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { allocateCommand, allocateVerifyCommand } from './cli-allocate.js';
import { httpUrl } from './cli-args.js';
import { verifyCommand } from './cli-verify.js';
import { type BillConfigFile, parseBillConfig, ZERO_BASELINE } from './config.js';
import { billFromIndexer, renderBill } from './make.js';

interface Options {
  indexer: string;
  address: string;
  from: string;
  to: string;
  config?: string;
  format: BillFormat;
  out?: string;
  tokenEnv?: string;
  readerKeyFile?: string;
  meter?: string[];
  node?: string;
}

function format(value: string): BillFormat {
  if ((billFormats as readonly string[]).includes(value)) return value as BillFormat;
  throw new InvalidArgumentError('format: json, csv or pdf');
}

function readConfig(file: string | undefined): { json: BillConfigFile; warnings: string[] } {
  if (file === undefined)
    return {
      json: ZERO_BASELINE,
      warnings: ['no bill config (--config): the retail and feed-in baselines and CO2 factor are 0'],
    };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new InvalidArgumentError(`config: cannot read ${file}: ${(cause as Error).message}`);
  }
  try {
    return { json: JSON.parse(text) as BillConfigFile, warnings: [] };
  } catch {
    throw new InvalidArgumentError(`config: ${file} is not JSON`);
  }
}

function readerKey(file: string | undefined): Uint8Array | undefined {
  if (file === undefined) return undefined;
  try {
    return fromHex(readFileSync(file, 'utf8').trim(), 32, 'reader key');
  } catch {
    throw new InvalidArgumentError('reader-key-file: a file holding an X25519 secret key, 64 hex digits');
  }
}

const program = new Command()
  .name('tanglewatt-bills')
  .description("a household's bill for a cycle, built from the ledger and the meter channels via the indexer")
  .exitOverride()
  .requiredOption('--indexer <url>', "the community indexer's REST API", httpUrl('indexer'))
  .requiredOption('--address <bech32>', "the household's address")
  .requiredOption('--from <date>', 'cycle start: a local date YYYY-MM-DD (or an ISO time with an offset)')
  .requiredOption('--to <date>', 'cycle end: a local date, included (or an ISO time, excluded)')
  .option('--config <file>', 'bill config JSON: timeZone, retailUnitsPerWh, feedInUnitsPerWh, co2GramsPerKWh')
  .option('--format <format>', 'json, csv or pdf', format, 'json' as BillFormat)
  .option('--out <file>', 'where to write the bill (default: standard output, json and csv only)')
  .option('--token-env <name>', "environment variable holding the indexer's bearer token")
  .option('--reader-key-file <file>', "an X25519 reader key of the household's restricted channel")
  .option(
    '--meter <publicKey>',
    "the household's own meter by its public signing key (repeatable): its public channel is read too",
    (value: string, previous: string[] = []) => [...previous, value],
  )
  .option(
    '--node <url>',
    'HORNET REST API: resolves the meter DIDs purchases name (rotated keys)',
    httpUrl('node'),
  )
  .action(async (options: Options) => {
    if (!isBech32Address(options.address))
      throw new InvalidArgumentError('address: a bech32 Ed25519 address such as rms1q…');
    if (options.format === 'pdf' && options.out === undefined)
      throw new InvalidArgumentError('out: a PDF needs a file to go to (--out bill.pdf)');
    const { json, warnings } = readConfig(options.config);
    const withMeters = options.meter ? { ...json, meters: [...(json.meters ?? []), ...options.meter] } : json;
    const config = parseBillConfig(withMeters, { from: options.from, to: options.to });
    const token = options.tokenEnv ? process.env[options.tokenEnv] : undefined;
    if (options.tokenEnv && !token)
      throw new InvalidArgumentError(`token-env: ${options.tokenEnv} is not set`);
    const key = readerKey(options.readerKeyFile);
    const api = new IndexerApi(options.indexer, token ? { token } : {});
    const bill = await billFromIndexer(api, options.address, config, {
      warnings,
      ...(key ? { readerSecretKey: key } : {}),
      ...(options.node ? { resolveDid: didResolver(options.node) } : {}),
    });
    const rendered = await renderBill(bill, options.format);
    if (options.out === undefined) process.stdout.write(rendered.body);
    else {
      writeFileSync(options.out, rendered.body);
      const t = bill.totals;
      process.stderr.write(
        `wrote ${options.out}: ${bill.lines.length} lines; paid ${t.paidUnits}, earned ${t.earnedUnits}, savings ${t.savingsUnits} units\n`,
      );
    }
  });

// `verify` and `allocate` (with `allocate verify`) are commands of their own; without one the arguments are a
// bill to write.
const verifying = process.argv[2] === 'verify';
const allocating = process.argv[2] === 'allocate';
const chosen = verifying || allocating ? new Command('tanglewatt-bills').exitOverride() : program;
if (verifying) chosen.addCommand(verifyCommand());
if (allocating)
  chosen.addCommand(
    process.argv[3] === 'verify'
      ? new Command('allocate').exitOverride().addCommand(allocateVerifyCommand())
      : allocateCommand(),
  );
const overrideAll = (c: Command): void => {
  for (const sub of c.commands) {
    sub.exitOverride();
    overrideAll(sub);
  }
};
overrideAll(chosen);
chosen.parseAsync(process.argv).catch((error: unknown) => {
  // Commander has printed its own usage errors (and help, which exits 0).
  if (error instanceof CommanderError && !(error instanceof InvalidArgumentError)) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
    return;
  }
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
