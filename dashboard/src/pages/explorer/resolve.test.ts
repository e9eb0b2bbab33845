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

  it("tries the configured meters' channels last, for a bare 64-hex id or channel:…", async () => {
    const hex = id.slice(2);
    const channel = {
      channelId: hex,
      mode: 'public' as const,
      signingPublicKey: '',
      lastSeq: 4,
      unposted: 0,
      pendingSamples: 0,
      awaitingRoots: [],
      lastError: null,
    };
    const meters = [
      { name: 'down', url: 'http://a', status: () => Promise.reject(new Error('unreachable')) },
      { name: 'other', url: 'http://b', status: () => Promise.resolve({ channel: null }) },
      {
        name: 'consumer',
        url: 'http://c',
        status: () =>
          Promise.resolve({
            channel: { ...channel, lastPostedSeq: 4, lastBlockId: null },
          }),
      },
    ];
    const none = client({});
    expect(await resolveQuery(none.c, classifyQuery(hex), undefined, meters)).toMatchObject({
      kind: 'channel',
      channelId: hex,
      meter: { name: 'consumer' },
    });
    expect(none.calls).toEqual([`block ${id}`, 'tx', `milestone ${id}`]);
    const direct = client({});
    expect(await resolveQuery(direct.c, classifyQuery(`channel:${hex}`), undefined, meters)).toMatchObject({
      kind: 'channel',
      meter: { name: 'consumer' },
    });
    expect(direct.calls).toEqual([]);
    expect(
      (await resolveQuery(direct.c, classifyQuery(`channel:${'0'.repeat(64)}`), undefined, meters)).kind,
    ).toBe('notFound');
    expect((await resolveQuery(direct.c, classifyQuery(`channel:${hex}`))).kind).toBe('unavailable');
  });
});
