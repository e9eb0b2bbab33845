/**
 * Reads the run's payments from the ledger twice, independently: through the community indexer (its
 * tagged-block index) and straight from a HORNET node's core API (every milestone's created outputs, then
 * the block that included each transaction). Both give the payments of included transactions only.
 */
import { readFile } from 'node:fs/promises';
import { IndexerApi, NodeApi, taggedDataOf, utf8ToHex } from '@tanglewatt/ledger';
import { type LedgerPayment, paymentsOfDescription } from './audit.js';

export const PAYMENT_TAG = 'tanglewatt/pay/v1';

/** Payments in included transactions the indexer holds under our payment tag, from milestone `from` on. */
export async function paymentsFromIndexer(indexerUrl: string, from: number): Promise<LedgerPayment[]> {
  const blocks = await new IndexerApi(indexerUrl, { timeoutMs: 30_000 }).allTagBlocks(PAYMENT_TAG, { from });
  return blocks
    .filter((b) => b.ledgerInclusionState === 'included')
    .flatMap((b) => paymentsOfDescription(b.data, b.blockId));
}

export const indexerHealth = (indexerUrl: string) =>
  new IndexerApi(indexerUrl, { timeoutMs: 30_000 }).health();

/** Blocks the milestones from..to referenced, by the indexer's milestone summaries, and their time span. */
export async function blocksReferenced(
  indexerUrl: string,
  from: number,
  to: number,
): Promise<{ blocks: number; seconds: number }> {
  const api = new IndexerApi(indexerUrl, { timeoutMs: 30_000 });
  let blocks = 0;
  let first: number | undefined;
  let last: number | undefined;
  for (let i = from; i <= to; i++) {
    const m = await api.milestone(i);
    blocks += m.blocksReferenced;
    first ??= m.timestamp;
    last = m.timestamp;
  }
  return { blocks, seconds: first !== undefined && last !== undefined ? last - first : 0 };
}

/**
 * Payments in included transactions, from the core API alone: the outputs each milestone created name
 * their transactions, and each transaction's included block carries its description.
 */
export async function paymentsFromNode(nodeUrl: string, from: number, to: number): Promise<LedgerPayment[]> {
  const api = new NodeApi(nodeUrl, { timeoutMs: 30_000 });
  const tag = utf8ToHex(PAYMENT_TAG);
  const out: LedgerPayment[] = [];
  for (let i = from; i <= to; i++) {
    const changes = await api.utxoChangesByIndex(i);
    // An output ID is the transaction ID (32 bytes) and a 2-byte index.
    const txIds = [...new Set(changes.createdOutputs.map((id) => id.slice(0, 66)))];
    for (let j = 0; j < txIds.length; j += 8) {
      const blocks = await Promise.all(txIds.slice(j, j + 8).map((tx) => api.includedBlock(tx)));
      const metas = await Promise.all(txIds.slice(j, j + 8).map((tx) => api.includedBlockMetadata(tx)));
      blocks.forEach((block, k) => {
        const tagged = taggedDataOf(metas[k]!.blockId, block);
        if (tagged && tagged.tag.toLowerCase() === tag.toLowerCase())
          out.push(...paymentsOfDescription(tagged.data, tagged.blockId));
      });
    }
  }
  return out;
}

/** CPU time a process used so far (utime + stime of /proc/<pid>/stat), in clock ticks; undefined if gone. */
export async function cpuTicks(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime is field 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Resident memory of a process (VmRSS), in MB; undefined if gone. */
export async function rssMB(pid: number): Promise<number | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(text)?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
