/**
 * The evidence a bill is checked against, gathered from the community indexer (and a node, for blocks the
 * indexer has not reached): the household's payments as the ledger holds them, each purchase's readings
 * verified through channels' verifyPeriods, and, when given, the meter's exported records verified.
 */
import {
  ledgerBlocks,
  type PaymentApi,
  type VerifyPaymentOptions,
  verifyPeriods,
  verifyRecords,
} from '@tanglewatt/channels';
import type { BillJson } from '@tanglewatt/contract';
import type { IndexerApi, NodeApi } from '@tanglewatt/ledger';
import { isAllocationPeriod } from './describe.js';
import { readPayments } from './reader.js';
import { type BillEvidence, type BillFinding, checkBill } from './verify.js';

export interface VerifyBillOptions {
  indexer: IndexerApi;
  node?: NodeApi;
  /** X25519 secret key of a reader of a restricted channel the purchases are metered on. */
  readerSecretKey?: Uint8Array;
  /** The meter's records as `export-records` writes them (JSON Lines). */
  recordsText?: string;
  /** Resolves a DID a purchase's channel names (channels' didResolver), for meters that rotated keys. */
  resolveDid?: VerifyPaymentOptions['resolveDid'];
}

export interface BillVerdict {
  findings: BillFinding[];
  /** Reader warnings met while reading the household's payments (odd descriptions). */
  warnings: string[];
}

/** Checks the bill against the ledger and the meter's readings; trusts nothing the bill says. */
export async function verifyBill(bill: BillJson, options: VerifyBillOptions): Promise<BillVerdict> {
  const warnings: string[] = [];
  const payments = await readPayments(options.indexer, bill.household, (m) => warnings.push(m));
  // An allocation payment's readings are every community meter's: `allocate verify` checks it.
  const bought = bill.lines.filter((l) => l.direction === 'bought' && !isAllocationPeriod(l.periodId));
  const api = options.node as PaymentApi | undefined;
  const { periods } =
    bought.length === 0
      ? { periods: [] }
      : await verifyPeriods(
          bought.map((l) => ({ transactionId: l.transactionId, paymentKey: l.key })),
          {
            indexer: options.indexer,
            ...(api ? { api } : {}),
            ...(options.readerSecretKey ? { readerSecretKey: options.readerSecretKey } : {}),
            ...(options.resolveDid ? { resolveDid: options.resolveDid } : {}),
          },
        );
  const evidence: BillEvidence = { payments, periods };
  if (options.recordsText !== undefined)
    evidence.records = await verifyRecords(options.recordsText, {
      ledger: ledgerBlocks({ indexer: options.indexer, ...(options.node ? { node: options.node } : {}) }),
    });
  return { findings: checkBill(bill, evidence), warnings };
}
