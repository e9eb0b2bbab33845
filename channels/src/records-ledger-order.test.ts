import { describe, expect, it } from 'vitest';
import { toHex, utf8ToBytes } from './bytes.js';
import { ed25519PublicKey } from './crypto.js';
import { recordLine } from './record-view.js';
import { exportRecords, ledgerBlocks, type RecordIndexer } from './records-export.js';
import { verifyRecords } from './records-verify.js';
import { staticSigners } from './signers.js';
import type { BlockApi } from './sources.js';
import { deterministicRandom, type FakePoster, twoHourlyPeriods } from './testing.js';

const T0 = Date.parse('2026-11-24T05:00:00Z');
const meterKey = deterministicRandom('records ledger order')(32);
const publicKey = ed25519PublicKey(meterKey);
const notFound = () => Object.assign(new Error('not found'), { code: 'NOT_FOUND' });
const hex = (bytes: Uint8Array) => `0x${toHex(bytes)}`;

type Block = { tag: string; bytes: Uint8Array };

/**
 * The community indexer as the ledger leaves it: it lists under a tag the blocks milestones referenced, in
 * milestone order (`listed`), each with its data; blocks not referenced yet it does not know.
 */
function indexerOf(listed: [string, Block][]): RecordIndexer {
  const items = listed.map(([blockId, b], i) => ({
    blockId,
    tag: hex(utf8ToBytes(b.tag)),
    data: hex(b.bytes),
    milestoneIndex: 100 + i,
    ledgerInclusionState: 'noTransaction',
  }));
  const byTag = (tag: string) => items.filter((i) => i.tag === hex(utf8ToBytes(tag)));
  const find = (id: string) => {
    const i = items.findIndex((x) => x.blockId === id);
    if (i < 0) throw notFound();
    return { block: listed[i]![1], item: items[i]! };
  };
  return {
    allTagBlocks: async (tag) => byTag(tag),
    tagBlocks: async (tag) => ({ items: byTag(tag) }),
    block: async (id) => {
      const { block } = find(id);
      return { payload: { type: 5, tag: hex(utf8ToBytes(block.tag)), data: hex(block.bytes) } };
    },
    blockMetadata: async (id) => ({ milestoneIndex: find(id).item.milestoneIndex }),
    milestone: async (index) => ({ milestoneId: `0x${'ab'.repeat(32)}`, timestamp: 1_764_000_000 + index }),
  };
}

/** A node holding every block posted; `unreferenced` ones no milestone referenced yet. */
function nodeOf(poster: FakePoster, unreferenced: Set<string> = new Set()): BlockApi {
  return {
    async block(id) {
      const b = poster.blocks.get(id);
      if (!b) throw notFound();
      return { payload: { type: 5, tag: hex(utf8ToBytes(b.tag)), data: hex(b.bytes) } };
    },
    async blockMetadata(id) {
      if (!poster.blocks.has(id)) throw notFound();
      return unreferenced.has(id) ? {} : { referencedByMilestoneIndex: 90 };
    },
  };
}

async function channel() {
  const { writer, poster } = await twoHourlyPeriods(meterKey, 'public', [], T0);
  const posted = poster.order.map((id): [string, Block] => [id, poster.blocks.get(id)!]);
  return { writer, poster, posted, last: posted.length - 1 };
}

async function exported(indexer: RecordIndexer, node: BlockApi | undefined, channelId: string) {
  const result = await exportRecords({
    blocks: ledgerBlocks({ indexer, ...(node ? { node } : {}) }),
    indexer,
    channelId,
    signers: staticSigners([publicKey]),
    publicKeys: [publicKey],
  });
  const text = result.records.map((r) => `${recordLine(r)}\n`).join('');
  return { ...result, seqs: result.records.map((r) => r.seq), verdict: await verifyRecords(text) };
}

describe('export-records over a ledger that references messages out of order', () => {
  it('a message referenced a milestone after the next one (the indexer lists the next first) is found along the chain', async () => {
    const { writer, poster, posted, last } = await channel();
    // Seq 5 is not referenced yet when the indexer already lists seq 6 onwards.
    const listed = posted.filter((_, seq) => seq !== 5);
    const indexer = indexerOf(listed);

    // Through the indexer alone the message cannot be had yet: one GAP, and a note saying why.
    const alone = await exported(indexer, undefined, writer.channelId);
    expect(alone.failures.map((f) => [f.reason, f.seq])).toEqual([['GAP', 5]]);
    expect(alone.notes.join('\n')).toMatch(
      /seq 6 names a previous block .*not referenced by a milestone yet/,
    );

    // With the node, where it is (and referenced by now): every message, and the records verify.
    const both = await exported(indexer, nodeOf(poster), writer.channelId);
    expect(both.failures).toEqual([]);
    expect(both.seqs).toEqual(Array.from({ length: last + 1 }, (_, i) => i));
    expect(both.records[5]!.ledger).toMatchObject({ blockId: posted[5]![0], milestoneIndex: 90 });
    expect(both.verdict.failures).toEqual([]);
    expect(both.verdict.ok).toBe(true);
  });

  it('a message no milestone referenced yet ends the export before it, with a note and no failure', async () => {
    const { writer, poster, posted, last } = await channel();
    const pending = last - 2;
    const indexer = indexerOf(posted.filter((_, seq) => seq !== pending));
    const result = await exported(indexer, nodeOf(poster, new Set([posted[pending]![0]])), writer.channelId);
    expect(result.failures).toEqual([]);
    expect(result.seqs).toEqual(Array.from({ length: pending }, (_, i) => i));
    expect(result.notes.join('\n')).toContain(
      `seq ${pending} is on the node but no milestone referenced it yet`,
    );
    expect(result.verdict.ok).toBe(true);
  });

  it('a message posted twice (a re-post after a post that seemed to fail) is taken from the block the next one names', async () => {
    const { writer, posted, last } = await channel();
    // The first post of seq 4 landed too, a milestone earlier than the re-post the writer kept.
    const twin: [string, Block] = [hex(new Uint8Array(32).fill(4)), posted[4]![1]];
    const listed = [...posted.slice(0, 4), twin, ...posted.slice(4)];
    const result = await exported(indexerOf(listed), undefined, writer.channelId);
    expect(result.failures).toEqual([]);
    expect(result.seqs).toEqual(Array.from({ length: last + 1 }, (_, i) => i));
    expect(result.records[4]!.ledger.blockId).toBe(writer.message(4)!.blockId);
    expect(result.notes.join('\n')).toContain('1 messages are in more than one block');
    expect(result.verdict.failures).toEqual([]);
  });

  it('a message posted again because no milestone referenced its first block: the copy on the ledger is exported, and verifies', async () => {
    const { writer, poster, posted, last } = await channel();
    // Seq 5's first block stays unreferenced (the next message names it); its bytes went out again.
    const again: [string, Block] = [hex(new Uint8Array(32).fill(5)), posted[5]![1]];
    const listed = [...posted.slice(0, 5), ...posted.slice(6), again];
    const result = await exported(
      indexerOf(listed),
      nodeOf(poster, new Set([posted[5]![0]])),
      writer.channelId,
    );
    expect(result.failures).toEqual([]);
    expect(result.seqs).toEqual(Array.from({ length: last + 1 }, (_, i) => i));
    expect(result.records[5]!.ledger.blockId).toBe(again[0]);
    expect(result.verdict.failures).toEqual([]);
    expect(result.verdict.ok).toBe(true);
  });
});
