import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/http';
import { classifyQuery } from './classify';
import { resolveQuery } from './resolve';

const id = `0x${'ab'.repeat(32)}`;
const notFound = () => Promise.reject(new ApiError('http', 'not found', '', 404, 'NOT_FOUND'));

function client(found: Partial<Record<'block' | 'tx' | 'milestone', unknown>>) {
  const calls: string[] = [];
  const track = <T>(call: string, result: () => Promise<T>) => {
    calls.push(call);
    return result();
  };
  const c = {
    block: (x: string) =>
      track(`block ${x}`, () => (found.block ? Promise.resolve(found.block) : notFound())),
    blockMetadata: () =>
      track('blockMetadata', () => Promise.resolve({ blockId: id, parents: [], isSolid: true })),
    transactionBlock: () => track('tx', () => (found.tx ? Promise.resolve(found.tx) : notFound())),
    transactionMetadata: () =>
      track('txMetadata', () => Promise.resolve({ blockId: '0xb', parents: [], isSolid: true })),
    milestone: (x: string | number) =>
      track(`milestone ${x}`, () => (found.milestone ? Promise.resolve(found.milestone) : notFound())),
    output: notFound,
    address: notFound,
  };
  return { c: c as unknown as Parameters<typeof resolveQuery>[0], calls };
}

describe('resolveQuery', () => {
  it('tries block, then transaction, then milestone for a 32-byte id', async () => {
    const none = client({});
    expect((await resolveQuery(none.c, classifyQuery(id))).kind).toBe('notFound');
    expect(none.calls).toEqual([`block ${id}`, 'tx', `milestone ${id}`]);

    const tx = client({ tx: { parents: [], protocolVersion: 2, nonce: '0' } });
    expect(await resolveQuery(tx.c, classifyQuery(id))).toMatchObject({
      kind: 'transaction',
      transactionId: id,
    });
    expect(tx.calls).toEqual([`block ${id}`, 'tx', 'txMetadata']);

    const ms = client({ milestone: { index: 3 } });
    expect(await resolveQuery(ms.c, classifyQuery(id))).toMatchObject({ kind: 'milestone', milestoneId: id });
  });

  it('stops at the first failure that is not "not found"', async () => {
    const broken = client({});
    broken.c.block = () => Promise.reject(new ApiError('http', 'node down', '', 503, 'NODE_UNREACHABLE'));
    await expect(resolveQuery(broken.c, classifyQuery(id))).rejects.toThrow('node down');
  });

  it('answers channel ids without asking anyone', async () => {
    const none = client({});
    expect(await resolveQuery(none.c, classifyQuery('channel:abc'))).toEqual({
      kind: 'unavailable',
      message: 'Channels are not available yet.',
    });
    expect(none.calls).toEqual([]);
  });
});
