/** verify-period --cycle, and how verify-period words its verdicts and exit status. */
import { NodeApi } from '@tanglewatt/ledger';
import type { TariffHistory } from '@tanglewatt/tariff';
import { InvalidArgumentError } from 'commander';
import { hex32, readKeyFile } from './cli-common.js';
import { indexerOf } from './cli-records.js';
import { didResolver, staticSigners } from './node.js';
import { verifyCycle } from './verify-cycle.js';

export interface CycleOptions {
  cycle: string;
  node?: string;
  indexer?: string;
  address?: string;
  tariff?: TariffHistory;
  key?: string;
  keyFile?: string;
  epochKey?: [number, Uint8Array][];
  did?: string;
  didOrigin?: string;
  publicKey?: Uint8Array[];
  json?: boolean;
}

/** PASS, PENDING PENDING_INDEX (not indexed yet) or FAIL <CODE>. */
export const verdictWord = (v: { ok: boolean; code: string }) =>
  v.ok ? 'PASS' : v.code === 'PENDING_INDEX' ? 'PENDING PENDING_INDEX' : `FAIL ${v.code}`;

/** 0 all verified, 3 only messages not indexed yet stand in the way, 1 anything failed. */
export function exitStatus(
  verdicts: { ok: boolean; code: string }[],
  priced: { ok: boolean }[] = [],
): number {
  const failed = verdicts.filter((v) => !v.ok);
  if (failed.length === 0 && priced.every((c) => c.ok)) return 0;
  return failed.length > 0 && failed.every((v) => v.code === 'PENDING_INDEX') && priced.every((c) => c.ok)
    ? 3
    : 1;
}

/** --cycle: a net cycle's settlement recomputed from all the cycle's messages, one line per payment. */
export async function verifyCycleFromIndexer(options: CycleOptions): Promise<void> {
  if (!options.indexer)
    throw new InvalidArgumentError('--cycle needs --indexer <url> (it finds the payment)');
  if (!options.tariff)
    throw new InvalidArgumentError('--cycle needs --tariff <file> (it recomputes the amounts)');
  if (options.did && !options.didOrigin)
    throw new InvalidArgumentError('--did needs --did-origin (the alias origin output id)');
  const readerSecretKey = options.keyFile
    ? readKeyFile(options.keyFile)
    : options.key
      ? hex32('reader key')(options.key)
      : undefined;
  const verdicts = await verifyCycle({
    indexer: indexerOf(options.indexer),
    ...(options.node ? { api: new NodeApi(options.node) } : {}),
    cycleId: options.cycle,
    ...(options.address ? { payer: options.address } : {}),
    history: options.tariff,
    ...(readerSecretKey ? { readerSecretKey } : {}),
    ...(options.epochKey ? { epochKeys: options.epochKey } : {}),
    ...(options.publicKey?.length
      ? {
          signers: {
            signers: staticSigners(options.publicKey),
            source: `${options.publicKey.length} key(s) given out of band`,
          },
        }
      : {}),
    ...(options.did && options.didOrigin
      ? { did: { did: options.did, originOutputId: options.didOrigin } }
      : {}),
    resolveDid: didResolver(options.node),
  });
  if (options.json) process.stdout.write(`${JSON.stringify(verdicts, null, 2)}\n`);
  else for (const v of verdicts) process.stdout.write(`${verdictWord(v)}: ${v.detail}\n`);
  process.exitCode = exitStatus(verdicts);
}
