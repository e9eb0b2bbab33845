#!/usr/bin/env node
/**
 * tanglewatt-channels: check a channel and the payments tied to it, from the Tangle alone.
 *   verify-period  a payment's readingsHash against the Merkle root of the period's verified messages,
 *                  found from the transaction alone (--tx) or from blocks given (--blocks); with
 *                  --tariff, each payee's amount recomputed from those readings; with --cycle, a net
 *                  cycle's settlement (bands and amounts) recomputed from all the cycle's messages
 *   read           read and verify a channel from its blocks (an index, or walking back from the newest)
 *   resolve-did    a meter DID's document and key history
 *   keygen         a meter signing key (Ed25519) or a reader key (X25519)
 *   public-key     the public key of a key file (and a meter's channel id)
 *   export-records / verify-records   verifiable records of a channel, and their standalone check
 * Exit status: 0 verified, 1 verification failed, 2 usage or network error, 3 not indexed yet (a period's
 * messages the indexer has not reached: PENDING_INDEX; try again a few milestones later).
 */
import { existsSync, readFileSync } from 'node:fs';
import { NodeApi } from '@tanglewatt/ledger';
import type { TariffHistory } from '@tanglewatt/tariff';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { collectEpochKey, collectPublicKey, hex32, readKeyFile } from './cli-common.js';
import { exitStatus, verdictWord, verifyCycleFromIndexer } from './cli-cycle.js';
import { addRecordCommands, indexerOf } from './cli-records.js';
import {
  assertChannelOfDid,
  channelIdHex,
  didResolver,
  EpochKeyring,
  ed25519PublicKey,
  followChain,
  type IndexedBlock,
  NodeBlockSource,
  newEd25519SecretKey,
  newX25519SecretKey,
  type PeriodRef,
  type ReadResult,
  readChannel,
  resolveMeterDid,
  type SignerKeys,
  staticSigners,
  toHex,
  verifyPeriod,
  verifyPeriods,
  x25519PublicKey,
} from './node.js';
import { parseTariffFile, tariffChecks, tariffLine } from './tariff-check.js';

interface KeyOptions {
  node: string;
  channel: string;
  key?: string;
  epochKey?: [number, Uint8Array][];
  did?: string;
  didOrigin?: string;
  publicKey?: Uint8Array[];
  json?: boolean;
}

/** A file (JSON array of ids or {seq, blockId}, or one id per line) or a comma-separated list. */
function parseBlocks(value: string): IndexedBlock[] {
  const text = existsSync(value) ? readFileSync(value, 'utf8') : value;
  const trimmed = text.trim();
  const items: unknown[] = trimmed.startsWith('[')
    ? (JSON.parse(trimmed) as unknown[])
    : trimmed.split(/[\s,]+/);
  return items
    .filter((i) => i !== '')
    .map((i) => {
      const block = typeof i === 'string' ? { blockId: i } : (i as IndexedBlock);
      if (!/^0x[0-9a-f]{64}$/.test(block.blockId))
        throw new InvalidArgumentError(`not a block id: ${block.blockId}`);
      return block;
    });
}

async function signersFor(options: KeyOptions): Promise<{ signers: SignerKeys; source: string }> {
  if (options.did) {
    if (!options.didOrigin)
      throw new InvalidArgumentError('--did needs --did-origin (the alias origin output id)');
    const resolved = await resolveMeterDid({
      nodeUrl: options.node,
      ref: { did: options.did, originOutputId: options.didOrigin },
    });
    assertChannelOfDid(options.channel, resolved);
    return {
      signers: resolved.signers,
      source: `${options.did} (${resolved.versions.length} document versions)`,
    };
  }
  if (options.publicKey?.length)
    return {
      signers: staticSigners(options.publicKey),
      source: `${options.publicKey.length} key(s) given out of band`,
    };
  throw new InvalidArgumentError('who signs? give --did with --did-origin, or --public-key');
}

function readKeys(options: KeyOptions) {
  return {
    ...(options.key ? { readerSecretKey: hex32('reader key')(options.key) } : {}),
    ...(options.epochKey ? { epochKeys: new EpochKeyring(options.epochKey) } : {}),
  };
}

function printRead(result: ReadResult): void {
  for (const m of result.messages) {
    const what =
      m.kind === 'epoch'
        ? `epoch ${m.epoch} for ${m.readers?.length} reader(s)`
        : `${m.samples.length} samples`;
    const summaries = m.summaries.map((s) => ` period ${s.periodId} ${s.energyMWs} mWs`).join('');
    process.stdout.write(
      `ok   seq ${m.seq}  ${new Date(m.fromMs).toISOString()}..${new Date(m.toMs).toISOString()}  ${what}${summaries}  ${m.hash.slice(0, 16)}\n`,
    );
  }
  for (const f of result.failures)
    process.stdout.write(
      `FAIL ${f.reason} at ${f.seq !== undefined ? `seq ${f.seq}` : `position ${f.position}`}: ${f.detail}\n`,
    );
  if (!result.anchored) process.stdout.write('note: the first message was not linked to a predecessor\n');
}

const jsonReplacer = (_key: string, value: unknown) =>
  typeof value === 'bigint' ? value.toString() : value instanceof EpochKeyring ? undefined : value;

function withKeyOptions(command: Command, channelRequired = true, nodeRequired = true): Command {
  if (nodeRequired) command.requiredOption('--node <url>', 'HORNET REST API, e.g. http://127.0.0.1:14265');
  else command.option('--node <url>', 'HORNET REST API, e.g. http://127.0.0.1:14265');
  if (channelRequired) command.requiredOption('--channel <id>', 'channel id (64 hex digits)');
  else command.option('--channel <id>', 'channel id (64 hex digits)');
  return command
    .option('--key <hex>', "restricted channels: this reader's X25519 secret key")
    .option(
      '--epoch-key <epoch:hex>',
      'restricted channels: an epoch key held already (repeatable)',
      collectEpochKey,
    )
    .option('--did <did>', "the meter's DID: keys come from its document history on the Tangle")
    .option('--did-origin <outputId>', 'the output that created the DID alias (found without an indexer)')
    .option(
      '--public-key <hex>',
      "the meter's Ed25519 public key, given out of band (repeatable)",
      collectPublicKey,
    )
    .option('--json', 'print the full result as JSON');
}

const program = new Command('tanglewatt-channels')
  .description('Verify TangleWatt meter channels and the payments tied to them, from the Tangle alone')
  .exitOverride()
  .showHelpAfterError();

interface VerifyOptions extends Omit<KeyOptions, 'channel' | 'node'> {
  node?: string;
  indexer?: string;
  address?: string;
  channel?: string;
  tx?: string;
  transaction?: string;
  paymentKey?: string;
  period?: string;
  blocks?: IndexedBlock[];
  keyFile?: string;
  tariff?: TariffHistory;
  cycle?: string;
}

/**
 * The rest of the story from the transaction alone (or from the period id, through the indexer): the payment
 * names its channel messages, their epoch announcements and their signer.
 */
async function verifyFromPayment(options: VerifyOptions, transactionId: string | undefined): Promise<void> {
  const readerSecretKey = options.keyFile
    ? readKeyFile(options.keyFile)
    : options.key
      ? hex32('reader key')(options.key)
      : undefined;
  // Keys named on the command line win over what the payment names.
  if (options.did && !options.didOrigin)
    throw new InvalidArgumentError('--did needs --did-origin (the alias origin output id)');
  const given = options.publicKey?.length
    ? {
        signers: staticSigners(options.publicKey),
        source: `${options.publicKey.length} key(s) given out of band`,
      }
    : undefined;
  const ref: PeriodRef = transactionId
    ? {
        transactionId,
        ...(options.paymentKey !== undefined ? { paymentKey: options.paymentKey } : {}),
        ...(options.period !== undefined ? { periodId: options.period } : {}),
      }
    : { periodId: options.period!, ...(options.address ? { payer: options.address } : {}) };
  const { periods: verdicts } = await verifyPeriods([ref], {
    ...(options.node ? { api: new NodeApi(options.node) } : {}),
    ...(options.indexer ? { indexer: indexerOf(options.indexer) } : {}),
    ...(readerSecretKey ? { readerSecretKey } : {}),
    ...(options.epochKey ? { epochKeys: options.epochKey } : {}),
    ...(given ? { signers: given } : {}),
    ...(options.did && options.didOrigin
      ? { did: { did: options.did, originOutputId: options.didOrigin } }
      : {}),
    resolveDid: didResolver(options.node),
  });
  const priced = tariffChecks(verdicts, options.tariff);
  if (options.json) {
    const out = verdicts.map(({ channel, ...rest }) => ({
      ...rest,
      failures: channel?.failures ?? [],
      ...(options.tariff ? { tariff: priced.find((c) => c.paymentKey === rest.paymentKey) } : {}),
    }));
    process.stdout.write(`${JSON.stringify(out, jsonReplacer, 2)}\n`);
  } else {
    for (const v of verdicts) {
      const about = v.ok ? `; period ${v.payment?.periodId ?? v.paymentKey}; signer: ${v.signer}` : '';
      process.stdout.write(`${verdictWord(v)}: ${v.detail}${about}\n`);
    }
    for (const check of priced) process.stdout.write(`${tariffLine(check)}\n`);
  }
  process.exitCode = exitStatus(verdicts, priced);
}

withKeyOptions(
  program
    .command('verify-period')
    .description(
      "check that a payment's readingsHash is the Merkle root of the period's verified channel messages: " +
        'from the transaction alone (--tx), or from blocks listed by hand (--blocks)',
    )
    .option('--tx <txId>', 'the payment transaction (the payment names its channel messages)')
    .option('--transaction <txId>', 'the same as --tx')
    .option('--key-file <file>', "restricted channels: this reader's X25519 secret key, in a file")
    .option(
      '--period <periodId>',
      'only the payment of this period (default: every payment in --tx); without --tx, found through --indexer',
    )
    .option('--indexer <url>', 'the community indexer: finds payments by period id, serves pruned blocks')
    .option('--address <bech32>', "with --period: only the payments this payer's transactions made")
    .option(
      '--payment-key <key>',
      "only the payment with this idempotency key in the transaction's tanglewatt/pay/v1 data",
    )
    .option(
      '--blocks <file|list>',
      "by hand: the period's blocks in sequence order (needs --channel)",
      parseBlocks,
    )
    .option(
      '--tariff <file>',
      "also recompute each payee's amount from the period's readings under this tariff (JSON)",
      parseTariffFile,
    )
    .option(
      '--cycle <cycleId>',
      "a net cycle's settlement (e.g. 2026-01), found through --indexer (--address: the payer's), recomputed " +
        "from all the cycle's messages under --tariff",
    ),
  false,
  false,
).action(async (options: VerifyOptions) => {
  if (options.cycle !== undefined) return verifyCycleFromIndexer({ ...options, cycle: options.cycle });
  const transactionId = options.tx ?? options.transaction;
  if (!options.node && !options.indexer)
    throw new InvalidArgumentError('give --node <url> or --indexer <url>');
  if (!transactionId && !(options.period && options.indexer))
    throw new InvalidArgumentError(
      'give --tx <transactionId> (the payment transaction), or --period <periodId> with --indexer',
    );
  if (!options.blocks) return verifyFromPayment(options, transactionId);
  if (!transactionId || !options.node) throw new InvalidArgumentError('--blocks needs --tx and --node');
  if (!options.channel) throw new InvalidArgumentError('--blocks needs --channel <id>');
  if (options.paymentKey === undefined) throw new InvalidArgumentError('--blocks needs --payment-key <key>');
  const keyOptions = { ...options, channel: options.channel, node: options.node };
  const { signers, source } = await signersFor(keyOptions);
  const verdict = await verifyPeriod({
    api: new NodeApi(options.node),
    transactionId,
    paymentKey: options.paymentKey,
    channelId: options.channel,
    blockIds: options.blocks.map((b) => b.blockId),
    signers,
    ...readKeys(keyOptions),
    ...(options.keyFile ? { readerSecretKey: readKeyFile(options.keyFile) } : {}),
  });
  const priced = tariffChecks([verdict], options.tariff);
  if (options.json) {
    const { channel, ...rest } = verdict;
    const tariff = options.tariff ? { tariff: priced[0] } : {};
    process.stdout.write(
      `${JSON.stringify({ ...rest, failures: channel?.failures ?? [], ...tariff }, jsonReplacer, 2)}\n`,
    );
  } else {
    process.stdout.write(`${verdict.ok ? 'PASS' : `FAIL ${verdict.code}`}: ${verdict.detail}\n`);
    process.stdout.write(`signers: ${source}\n`);
    if (verdict.readingsHash) process.stdout.write(`readingsHash  ${verdict.readingsHash}\n`);
    if (verdict.computedRoot) process.stdout.write(`computed root ${verdict.computedRoot}\n`);
    for (const check of priced) process.stdout.write(`${tariffLine(check)}\n`);
  }
  process.exitCode = verdict.ok && priced.every((c) => c.ok) ? 0 : 1;
});

withKeyOptions(
  program
    .command('read')
    .description('read and verify a channel: from its blocks (seq order), or walking back from the newest')
    .option(
      '--blocks <file|list>',
      'blocks: ids in seq order, or JSON [{seq, blockId}] (the writer index)',
      parseBlocks,
    )
    .option('--newest <blockId>', 'walk the chain back from this block instead')
    .option('--all', 'report every failure, not only the first'),
).action(async (options: KeyOptions & { blocks?: IndexedBlock[]; newest?: string; all?: boolean }) => {
  const api = new NodeApi(options.node);
  const { signers } = await signersFor(options);
  const keys = readKeys(options);
  let source: NodeBlockSource | { list: () => Promise<Awaited<ReturnType<typeof followChain>>['entries']> };
  let startAnywhere = false;
  let fromSeq = 0;
  if (options.newest) {
    const walked = await followChain(api, options.newest, keys);
    if (walked.stopped)
      process.stderr.write(`walk stopped at ${walked.stopped.blockId}: ${walked.stopped.detail}\n`);
    source = { list: async () => walked.entries };
    startAnywhere = true;
  } else if (options.blocks) {
    source = new NodeBlockSource(api, options.blocks);
    startAnywhere = options.blocks.every((b) => b.seq === undefined);
    fromSeq = options.blocks[0]?.seq ?? 0; // an index may start mid-channel (one period, say)
  } else throw new InvalidArgumentError('give --blocks or --newest');
  const result = await readChannel(
    { get: async () => undefined, list: () => source.list() },
    {
      channelId: options.channel,
      signers,
      startAnywhere,
      fromSeq,
      allFailures: options.all ?? false,
      ...keys,
    },
  );
  if (options.json) process.stdout.write(`${JSON.stringify(result, jsonReplacer, 2)}\n`);
  else printRead(result);
  process.exitCode = result.ok ? 0 : 1;
});

program
  .command('resolve-did')
  .description("a meter DID's current document and the key history readers verify with")
  .requiredOption('--node <url>', 'HORNET REST API')
  .requiredOption('--did <did>', 'the DID')
  .requiredOption('--did-origin <outputId>', 'the output that created its alias')
  .action(async (options: { node: string; did: string; didOrigin: string }) => {
    const resolved = await resolveMeterDid({
      nodeUrl: options.node,
      ref: { did: options.did, originOutputId: options.didOrigin },
    });
    const { signers: _signers, versions, ...rest } = resolved;
    const history = versions.map(({ publicKeys: _k, ...v }) => v);
    process.stdout.write(`${JSON.stringify({ ...rest, versions: history }, null, 2)}\n`);
  });

program
  .command('keygen')
  .description(
    'a new key pair, as hex: --meter for Ed25519 signing (with its channel id), else X25519 for a reader',
  )
  .option('--meter', 'an Ed25519 meter signing key')
  .action((options: { meter?: boolean }) => {
    if (options.meter) {
      const secretKey = newEd25519SecretKey();
      const publicKey = ed25519PublicKey(secretKey);
      process.stdout.write(
        `${JSON.stringify({ type: 'ed25519', secretKey: toHex(secretKey), publicKey: toHex(publicKey), channelId: channelIdHex(publicKey) }, null, 2)}\n`,
      );
    } else {
      const secretKey = newX25519SecretKey();
      process.stdout.write(
        `${JSON.stringify({ type: 'x25519', secretKey: toHex(secretKey), publicKey: toHex(x25519PublicKey(secretKey)) }, null, 2)}\n`,
      );
    }
  });

program
  .command('public-key')
  .description(
    "the public key of a key file: a meter's Ed25519 signing key (with its channel id), or --reader an X25519 reader key",
  )
  .argument(
    '<file>',
    'the secret key: 64 hex digits (the meter-agent keeps it in channel/signing.key), or keygen JSON',
  )
  .option('--reader', 'an X25519 reader key')
  .action((file: string, options: { reader?: boolean }) => {
    if (options.reader) {
      const secretKey = readKeyFile(file, 'X25519', 'key file');
      process.stdout.write(
        `${JSON.stringify({ type: 'x25519', publicKey: toHex(x25519PublicKey(secretKey)) }, null, 2)}\n`,
      );
      return;
    }
    const publicKey = ed25519PublicKey(readKeyFile(file, 'Ed25519', 'key file'));
    process.stdout.write(
      `${JSON.stringify({ type: 'ed25519', publicKey: toHex(publicKey), channelId: channelIdHex(publicKey) }, null, 2)}\n`,
    );
  });

addRecordCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  // Thrown by an action (not while Commander parsed the options), so nobody has printed it yet.
  if (error instanceof InvalidArgumentError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  // Commander has printed its own usage errors (and help, which exits 0).
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
    return;
  }
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
