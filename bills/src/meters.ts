/**
 * The household's own meters, named in the bill config by their public signing key: a public channel's
 * messages are listed under its tag by the indexer (`tw/ch/v1/<first 16 bytes of the channel id>`), so the
 * cycle's messages are read, put in sequence order and verified under that key, whether or not any payment
 * names them. This is how a household that only sells gets its production readings.
 */
import {
  channelIdHex,
  channelIdOf,
  EpochKeyring,
  fetchBlockEntry,
  fromHex,
  openWire,
  publicTag,
  type SourceEntry,
  staticSigners,
  verifyEntries,
} from '@tanglewatt/channels';
import type { MeterReading } from './build.js';
import { type BillIndexer, indexerBlocks } from './indexer-blocks.js';

/** Messages a little outside the cycle still close or open its periods. */
const SLACK_MS = 3_600_000;

export async function readOwnMeter(
  api: BillIndexer,
  publicKeyHex: string,
  cycle: { fromMs: number; toMs: number },
  warn: (m: string) => void,
): Promise<MeterReading[]> {
  const publicKey = fromHex(publicKeyHex, 32, 'meter public key');
  const channelId = channelIdHex(publicKey);
  const name = `meter ${channelId.slice(0, 16)}…`;
  const listed = (await api.allTagBlocks(publicTag(channelIdOf(publicKey)))).filter(
    (b) =>
      b.milestoneTimestamp * 1000 >= cycle.fromMs - SLACK_MS &&
      b.milestoneTimestamp * 1000 < cycle.toMs + SLACK_MS,
  );
  if (listed.length === 0) {
    warn(
      `${name}: no public channel messages in the cycle (a restricted channel is read only through purchases)`,
    );
    return [];
  }
  const blocks = indexerBlocks(api);
  const entries: { seq: number; entry: SourceEntry }[] = [];
  for (const b of listed) {
    const entry = await fetchBlockEntry(blocks, b.blockId, { milestones: false });
    const opened = entry.bytes
      ? openWire(entry.bytes, { epochKeys: new EpochKeyring() }, 'public')
      : undefined;
    if (!opened?.ok) {
      warn(`${name}: block ${b.blockId} is not a readable message of it`);
      continue;
    }
    entries.push({ seq: opened.inner.header.seq, entry: { ...entry, seq: opened.inner.header.seq } });
  }
  entries.sort((a, b) => a.seq - b.seq);
  const read = verifyEntries(
    entries.map((e) => e.entry),
    { channelId, signers: staticSigners([publicKey]), startAnywhere: true, allFailures: true },
  );
  for (const f of read.failures.slice(0, 3)) warn(`${name}: ${f.reason} at seq ${f.seq ?? '?'}: ${f.detail}`);
  return read.messages.flatMap((m) =>
    m.summaries.map((s) => ({
      channelId,
      periodId: s.periodId,
      startMs: s.startMs,
      endMs: s.endMs,
      energyMWs: s.energyMWs,
    })),
  );
}
