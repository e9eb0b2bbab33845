import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/http';
import { classifyQuery } from './classify';
import { resolveQuery } from './resolve';

const id = `0x${'ab'.repeat(32)}`;
const notFound = () => Promise.reject(new ApiError('http', 'not found', '', 404, 'NOT_FOUND'));

/** A client whose explorer reads find what `found` holds, answered by `source`. */
function client(
  found: Partial<Record<'block' | 'tx' | 'milestone', unknown>>,
  source: 'node' | 'indexer' | undefined = 'node',
) {
  const calls: string[] = [];
  const track = <T>(call: string, result: () => Promise<T>) => {
    calls.push(call);
    return result();
  };
  const answer = (body: unknown) => (body ? Promise.resolve({ body, source }) : notFound());
  const c = {
    blockMetadata: () =>
      track('blockMetadata', () => Promise.resolve({ blockId: id, parents: [], isSolid: true })),
    transactionMetadata: () =>
      track('txMetadata', () => Promise.resolve({ blockId: '0xb', parents: [], isSolid: true })),
    output: notFound,
    address: notFound,
    explorer: {
      block: (x: string) => track(`block ${x}`, () => answer(found.block)),
      transactionBlock: () => track('tx', () => answer(found.tx)),
      milestone: (x: string | number) => track(`milestone ${x}`, () => answer(found.milestone)),
      output: notFound,
    },
  };
  return { c: c as unknown as Parameters<typeof resolveQuery>[0], calls };
}

describe('resolveQuery', () => {
  it('tries block, then transaction, then milestone for a 32-byte id', async () => {
    const none = client({});
    expect((await resolveQuery(none.c, classifyQuery(id))).kind).toBe('notFound');
    expect(none.calls).toEqual([`block ${id}`, 'tx', `milestone ${id}`]);

    const tx = client({ tx: { parents: [], protocolVersion: 2, nonce: '0' } }, 'indexer');
    expect(await resolveQuery(tx.c, classifyQuery(id))).toMatchObject({
      kind: 'transaction',
      transactionId: id,
      source: 'indexer',
    });
    expect(tx.calls).toEqual([`block ${id}`, 'tx', 'txMetadata']);

    const ms = client({ milestone: { index: 3 } });
    expect(await resolveQuery(ms.c, classifyQuery(id))).toMatchObject({
      kind: 'milestone',
      milestoneId: id,
      source: 'node',
    });
  });

  it('stops at the first failure that is not "not found"', async () => {
    const broken = client({});
    broken.c.explorer.block = () =>
      Promise.reject(new ApiError('http', 'node down', '', 503, 'NODE_UNREACHABLE'));
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
