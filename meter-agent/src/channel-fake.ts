import { createHash } from 'node:crypto';
import type {
  AgentChannel,
  ChannelHooks,
  ChannelSample,
  ChannelSummary,
  ChannelView,
  OpenChannel,
} from './channel.js';
import type { ChannelRootRecord } from './store/state.js';

/**
 * Stands in for the meter's channel in tests. It keeps what it was given, and its roots survive a reopen
 * (as the channel's journal does). While `up` is false (the node is away) closes get no root; setting it
 * back releases them, in order. Pass `fake.open` as `startAgent({ openChannel })`.
 */
export class FakeChannel implements AgentChannel {
  readonly channelId = 'fa'.repeat(32);
  readonly samples: ChannelSample[] = [];
  readonly closes: ChannelSummary[] = [];
  readonly roots = new Map<string, ChannelRootRecord>();
  opened = 0;
  stopped = 0;
  #up = true;
  #waiting: ChannelSummary[] = [];
  #hooks: ChannelHooks | undefined;
  #nextSeq = 0;

  readonly open: OpenChannel = async (_config, { hooks }) => {
    this.#hooks = hooks;
    this.#waiting = [];
    this.opened++;
    return this;
  };

  get up(): boolean {
    return this.#up;
  }

  /** Node reachable or not; coming back releases the roots that waited. */
  set up(up: boolean) {
    this.#up = up;
    if (up) for (const s of this.#waiting.splice(0)) this.#seal(s);
  }

  rootOf(periodId: string): ChannelRootRecord | undefined {
    return this.roots.get(periodId);
  }

  addSample(sample: ChannelSample): void {
    this.samples.push({ ...sample });
  }

  closePeriod(summary: ChannelSummary): void {
    this.closes.push(summary);
    const known = this.roots.get(summary.periodId);
    if (known) {
      queueMicrotask(() => this.#hooks?.onRoot(known));
      return;
    }
    if (!this.#up) {
      this.#waiting.push(summary);
      this.#hooks?.onProblem('channel: node unreachable (fake)');
      return;
    }
    this.#seal(summary);
  }

  #seal(summary: ChannelSummary): void {
    const inPeriod = this.samples.filter(
      (s) => s.timestampMs >= summary.startMs && s.timestampMs < summary.endMs,
    );
    const root = createHash('sha256')
      .update(JSON.stringify({ id: summary.periodId, e: summary.energyMWs.toString(), inPeriod }))
      .digest('hex');
    const seq = this.#nextSeq;
    // One message per period, posted at once: it is its own last block and its epoch's announcement.
    const blockId = `0x${seq.toString(16).padStart(64, '0')}`;
    const refs = { lastBlockId: blockId, publicKey: '00'.repeat(32), epochs: { [String(seq + 1)]: blockId } };
    const record = { periodId: summary.periodId, root, fromSeq: seq, toSeq: seq, refs };
    this.#nextSeq++;
    this.roots.set(summary.periodId, record);
    const hooks = this.#hooks;
    queueMicrotask(() => hooks?.onRoot(record));
  }

  blockIndex(fromSeq: number, toSeq: number): { seq: number; blockId: string }[] {
    const out: { seq: number; blockId: string }[] = [];
    for (let seq = fromSeq; seq <= Math.min(toSeq, this.#nextSeq - 1); seq++)
      out.push({ seq, blockId: `0x${seq.toString(16).padStart(64, '0')}` });
    return out;
  }

  view(): ChannelView {
    return {
      channelId: this.channelId,
      mode: 'restricted',
      signingPublicKey: '00'.repeat(32),
      lastSeq: this.#nextSeq ? this.#nextSeq - 1 : null,
      lastPostedSeq: this.#nextSeq ? this.#nextSeq - 1 : null,
      lastBlockId: this.#nextSeq ? `0x${(this.#nextSeq - 1).toString(16).padStart(64, '0')}` : null,
      unposted: 0,
      pendingSamples: 0,
      awaitingRoots: this.#waiting.map((s) => s.periodId),
      lastError: this.#up ? null : 'node unreachable (fake)',
    };
  }

  /** Closes still waiting for the node are lost, as the real writer's in-memory queue is. */
  async stop(): Promise<void> {
    this.stopped++;
    this.#waiting = [];
    this.#hooks = undefined;
  }
}
