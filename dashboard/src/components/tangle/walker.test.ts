import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/http';
import type { BlockJson, BlockMetadata } from '../../api/wallet';
import { TangleWalker } from './walker';

/** A chain of milestone blocks m1 ← m2 ← … ← m<n>, plus a transaction t on m<n>. */
function fakeTangle(n: number) {
  const blocks = new Map<string, BlockJson>();
  const meta = new Map<string, BlockMetadata>();
  for (let i = 1; i <= n; i++) {
    const parents = i > 1 ? [`m${i - 1}`] : [];
    blocks.set(`m${i}`, { protocolVersion: 2, parents, nonce: '0', payload: { type: 7, index: i } });
    meta.set(`m${i}`, {
      blockId: `m${i}`,
      parents,
      isSolid: true,
      referencedByMilestoneIndex: i + 1,
      ledgerInclusionState: 'noTransaction',
    });
  }
  blocks.set('t', { protocolVersion: 2, parents: [`m${n}`], nonce: '0', payload: { type: 6 } });
  meta.set('t', { blockId: 't', parents: [`m${n}`], isSolid: true });
  const calls: string[] = [];
  const client = {
    block: async (id: string) => {
      calls.push(`block ${id}`);
      const b = blocks.get(id);
      if (!b) throw new ApiError('http', 'not found', id, 404, 'NOT_FOUND');
      return b;
    },
    blockMetadata: async (id: string) => {
      calls.push(`meta ${id}`);
      const m = meta.get(id);
      if (!m) throw new ApiError('http', 'not found', id, 404, 'NOT_FOUND');
      return m;
    },
  };
  return { client, calls, meta };
}

describe('TangleWalker', () => {
  it('walks parents from the tips, bounded by milestones back', async () => {
    const { client } = fakeTangle(20);
    const walker = new TangleWalker(client, { milestonesBack: 3, requestBudget: 1000 });
    const blocks = await walker.walk(['t'], 20);
    const ids = blocks.map((b) => b.id);
    expect(ids[0]).toBe('t');
    // m20..m17 are referenced by 21..18 (≥ 17); m16 is referenced by 17 = 20 - 3, still in; m15 by 16 stops.
    expect(ids).toEqual(['t', 'm20', 'm19', 'm18', 'm17', 'm16', 'm15']);
    const t = blocks[0]!;
    expect(t).toMatchObject({ kind: 'transaction', state: 'pending', tip: true });
    expect(blocks[1]).toMatchObject({
      kind: 'milestone',
      state: 'referenced',
      milestoneIndex: 20,
      referencedBy: 21,
    });
  });

  it('caches blocks and final metadata; asks again only for unreferenced metadata after a new milestone', async () => {
    const { client, calls, meta } = fakeTangle(3);
    const walker = new TangleWalker(client, { milestonesBack: 10, requestBudget: 1000 });
    await walker.walk(['t'], 3);
    calls.length = 0;
    await walker.walk(['t'], 3);
    expect(calls).toEqual([]);
    meta.set('t', { ...meta.get('t')!, referencedByMilestoneIndex: 4, ledgerInclusionState: 'conflicting' });
    await new Promise((r) => setTimeout(r, 2));
    const blocks = await walker.walk(['t'], 4);
    expect(calls).toEqual(['meta t']);
    expect(blocks[0]).toMatchObject({ state: 'conflicting', referencedBy: 4 });
  });

  it('respects the window size and the request budget', async () => {
    const { client, calls } = fakeTangle(100);
    const walker = new TangleWalker(client, { maxBlocks: 10, milestonesBack: 1000, requestBudget: 1000 });
    expect(await walker.walk(['t'], 100)).toHaveLength(10);
    const budgeted = new TangleWalker(client, { maxBlocks: 60, milestonesBack: 1000, requestBudget: 6 });
    calls.length = 0;
    await budgeted.walk(['t'], 100);
    expect(calls.length).toBeLessThanOrEqual(6);
  });

  it('leaves out blocks the node does not have, and fails when nothing answers', async () => {
    const { client } = fakeTangle(2);
    const walker = new TangleWalker(client);
    expect((await walker.walk(['gone', 't'], 2)).map((b) => b.id)).not.toContain('gone');
    const down = new TangleWalker({
      block: async () => {
        throw new ApiError('network', 'down', '');
      },
      blockMetadata: async () => {
        throw new ApiError('network', 'down', '');
      },
    });
    await expect(down.walk(['t'], 2)).rejects.toThrow('down');
  });

  it('reports each generation as it loads, so a slow walk draws early', async () => {
    const { client } = fakeTangle(5);
    const walker = new TangleWalker(client, { milestonesBack: 10, requestBudget: 1000 });
    const seen: string[][] = [];
    const blocks = await walker.walk(['t'], 5, undefined, (partial) => seen.push(partial.map((b) => b.id)));
    expect(seen[0]).toEqual(['t']);
    expect(seen[1]).toEqual(['t', 'm5']);
    expect(seen.every((ids, i) => i === 0 || ids.length > seen[i - 1]!.length)).toBe(true);
    expect(blocks.map((b) => b.id)).toEqual(['t', 'm5', 'm4', 'm3', 'm2', 'm1']);
  });

  it('asks nothing more after its deadline and returns what it has', async () => {
    const { client, calls } = fakeTangle(30);
    const slow = {
      block: async (id: string) => {
        await new Promise((r) => setTimeout(r, 20));
        return client.block(id);
      },
      blockMetadata: async (id: string) => {
        await new Promise((r) => setTimeout(r, 20));
        return client.blockMetadata(id);
      },
    };
    const walker = new TangleWalker(slow, { milestonesBack: 1000, requestBudget: 1000, deadlineMs: 70 });
    const blocks = await walker.walk(['t'], 30);
    // Each generation takes ~20 ms, so a handful load before the deadline, not all 31.
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.length).toBeLessThan(31 * 2);
    expect(blocks[0]).toMatchObject({ id: 't', kind: 'transaction' });
  });
});
