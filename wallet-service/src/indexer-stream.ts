import { EventEmitter } from 'node:events';
import type { IndexedBlockMetadata, IndexedMilestone, IndexerApi, IndexerEvent } from '@tanglewatt/ledger';
import type { Logger } from 'pino';

/**
 * The wallet-service's one live stream from its community indexer (filtered to its address, and to the
 * `tanglewatt/` tags when the market is read), kept open for good: a dropped connection, an `event: error`
 * (the indexer drops a reader that fell behind) or a stream silent for too long is reconnected with
 * backoff. Events are grouped by milestone (the indexer sends a milestone's outputs and tagged data first,
 * then the milestone). Each new connection is announced with `open`: whatever happened while it was down is
 * for the readers to catch up over REST (indexer-slice.ts, market-reader.ts).
 */

export type OutputEventData = Extract<IndexerEvent, { type: 'output' }>['data'];

export interface StreamBatch {
  milestone: IndexedMilestone;
  outputs: OutputEventData[];
  tagged: IndexedBlockMetadata[];
}

export interface IndexerStreamOptions {
  indexer: Pick<IndexerApi, 'stream' | 'url'>;
  filter: { address?: string; tag?: string };
  log: Logger;
  /** Wait after the first failure; doubled each failure up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A stream with no event for this long is taken as dead (milestones come every few seconds). */
  silenceMs?: number;
}

export class IndexerStream extends EventEmitter<{ open: []; batch: [StreamBatch]; lost: [] }> {
  private stopped = false;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private open_ = false;
  private sleepTimer: NodeJS.Timeout | undefined;
  private wakeSleep: (() => void) | undefined;
  private readonly waiters = new Set<(ok: boolean) => void>();
  /** How many times the stream has been (re)connected. */
  connections = 0;

  constructor(private readonly options: IndexerStreamOptions) {
    super();
    this.setMaxListeners(20);
  }

  /** True while a connection is open: every event from its `open` on has come or will come. */
  get connected(): boolean {
    return this.open_;
  }

  /** Resolves true once a connection is open, false after `timeoutMs` without one. */
  async opened(timeoutMs: number): Promise<boolean> {
    if (this.open_) return true;
    if (this.stopped) return false;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.off('open', onOpen);
        this.waiters.delete(done);
        resolve(ok);
      };
      const onOpen = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.on('open', onOpen);
      this.waiters.add(done);
    });
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const done of [...this.waiters]) done(false);
    this.abort?.abort();
    this.wakeSleep?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { minBackoffMs = 250, maxBackoffMs = 10_000, silenceMs = 60_000, log } = this.options;
    let backoff = minBackoffMs;
    let lastError = '';
    while (!this.stopped) {
      const abort = new AbortController();
      this.abort = abort;
      let pending: Omit<StreamBatch, 'milestone'> = { outputs: [], tagged: [] };
      let silence: NodeJS.Timeout | undefined;
      const heard = () => {
        clearTimeout(silence);
        silence = setTimeout(() => abort.abort(), silenceMs);
      };
      let sawMilestone = false;
      try {
        await this.options.indexer.stream(
          this.options.filter,
          (event) => {
            heard();
            if (event.type === 'output') pending.outputs.push(event.data);
            else if (event.type === 'tagged-data') pending.tagged.push(event.data);
            else if (event.type === 'milestone') {
              const batch = { milestone: event.data, ...pending };
              pending = { outputs: [], tagged: [] };
              sawMilestone = true;
              this.emit('batch', batch);
            } else {
              log.warn({ indexer: this.options.indexer.url }, 'the indexer dropped this reader; catching up');
              abort.abort();
            }
          },
          abort.signal,
          () => {
            heard();
            this.open_ = true;
            this.connections++;
            this.emit('open');
          },
        );
        lastError = '';
      } catch (error) {
        const message = (error as Error).message;
        if (message !== lastError)
          log.warn(
            { indexer: this.options.indexer.url, err: message },
            'indexer stream failed; reconnecting',
          );
        lastError = message;
      } finally {
        clearTimeout(silence);
      }
      if (this.open_) {
        this.open_ = false;
        this.emit('lost');
      }
      if (this.stopped) break;
      if (sawMilestone) backoff = minBackoffMs;
      await this.sleep(backoff);
      backoff = Math.min(maxBackoffMs, backoff * 2);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeSleep = () => {
        clearTimeout(this.sleepTimer);
        resolve();
      };
      this.sleepTimer = setTimeout(resolve, ms);
    });
  }
}
