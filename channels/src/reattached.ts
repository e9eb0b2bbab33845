/**
 * A channel block no milestone referenced is posted again by its meter: the same tag and bytes in a new
 * block (meter-agent's channel-reattach). A payment, or the next message, may still name the first block,
 * which no ledger holds. The message is then found by its tag among the blocks milestones did reference:
 * the channel's public tag, or the restricted tag of its seq under each epoch key held. A block found so is
 * taken only if it opens to the same seq and, when the next message is known, its bytes hash to the
 * prevHash that message signed; the payment's Merkle root then checks every message's hash as usual.
 */
import { equalBytes, fromHex } from './bytes.js';
import { epochSubkeys, messageHash, publicTag, restrictedTag } from './crypto.js';
import { type OpenKeys, openWire } from './message.js';
import { type BlockApi, fetchBlockEntry, type SourceEntry } from './sources.js';

/** The tags message `seq` of the channel may carry: its public tag, and its restricted tag per epoch key. */
export function tagsOfSeq(channelId: string, seq: number, keys: OpenKeys): string[] {
  const restricted = keys.epochKeys.entries().map(([, key]) => restrictedTag(epochSubkeys(key), seq));
  return [publicTag(fromHex(channelId, 32, 'channel id')), ...new Set(restricted)];
}

function holds(bytes: Uint8Array, seq: number, keys: OpenKeys, expectedHash?: Uint8Array): boolean {
  if (expectedHash && !equalBytes(messageHash(bytes), expectedHash)) return false;
  const opened = openWire(bytes, keys);
  return opened.ok && opened.inner.header.seq === seq;
}

/**
 * Message `seq` of the channel posted again, from the tag index; undefined when the source has no tag index
 * or no referenced block with its tag holds that message.
 */
export async function findReattached(
  api: BlockApi,
  channelId: string,
  seq: number,
  keys: OpenKeys,
  expectedHash?: Uint8Array,
): Promise<SourceEntry | undefined> {
  if (!api.taggedBlocks) return undefined;
  for (const tag of tagsOfSeq(channelId, seq, keys)) {
    for (const { blockId, data } of await api.taggedBlocks(tag)) {
      // The index's copy of the data rules a block out without fetching it; the block itself is what counts.
      if (data !== undefined && !holds(fromHex(data.replace(/^0x/, '')), seq, keys, expectedHash)) continue;
      const entry = await fetchBlockEntry(api, blockId);
      if (entry.bytes && holds(entry.bytes, seq, keys, expectedHash)) return entry;
    }
  }
  return undefined;
}
