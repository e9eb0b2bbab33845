import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ReattachingPoster } from './channel-reattach.js';

/** A node: blocks it was given, those a milestone referenced, and those it says to reattach. */
function fakeNode() {
  const posted: { blockId: string; tag: string; bytes: string }[] = [];
  const referenced = new Set<string>();
  const reattach = new Set<string>();
  let now = 0;
  const poster = new ReattachingPoster({
    postTaggedData: async (tag, bytes) => {
      const blockId = `0x${posted.length.toString(16).padStart(64, '0')}`;
      posted.push({ blockId, tag, bytes: Buffer.from(bytes).toString('hex') });
      return blockId;
    },
    blockMetadata: async (id) => ({
      ...(referenced.has(id) ? { referencedByMilestoneIndex: 7 } : {}),
      ...(reattach.has(id) ? { shouldReattach: true } : {}),
    }),
    nowMs: () => now,
    log: pino({ level: 'silent' }),
    reattachMs: 10_000,
  });
  return { poster, posted, referenced, reattach, advance: (ms: number) => (now += ms) };
}

describe('channel blocks no milestone referenced', () => {
  it('a referenced block is done; one still unreferenced after reattachMs goes out again, same tag and bytes', async () => {
    const node = fakeNode();
    const a = await node.poster.post('tw/ch/v1/aa', new Uint8Array([1, 2]));
    const b = await node.poster.post('tw/ch/v1/aa', new Uint8Array([3, 4]));
    node.referenced.add(a);
    node.advance(5_000);
    await node.poster.check();
    expect([node.posted.length, node.poster.unreferenced]).toEqual([2, 1]);

    node.advance(5_000);
    await node.poster.check();
    expect(node.posted.map((p) => p.bytes)).toEqual(['0102', '0304', '0304']);
    expect(node.posted[2]).toMatchObject({ tag: 'tw/ch/v1/aa' });
    expect(node.posted[2]!.blockId).not.toBe(b);

    // Once the new block is referenced, nothing more goes out.
    node.referenced.add(node.posted[2]!.blockId);
    node.advance(60_000);
    await node.poster.check();
    await node.poster.check();
    expect([node.posted.length, node.poster.unreferenced]).toEqual([3, 0]);
  });

  it('a block the node says to reattach goes out again at the first look; each check posts it at most once', async () => {
    const node = fakeNode();
    const a = await node.poster.post('t', new Uint8Array([9]));
    node.reattach.add(a);
    node.advance(4_999);
    await node.poster.check();
    expect(node.posted).toHaveLength(1);
    node.advance(1);
    await Promise.all([node.poster.check(), node.poster.check()]);
    expect(node.posted.map((p) => p.bytes)).toEqual(['09', '09']);
  });
});
