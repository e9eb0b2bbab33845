/**
 * `tanglewatt-bills allocate`: the community operator's allocation statement for a cycle, from the meters'
 * signed readings through the indexer; `--pay --member <meterId>` asks that member's own wallet-service for
 * its one payment (the operator holds no member's keys); `allocate verify` holds a member's paid
 * transaction to the readings. Exit status: 0 written, paid or PASS; 1 FAIL; 2 usage, config or network.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { WalletServiceClient } from '@tanglewatt/contract';
import { bech32ToHex, IndexerApi } from '@tanglewatt/ledger';
import { Command, InvalidArgumentError } from 'commander';
import { allocationPayment, buildAllocationStatement } from './allocation.js';
import { type AllocationConfig, parseAllocationConfig } from './allocation-config.js';
import { type AllocationCycle, parseCycle } from './allocation-cycle.js';
import { type AllocationFormat, allocationFormats, renderAllocation } from './allocation-format.js';
import { readAllocationMeters, shortMeters } from './allocation-read.js';
import { checkAllocationPayment, findAllocationPayments, verdictLine } from './allocation-verify.js';
import { httpUrl } from './cli-args.js';
import { BillError } from './errors.js';

interface CommonOptions {
  config: string;
  indexer: string;
  cycle: string;
  indexerTokenEnv?: string;
}

interface AllocateOptions extends CommonOptions {
  format: AllocationFormat;
  out?: string;
  pay?: boolean;
  member?: string;
  walletUrl?: string;
  tokenEnv?: string;
}

interface VerifyOptions extends CommonOptions {
  member: string;
}

function format(value: string): AllocationFormat {
  if ((allocationFormats as readonly string[]).includes(value)) return value as AllocationFormat;
  throw new InvalidArgumentError('format: json or csv');
}

function readConfig(file: string): AllocationConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new InvalidArgumentError(`config: cannot read ${file}: ${(cause as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidArgumentError(`config: ${file} is not JSON`);
  }
  return parseAllocationConfig(json, file);
}

function secret(variable: string | undefined, field: string): string | undefined {
  if (variable === undefined) return undefined;
  const value = process.env[variable];
  if (!value) throw new InvalidArgumentError(`${field}: ${variable} is not set`);
  return value;
}

function memberOf(config: AllocationConfig, meterId: string | undefined) {
  if (meterId === undefined) throw new InvalidArgumentError('member: --member <meterId> names who pays');
  if (!config.members.some((m) => m.meterId === meterId))
    throw new InvalidArgumentError(
      `member: "${meterId}" is not a member of the config (${config.members.map((m) => m.meterId).join(', ')})`,
    );
  return meterId;
}

/** Everything checked before the first request: config, cycle, indexer token. */
function prepare(options: CommonOptions): {
  config: AllocationConfig;
  cycle: AllocationCycle;
  api: IndexerApi;
} {
  const config = readConfig(options.config);
  const cycle = parseCycle(options.cycle, config.history);
  const token = secret(options.indexerTokenEnv, 'indexer-token-env');
  return { config, cycle, api: new IndexerApi(options.indexer, token ? { token } : {}) };
}

/** The statement; a payment is asked for only when every meter's readings reach the cycle's end. */
async function statementOf(prepared: ReturnType<typeof prepare>, paying = false) {
  const meters = await readAllocationMeters(prepared.api, prepared.config, prepared.cycle);
  const short = shortMeters(meters, prepared.cycle);
  if (paying && short.length)
    throw new BillError('UNREADABLE', `${short[0]}: not paying until every meter's readings reach it`);
  for (const warning of short) process.stderr.write(`warning: ${warning}\n`);
  return buildAllocationStatement(prepared.config, prepared.cycle, meters);
}

const common = (command: Command) =>
  command
    .requiredOption('--config <file>', 'allocation config JSON: tariff, payees, generation meters, members')
    .requiredOption('--indexer <url>', "the community indexer's REST API", httpUrl('indexer'))
    .requiredOption(
      '--cycle <cycle>',
      'YYYY-MM (a month in the tariff zone) or from..to (dates or ISO times)',
    )
    .option('--indexer-token-env <name>', "environment variable holding the indexer's bearer token");

export function allocateCommand(): Command {
  return common(new Command('allocate'))
    .description(
      "a cycle's allocation statement from the meters' signed readings; --pay asks one member to pay",
    )
    .option('--format <format>', 'json or csv', format, 'json' as AllocationFormat)
    .option('--out <file>', 'where to write the statement (default: standard output)')
    .option('--pay', "post the member's payment to its wallet-service (with --member, --wallet-url)")
    .option('--member <meterId>', 'the member who pays, by its meter id')
    .option('--wallet-url <url>', "the member's wallet-service", httpUrl('wallet-url'))
    .option('--token-env <name>', "environment variable holding the member wallet-service's token")
    .action(async (options: AllocateOptions) => {
      const prepared = prepare(options);
      let wallet: WalletServiceClient | undefined;
      if (options.pay) {
        memberOf(prepared.config, options.member);
        if (!options.walletUrl) throw new InvalidArgumentError("wallet-url: the member's wallet-service URL");
        const token = secret(options.tokenEnv, 'token-env');
        if (!token) throw new InvalidArgumentError('token-env: the variable holding the wallet token');
        if (prepared.cycle.toMs > Date.now())
          throw new InvalidArgumentError(
            `cycle: it ends at ${new Date(prepared.cycle.toMs).toISOString()}; pay once it has ended`,
          );
        wallet = new WalletServiceClient(options.walletUrl, { token });
      } else if (options.member || options.walletUrl || options.tokenEnv)
        throw new InvalidArgumentError('pay: --member, --wallet-url and --token-env only with --pay');
      const statement = await statementOf(prepared, wallet !== undefined);
      const body = renderAllocation(statement, options.format);
      if (options.out === undefined) process.stdout.write(body);
      else writeFileSync(options.out, body);
      const t = statement.totals;
      process.stderr.write(
        `allocation ${statement.cycle.id}: generation ${t.generationWh} Wh = covered ${t.coveredWh} + unallocated ${t.unallocatedWh}; members owe ${t.totalUnits} units\n`,
      );
      if (!wallet) return;
      const request = allocationPayment(statement, options.member!, prepared.config.payees);
      if (!request) {
        process.stderr.write(`${options.member} owes nothing for ${statement.cycle.id}: no payment\n`);
        return;
      }
      const payment = await wallet.pay(request);
      process.stderr.write(
        `payment ${payment.idempotencyKey}: ${payment.state}, ${request.amount} units to the producer${request.shares?.length ? ` and ${request.shares.map((s) => `${s.amount} to the ${s.role}`).join(', ')}` : ''}\n`,
      );
    });
}

export function allocateVerifyCommand(): Command {
  return common(new Command('verify'))
    .description(
      "recompute a member's allocation payment from the signed readings and check it on the ledger",
    )
    .requiredOption('--member <meterId>', 'the member whose payment is checked, by its meter id')
    .action(async (options: VerifyOptions) => {
      const prepared = prepare(options);
      const member = memberOf(prepared.config, options.member);
      const statement = await statementOf(prepared);
      const key = statement.members.find((m) => m.meterId === member)!.paymentKey;
      const found = await findAllocationPayments(prepared.api, key);
      const verdict = checkAllocationPayment(statement, member, prepared.config.payees, found, bech32ToHex);
      process.stdout.write(`${verdictLine(verdict)}\n`);
      process.exitCode = verdict.ok ? 0 : 1;
    });
}
