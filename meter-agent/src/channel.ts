/**
 * The meter's channel: the agent's counted readings, published as masked, signed, hash-chained messages on
 * tagged-data blocks (@tanglewatt/channels), and each period's Merkle root, which its payment names as
 * readingsHash. This module is the only one that touches the channel; the agent sees `AgentChannel`.
 *
 * Nothing here ever blocks sampling: readings are buffered in memory (the agent's sample journal is their
 * durable copy), and sealing and posting run in one background queue that waits for the node as long as it
 * must. See README.md ("Channel") for what survives a crash and why nothing is posted twice.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ChannelWriter, PostMessage } from '@tanglewatt/channels';
import type {
  AgentChannel,
  ChannelHooks,
  ChannelSample,
  ChannelSummary,
  ChannelView,
  OpenChannel,
} from './agent-channel.js';
import { ReattachingPoster } from './channel-reattach.js';
import type { Clock, Timer } from './clock.js';
import { errorMessage, MeterAgentError } from './errors.js';
import type { Logger } from './log.js';
import type { ChannelBlockRefs, ChannelRootRecord } from './store/state.js';

export * from './agent-channel.js';

export const CHANNEL_JOURNAL = join('channel', 'channel.journal');

/** The meter's DID as a payment names it: the DID and the output that created its alias. */
export interface MeterDid {
  id: string;
  originOutputId: string;
}

/** The writer's view of its messages that `blockRefsOf` needs. */
export type WrittenMessages = Pick<ChannelWriter, 'mode' | 'message' | 'signingSchedule'>;

/**
 * Where a closed period's messages are on the Tangle, once its last message is posted (undefined before):
 * the last block, the key that signed, and for a restricted channel the announcement of every epoch the
 * messages are in (a reader opens those first, then can walk back from the last block). Messages post in
 * seq order, so when the last one is posted every earlier one is too.
 */
export function blockRefsOf(
  writer: WrittenMessages,
  fromSeq: number,
  toSeq: number,
  did?: MeterDid,
): ChannelBlockRefs | undefined {
  const lastBlockId = writer.message(toSeq)?.blockId;
  if (!lastBlockId) return undefined;
  const signer = writer
    .signingSchedule()
    .find((k) => k.fromSeq <= toSeq && (k.untilSeq === undefined || toSeq < k.untilSeq));
  const epochs: Record<string, string> = {};
  if (writer.mode === 'restricted') {
    for (let seq = fromSeq; seq <= toSeq; seq++) {
      const epoch = writer.message(seq)?.epoch;
      if (epoch === undefined || String(epoch) in epochs) continue;
      // The announcement is the first message of its epoch: at or before the first message sealed under it.
      for (let at = seq; at >= 0; at--) {
        const m = writer.message(at);
        if (m?.kind !== 'epoch' || m.epoch !== epoch) continue;
        if (m.blockId) epochs[String(epoch)] = m.blockId;
        break;
      }
    }
  }
  return {
    lastBlockId,
    ...(signer ? { publicKey: Buffer.from(signer.publicKey).toString('hex') } : {}),
    ...(Object.keys(epochs).length ? { epochs } : {}),
    ...(did ? { did: did.id, didOrigin: did.originOutputId } : {}),
  };
}

/**
 * The meter's Ed25519 secret key from `file` (64 hex digits), made (32 random bytes, mode 0600, written to a
 * temporary file, synced and renamed into place) if the file does not exist. A key file that others can read
 * is refused. The key is never logged.
 */
export async function loadOrCreateSigningKey(file: string): Promise<{ key: Uint8Array; created: boolean }> {
  let mode: number | undefined;
  try {
    mode = (await stat(file)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new MeterAgentError(
        'BAD_CONFIG',
        `channel.keyFile: ${file} cannot be read (${errorMessage(error)})`,
      );
  }
  if (mode === undefined) {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const key = new Uint8Array(randomBytes(32));
    const temp = `${file}.${process.pid}.tmp`;
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${Buffer.from(key).toString('hex')}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file).catch(async (error) => {
      await unlink(temp).catch(() => undefined);
      throw error;
    });
    const dir = await open(dirname(file), 'r');
    await dir.sync().finally(() => dir.close());
    return { key, created: true };
  }
  if (mode & 0o077)
    throw new MeterAgentError(
      'BAD_CONFIG',
      `channel.keyFile: ${file} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 ${file}`,
    );
  const text = (await readFile(file, 'utf8')).trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text))
    throw new MeterAgentError('BAD_CONFIG', `channel.keyFile: ${file} does not hold a key (64 hex digits)`);
  return { key: new Uint8Array(Buffer.from(text, 'hex')), created: false };
}

const STOP_WAIT_MS = 5_000;
/** How often the blocks posted are looked at for a milestone's reference (see channel-reattach.ts). */
const REATTACH_CHECK_MS = 2_000;

interface PendingClose {
  summary: ChannelSummary;
}

/**
 * The real channel: a ChannelWriter journaled under the data dir, posting through LedgerClient.postTaggedData.
 * One background queue feeds the writer: readings of a period are handed over only up to its end, so a
 * message never mixes two periods, and closes go in order.
 */
export class NodeChannel implements AgentChannel {
  readonly #writer: ChannelWriter;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #hooks: ChannelHooks;
  readonly #batchMs: number;
  readonly #destroy: () => Promise<void>;
  readonly #did: MeterDid | undefined;
  /** Readings the writer has not been given yet. */
  #buffer: ChannelSample[] = [];
  /** Closes requested but not yet handed to the writer, oldest first. */
  #closes: PendingClose[] = [];
  /** Periods handed over or queued, whose root has not been seen. */
  readonly #awaiting = new Set<string>();
  /** Readings at or before this time (or before it, when `#resumeInclusive`) are already sealed. */
  readonly #sealedUntilMs: number;
  readonly #resumeInclusive: boolean;
  #lastFedMs = Number.NEGATIVE_INFINITY;
  #queue: Promise<void> = Promise.resolve();
  #pumpQueued = false;
  #timer: Timer | undefined;
  #stopped = false;
  #lastError: string | null = null;
  #lastPosted: { seq: number; blockId: string } | null = null;
  #failing = false;

  constructor(
    writer: ChannelWriter,
    options: {
      clock: Clock;
      log: Logger;
      hooks: ChannelHooks;
      batchSeconds: number;
      destroy: () => Promise<void>;
      /** The meter's DID, named in each period's block references. */
      did?: MeterDid;
    },
  ) {
    this.#writer = writer;
    this.#did = options.did;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#hooks = options.hooks;
    this.#batchMs = options.batchSeconds * 1000;
    this.#destroy = options.destroy;
    // Where the sealed readings end. A message that closed a period ends exactly at the period's end, and a
    // reading at that instant belongs to the next period, so it is not sealed yet; otherwise a message ends
    // at its last reading, which is sealed.
    let seq = writer.nextSeq - 1;
    while (seq >= 0 && writer.message(seq)?.kind === 'epoch') seq--;
    const lastData = seq >= 0 ? writer.message(seq) : undefined;
    const closedByIt = lastData !== undefined && writer.periods().at(-1)?.toSeq === lastData.seq;
    this.#sealedUntilMs = lastData?.toMs ?? Number.NEGATIVE_INFINITY;
    this.#resumeInclusive = closedByIt;
    this.#refreshLastPosted();
  }

  get channelId(): string {
    return this.#writer.channelId;
  }

  start(): void {
    const arm = () => {
      this.#timer = this.#clock.setTimer(this.#batchMs, () => {
        if (this.#stopped) return;
        this.#schedule(true);
        arm();
      });
    };
    arm();
    // Anything a failure before the restart left sealed but unposted goes out now.
    if (this.#writer.nextSeq > 0 && this.#lastPosted?.seq !== this.#writer.nextSeq - 1) this.#schedule(false);
  }

  rootOf(periodId: string): ChannelRootRecord | undefined {
    const p = this.#writer.periods().find((c) => c.periodId === periodId);
    return p && this.#rootRecord(p);
  }

  #rootRecord(p: { periodId: string; root: string; fromSeq: number; toSeq: number }): ChannelRootRecord {
    const refs = blockRefsOf(this.#writer, p.fromSeq, p.toSeq, this.#did);
    return {
      periodId: p.periodId,
      root: p.root,
      fromSeq: p.fromSeq,
      toSeq: p.toSeq,
      ...(refs ? { refs } : {}),
    };
  }

  addSample(sample: ChannelSample): void {
    if (this.#stopped) return;
    const t = sample.timestampMs;
    if (t <= this.#lastFedMs) return; // a clock that stepped back: the Meter drops it too
    if (t < this.#sealedUntilMs || (t === this.#sealedUntilMs && !this.#resumeInclusive)) return; // sealed before
    this.#lastFedMs = t;
    this.#buffer.push({ ...sample });
  }

  closePeriod(summary: ChannelSummary): void {
    if (this.#stopped || this.#awaiting.has(summary.periodId)) return;
    const known = this.rootOf(summary.periodId);
    if (known?.refs) {
      queueMicrotask(() => this.#hooks.onRoot(known));
      return;
    }
    this.#awaiting.add(summary.periodId);
    // Closed before but not posted yet (the node was away): its root comes once its messages are posted.
    if (!known) this.#closes.push({ summary });
    this.#schedule(false);
  }

  blockIndex(fromSeq: number, toSeq: number): { seq: number; blockId: string }[] {
    return this.#writer.blockIndex(fromSeq, toSeq);
  }

  view(): ChannelView {
    const lastSeq = this.#writer.nextSeq - 1;
    let unposted = 0;
    for (let seq = lastSeq; seq >= 0 && this.#writer.message(seq)?.blockId === undefined; seq--) unposted++;
    return {
      channelId: this.#writer.channelId,
      mode: this.#writer.mode,
      signingPublicKey: Buffer.from(this.#writer.signingPublicKey).toString('hex'),
      lastSeq: lastSeq >= 0 ? lastSeq : null,
      lastPostedSeq: this.#lastPosted?.seq ?? null,
      lastBlockId: this.#lastPosted?.blockId ?? null,
      unposted,
      pendingSamples: this.#buffer.length + this.#writer.pendingSamples,
      awaitingRoots: [...this.#awaiting],
      lastError: this.#lastError,
    };
  }

  /** Queues one pass (unless one is already waiting): hand closes over in order, then optionally flush. */
  #schedule(flushRest: boolean): Promise<void> {
    if (this.#pumpQueued && !flushRest) return this.#queue;
    this.#pumpQueued = true;
    this.#queue = this.#queue.then(() => {
      this.#pumpQueued = false;
      return this.#pump(flushRest);
    });
    return this.#queue;
  }

  async #pump(flushRest: boolean): Promise<void> {
    let failed: unknown;
    try {
      while (this.#closes.length) {
        const { summary } = this.#closes[0]!;
        const upTo = this.#buffer.findIndex((s) => s.timestampMs >= summary.endMs);
        this.#feed(this.#buffer.splice(0, upTo < 0 ? this.#buffer.length : upTo));
        this.#closes.shift();
        try {
          // A failure to post leaves the closing batch queued in the writer: the next pass posts it.
          await this.#writer.closePeriod(summary);
        } catch (error) {
          if ((error as { code?: string }).code !== 'INVALID_SUMMARY') throw error;
          // Refused outright (never expected: closes come in order, readings before them): no root will
          // come this run. The period stays awaiting its root in the agent's state and is closed again on
          // the next start, from the journaled samples.
          this.#awaiting.delete(summary.periodId);
          this.#hooks.onProblem(`channel: period ${summary.periodId} not closed: ${errorMessage(error)}`);
        }
      }
      if (flushRest) {
        this.#feed(this.#buffer.splice(0));
        await this.#writer.flush();
      } else if (this.#writer.nextSeq > 0 && this.#lastPosted?.seq !== this.#writer.nextSeq - 1) {
        await this.#writer.flush(); // post what is sealed but not posted; the buffer waits for its batch
      }
    } catch (error) {
      failed = error;
    }
    this.#refreshLastPosted();
    this.#reportRoots();
    if (failed !== undefined) {
      this.#lastError = errorMessage(failed);
      if (!this.#failing)
        this.#hooks.onProblem(`channel: ${this.#lastError} (messages wait and go out with the next batch)`);
      else this.#log.debug({ error: this.#lastError }, 'channel still failing');
      this.#failing = true;
    } else if (this.#failing) {
      this.#failing = false;
      this.#lastError = null;
      this.#log.info({ lastSeq: this.#writer.nextSeq - 1 }, 'channel posts again');
    }
    this.#hooks.onChange?.();
  }

  /** Hands readings to the writer; one it refuses is dropped with a problem, never the rest. */
  #feed(samples: ChannelSample[]): void {
    for (const sample of samples) {
      try {
        this.#writer.addSample(sample);
      } catch (error) {
        this.#hooks.onProblem(
          `channel: reading at ${new Date(sample.timestampMs).toISOString()} not published: ${errorMessage(error)}`,
        );
      }
    }
  }

  #reportRoots(): void {
    if (this.#awaiting.size === 0) return;
    for (const p of this.#writer.periods()) {
      if (!this.#awaiting.has(p.periodId)) continue;
      // Reported once posted, so the payment can name the blocks.
      const record = this.#rootRecord(p);
      if (!record.refs) continue;
      this.#awaiting.delete(p.periodId);
      this.#hooks.onRoot(record);
    }
  }

  #refreshLastPosted(): void {
    for (let seq = this.#writer.nextSeq - 1; seq >= 0; seq--) {
      const blockId = this.#writer.message(seq)?.blockId;
      if (blockId) {
        this.#lastPosted = { seq, blockId };
        return;
      }
      if (this.#lastPosted && seq <= this.#lastPosted.seq) return;
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#timer?.cancel();
    // Seal and post what is buffered, within a bound: a node that does not answer must not hold up a stop.
    const last = this.#schedule(true);
    this.#stopped = true;
    let giveUp: NodeJS.Timeout | undefined;
    const bounded = (p: Promise<unknown>) =>
      Promise.race([
        p.catch(() => undefined),
        new Promise((resolve) => {
          giveUp = setTimeout(resolve, STOP_WAIT_MS);
        }),
      ]).finally(() => clearTimeout(giveUp));
    await bounded(last);
    await bounded(this.#writer.stop({ flush: false }));
    await this.#destroy().catch(() => undefined);
  }
}

/** Opens the meter's channel as configured: key file, journal under the data dir, LedgerClient posting. */
export const openNodeChannel: OpenChannel = async (config, { dataDir, clock, log, hooks }) => {
  const keyFile = config.keyFile ?? join(dataDir, 'channel', 'signing.key');
  const { key, created } = await loadOrCreateSigningKey(keyFile);
  if (created) log.info({ keyFile }, 'made the meter’s channel signing key');
  // Loaded only when a channel is configured: the SDK and its WebAssembly are not small.
  const [{ openChannelWriter }, { LedgerClient, NodeApi }] = await Promise.all([
    import('@tanglewatt/channels/node'),
    import('@tanglewatt/ledger'),
  ]);
  const client = new LedgerClient(config.nodeUrl);
  const node = new NodeApi(config.nodeUrl);
  // Ledger time is real time, whatever the meter's clock says.
  const poster = new ReattachingPoster({
    postTaggedData: (tag, bytes) => client.postTaggedData(tag, bytes),
    blockMetadata: (blockId) => node.blockMetadata(blockId),
    nowMs: () => Date.now(),
    log,
  });
  const post: PostMessage = poster.post;
  const watch = setInterval(() => void poster.check(), REATTACH_CHECK_MS);
  watch.unref();
  let writer: ChannelWriter;
  try {
    writer = await openChannelWriter({
      journalFile: join(dataDir, CHANNEL_JOURNAL),
      signingKey: key,
      mode: config.mode,
      ...(config.mode === 'restricted'
        ? { readers: config.readers.map((r) => new Uint8Array(Buffer.from(r, 'hex'))) }
        : {}),
      post,
      batchSeconds: config.batchSeconds,
      now: () => clock.nowMs(),
    });
  } catch (error) {
    clearInterval(watch);
    await client.destroy().catch(() => undefined);
    const code = (error as { code?: string }).code;
    if (code === 'KEY_MISMATCH')
      throw new MeterAgentError(
        'BAD_CONFIG',
        `channel.keyFile: ${keyFile} is not the key this channel signs with (its journal is ${join(dataDir, CHANNEL_JOURNAL)})`,
      );
    if (code === 'INVALID_OPTIONS')
      throw new MeterAgentError('BAD_CONFIG', `channel.${errorMessage(error).replace(/^.*?:\s*/, '')}`);
    throw error;
  }
  const channel = new NodeChannel(writer, {
    clock,
    log,
    hooks,
    batchSeconds: config.batchSeconds,
    destroy: () => {
      clearInterval(watch);
      return client.destroy();
    },
    ...(config.did ? { did: config.did } : {}),
  });
  channel.start();
  log.info(
    { channelId: channel.channelId, mode: writer.mode, nextSeq: writer.nextSeq, node: config.nodeUrl },
    'channel open',
  );
  return channel;
};
