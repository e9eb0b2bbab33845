import { ChannelWriter, type MemoryWriterStore, type PostMessage } from '@tanglewatt/channels';
import { type ChannelHooks, type MeterDid, NodeChannel } from '../channel.js';
import type { ManualClock } from '../clock.js';
import { silentLogger } from '../log.js';
import type { ChannelRootRecord } from '../store/state.js';
import { T0 } from './fixtures.js';

/** A node taking channel blocks that can be down: block ids count up from 1. */
export class FakeNode {
  up = true;
  readonly blocks: { tag: string; bytes: Uint8Array }[] = [];
  post: PostMessage = async (tag, bytes) => {
    if (!this.up) throw new Error('connect ECONNREFUSED 127.0.0.1:14265');
    this.blocks.push({ tag, bytes });
    return `0x${this.blocks.length.toString(16).padStart(64, '0')}`;
  };
}

/** Period `n` of 10 s from T0, `n` mW·s in 10 samples. */
export const periodSummary = (n: number) => ({
  periodId: `m/p${n}`,
  startMs: T0 + (n - 1) * 10_000,
  endMs: T0 + n * 10_000,
  energyMWs: BigInt(n),
  sampleCount: 10,
});

/** A started NodeChannel over a real restricted ChannelWriter batching every 5 s, with the roots and problems it reported. */
export async function openNodeChannel(options: {
  store: MemoryWriterStore;
  node: FakeNode;
  clock: ManualClock;
  signingKey: Uint8Array;
  readers: Uint8Array[];
  did?: MeterDid;
}) {
  const { store, node, clock, signingKey, readers, did } = options;
  const roots: ChannelRootRecord[] = [];
  const problems: string[] = [];
  const hooks: ChannelHooks = { onRoot: (r) => roots.push(r), onProblem: (m) => problems.push(m) };
  const writer = await ChannelWriter.open({
    store,
    signingKey,
    mode: 'restricted',
    readers,
    post: node.post,
    batchSeconds: 5,
    now: () => clock.nowMs(),
  });
  const channel = new NodeChannel(writer, {
    clock,
    log: silentLogger(),
    hooks,
    batchSeconds: 5,
    destroy: async () => undefined,
    ...(did ? { did } : {}),
  });
  channel.start();
  return { channel, writer, roots, problems };
}
