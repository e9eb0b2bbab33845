/**
 * The records commands of tanglewatt-channels:
 *   export-records  a channel's messages as verifiable records (JSON Lines), found through the indexer
 *                   (or walking back from payments or a block on a node), verified before they are written
 *   verify-records  the standalone check of such a file: signatures, numbering, chain, and the ledger
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { IndexerApi, NodeApi } from '@tanglewatt/ledger';
import { type Command, InvalidArgumentError } from 'commander';
import { collectPublicKey, hex32, readKeyFile } from './cli-common.js';
import {
  assertChannelOfDid,
  type Bound,
  channelIdHex,
  channelRefOf,
  channelRefsOf,
  describedPayment,
  exportRecords,
  fromHex,
  ledgerBlocks,
  type PaymentChannelRef,
  paymentsOf,
  recordLine,
  resolveMeterDid,
  type SignerKeys,
  staticSigners,
  toHex,
  verifyRecords,
} from './node.js';

/** The indexer's client; its bearer token, when it has one, comes from TANGLEWATT_INDEXER_TOKEN. */
export function indexerOf(url: string): IndexerApi {
  const token = process.env.TANGLEWATT_INDEXER_TOKEN;
  return new IndexerApi(url, token ? { token } : {});
}

/** `--from`/`--to`: a sequence number, or a date (ISO 8601). */
function parseBound(option: string) {
  return (value: string): Bound => {
    if (/^[0-9]+$/.test(value)) return { seq: Number(value) };
    const ms = Date.parse(value);
    if (Number.isNaN(ms))
      throw new InvalidArgumentError(`${option}: a sequence number or a date (ISO 8601), not "${value}"`);
    return { ms };
  };
}

function collect(value: string, previous: string[] = []): string[] {
  if (!/^0x[0-9a-f]{64}$/.test(value))
    throw new InvalidArgumentError(`not an id (0x and 64 hex digits): ${value}`);
  return [...previous, value];
}

interface SignerOptions {
  node?: string;
  did?: string;
  didOrigin?: string;
  publicKey?: Uint8Array[];
}

/** Who signs: keys given, a DID's history, or the channel's own key as the payments name it. */
async function signersOf(
  options: SignerOptions,
  channelId: string,
  refs: PaymentChannelRef[],
): Promise<{ signers: SignerKeys; publicKeys: Uint8Array[]; did?: string; source: string }> {
  if (options.publicKey?.length)
    return {
      signers: staticSigners(options.publicKey),
      publicKeys: options.publicKey,
      source: `${options.publicKey.length} key(s) given`,
    };
  const did =
    options.did !== undefined
      ? { did: options.did, origin: options.didOrigin }
      : refs.find((r) => r.did)
        ? { did: refs.find((r) => r.did)!.did!, origin: refs.find((r) => r.did)!.didOrigin }
        : undefined;
  if (did) {
    if (!did.origin)
      throw new InvalidArgumentError(`the DID ${did.did} needs --did-origin (the alias origin output id)`);
    if (!options.node) throw new InvalidArgumentError(`resolving the DID ${did.did} needs --node`);
    const resolved = await resolveMeterDid({
      nodeUrl: options.node,
      ref: { did: did.did, originOutputId: did.origin },
    });
    assertChannelOfDid(channelId, resolved);
    return {
      signers: resolved.signers,
      publicKeys: resolved.versions.flatMap((v) => v.publicKeys),
      did: did.did,
      source: `${did.did} (${resolved.versions.length} document versions)`,
    };
  }
  const own = refs.map((r) => r.publicKey).find((k) => k && channelIdHex(fromHex(k, 32)) === channelId);
  if (own) {
    const key = fromHex(own, 32);
    return {
      signers: staticSigners([key]),
      publicKeys: [key],
      source: "the channel's own key (its id is the key's hash)",
    };
  }
  throw new InvalidArgumentError(
    "who signs? no payment names the channel's key or DID: give --public-key, or --did with --did-origin",
  );
}

interface ExportCliOptions extends SignerOptions {
  indexer?: string;
  channel: string;
  key?: string;
  keyFile?: string;
  from?: Bound;
  to?: Bound;
  out?: string;
  tx?: string[];
  newest?: string[];
}

interface VerifyCliOptions extends SignerOptions {
  indexer?: string;
  seq?: { from: number; to: number };
  each?: boolean;
  json?: boolean;
}

export function addRecordCommands(program: Command): void {
  program
    .command('export-records')
    .description(
      "a channel's messages as verifiable records (one JSON line each: the bytes the meter signed, its " +
        'signature and key, the block and milestone): found through --indexer, or from --tx/--newest on --node',
    )
    .requiredOption('--channel <id>', 'channel id (64 hex digits)', (v) => toHex(hex32('channel id')(v)))
    .option('--indexer <url>', 'the community indexer (keeps blocks the node pruned; finds them by tag)')
    .option('--node <url>', 'HORNET REST API: blocks the indexer has not reached, DIDs')
    .option('--key-file <file>', "restricted channels: this reader's X25519 secret key, in a file")
    .option('--key <hex>', "restricted channels: this reader's X25519 secret key")
    .option('--from <seq|date>', 'first message: a sequence number or a date', parseBound('--from'))
    .option('--to <seq|date>', 'last message: a sequence number or a date', parseBound('--to'))
    .option('--out <file>', 'write the records here (default: standard output)')
    .option(
      '--tx <txId>',
      'a payment transaction naming the messages (repeatable; for --node alone)',
      collect,
    )
    .option('--newest <blockId>', 'walk back from this block (repeatable; for --node alone)', collect)
    .option('--did <did>', "the meter's DID (keys from its history; needs --node)")
    .option('--did-origin <outputId>', 'the output that created the DID alias')
    .option('--public-key <hex>', "the meter's Ed25519 public key (repeatable)", collectPublicKey)
    .action(async (options: ExportCliOptions) => {
      if (!options.indexer && !options.node)
        throw new InvalidArgumentError('give --indexer <url> or --node <url>');
      if (!options.indexer && !options.tx?.length && !options.newest?.length)
        throw new InvalidArgumentError(
          'without --indexer, give --tx or --newest: where the channel’s messages are',
        );
      const indexer = options.indexer ? indexerOf(options.indexer) : undefined;
      const node = options.node ? new NodeApi(options.node) : undefined;
      const readerSecretKey = options.keyFile
        ? readKeyFile(options.keyFile)
        : options.key
          ? hex32('reader key')(options.key)
          : undefined;
      const payments: PaymentChannelRef[] = [];
      for (const tx of options.tx ?? []) {
        const found = node ? await paymentsOf(node, tx) : { error: '--tx needs --node' };
        if ('error' in found) throw new InvalidArgumentError(`--tx ${tx}: ${found.error}`);
        for (const raw of found.payments) {
          const described = describedPayment(raw, String((raw as { k?: unknown } | null)?.k ?? ''));
          const ref = 'payment' in described ? channelRefOf(described.payment) : described;
          if ('ref' in ref && ref.ref.id === options.channel) payments.push(ref.ref);
        }
      }
      const refs = [...payments, ...(indexer ? await channelRefsOf(indexer, options.channel) : [])];
      const signer = await signersOf(options, options.channel, refs);
      const result = await exportRecords({
        blocks: ledgerBlocks({ ...(indexer ? { indexer } : {}), ...(node ? { node } : {}) }),
        ...(indexer ? { indexer } : {}),
        channelId: options.channel,
        signers: signer.signers,
        publicKeys: signer.publicKeys,
        ...(signer.did ? { did: signer.did } : {}),
        ...(readerSecretKey ? { readerSecretKey } : {}),
        payments,
        ...(options.newest ? { starts: options.newest } : {}),
        ...(options.from ? { from: options.from } : {}),
        ...(options.to ? { to: options.to } : {}),
        milestone: async (index) =>
          indexer
            ? indexer.milestone(index)
            : node
              ? { timestamp: (await node.milestoneByIndex(index)).timestamp }
              : undefined,
      });
      const text = result.records.map((r) => `${recordLine(r)}\n`).join('');
      if (options.out) writeFileSync(options.out, text);
      else process.stdout.write(text);
      for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
      const report = options.out ? process.stdout : process.stderr;
      for (const f of result.failures)
        report.write(
          `FAIL ${f.reason}: ${f.seq !== undefined ? `seq ${f.seq}` : `block ${f.blockId}`}: ${f.detail}\n`,
        );
      if (result.records.length === 0 && result.failures.length === 0)
        report.write(
          `FAIL NO_MESSAGES: no message of channel ${options.channel} found in that range (${options.indexer ? 'neither under its public tag nor named by a payment' : 'from the --tx/--newest given'})\n`,
        );
      const [first, last] = [result.records[0]?.seq, result.records.at(-1)?.seq];
      report.write(
        `exported ${result.records.length} records${first !== undefined ? ` (seq ${first}..${last})` : ''} of channel ${options.channel}; signer: ${signer.source}\n`,
      );
      process.exitCode = result.failures.length === 0 && result.records.length > 0 ? 0 : 1;
    });

  program
    .command('verify-records')
    .description(
      'check a records file: every signature, continuous numbering, the chain of previous blocks, and with ' +
        '--node/--indexer each block on the ledger; one FAIL line per problem',
    )
    .argument('<file>', 'records, one JSON line each (export-records writes them)')
    .option('--node <url>', 'check each block on this node (and resolve --did)')
    .option('--indexer <url>', 'check each block on the indexer (it keeps blocks the node pruned)')
    .option('--did <did>', "the meter's DID: the signing keys must be ones its history lists (needs --node)")
    .option('--did-origin <outputId>', 'the output that created the DID alias')
    .option(
      '--public-key <hex>',
      "the meter's Ed25519 public key, given out of band (repeatable)",
      collectPublicKey,
    )
    .option('--seq <from..to>', 'the range the file must cover exactly', (v) => {
      const m = /^([0-9]+)\.\.([0-9]+)$/.exec(v);
      if (!m || Number(m[1]) > Number(m[2]))
        throw new InvalidArgumentError('--seq: <from>..<to>, e.g. 0..99');
      return { from: Number(m[1]), to: Number(m[2]) };
    })
    .option('--each', 'also print a PASS line for every record that verifies')
    .option('--json', 'print the full verdict as JSON')
    .action(async (file: string, options: VerifyCliOptions) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new InvalidArgumentError(
          `${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`,
        );
      }
      let signers: SignerKeys | undefined;
      let source = "the channel's own key (its id is the key's hash)";
      if (options.did || options.publicKey?.length) {
        const channelId = (
          JSON.parse(text.split('\n').find((l) => l.trim()) ?? '{}') as { channelId?: string }
        ).channelId;
        if (!channelId) throw new InvalidArgumentError(`${file}: the first record names no channelId`);
        const s = await signersOf(options, channelId, []);
        signers = s.signers;
        source = s.source;
      }
      const indexer = options.indexer ? indexerOf(options.indexer) : undefined;
      const node = options.node ? new NodeApi(options.node) : undefined;
      const verdict = await verifyRecords(text, {
        ...(signers ? { signers } : {}),
        ...(indexer || node
          ? { ledger: ledgerBlocks({ ...(indexer ? { indexer } : {}), ...(node ? { node } : {}) }) }
          : {}),
        ...(options.seq ? { expectSeq: options.seq } : {}),
      });
      if (options.json)
        process.stdout.write(
          `${JSON.stringify(verdict, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`,
        );
      else {
        if (options.each)
          for (const r of verdict.records) process.stdout.write(`PASS seq ${r.seq} (line ${r.line})\n`);
        for (const f of verdict.failures)
          process.stdout.write(
            `FAIL ${f.code}: ${[f.line !== undefined ? `line ${f.line}` : '', f.seq !== undefined ? `seq ${f.seq}` : ''].filter(Boolean).join(', ')}${f.line !== undefined || f.seq !== undefined ? ': ' : ''}${f.detail}\n`,
          );
        if (verdict.ok)
          process.stdout.write(
            `PASS: ${verdict.records.length} records (seq ${verdict.seqRange![0]}..${verdict.seqRange![1]}) of channel ${verdict.channelId}; ${verdict.energyMWs} mWs in the periods they close; signer: ${source}${verdict.onLedger ? '; every block checked on the ledger' : ''}\n`,
          );
      }
      process.exitCode = verdict.ok ? 0 : 1;
    });
}
