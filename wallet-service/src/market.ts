import { join } from 'node:path';
import { CompactOnGrowth, Journal } from '@tanglewatt/journal';
import type { LedgerClient, NodeApi } from '@tanglewatt/ledger';
import type { SignedMessage, UnsignedMessage } from '@tanglewatt/market';
import type { Logger } from 'pino';
import { MarketBooks, type MarketBookView, type MarketConfig, type MarketEvent } from './market-books.js';
import { compactMarketEvents } from './market-compaction.js';
import { MarketPublisher } from './market-publisher.js';
import type { MarketReader } from './market-reader.js';
import type { AddressKey } from './wallet-keys.js';

/** 3: payments (deliveries and trade settlements) are recorded along with market messages. */
const JOURNAL_FORMAT = 3;

/**
 * This household's part in the community market: the book read from the milestones (market-books.ts) and
 * its own signed messages (market-publisher.ts), both kept in one journal so a restart rebuilds both.
 */
export class Market {
  private queue: Promise<void> = Promise.resolve();
  private compaction: CompactOnGrowth<MarketEvent> | undefined;
  private readonly books: MarketBooks;
  private readonly publisher: MarketPublisher;

  private constructor(
    private readonly journal: Journal<MarketEvent>,
    private readonly deps: {
      api: NodeApi;
      client: LedgerClient;
      /** Signs this household's messages: the wallet address's own key. */
      key: AddressKey;
      address: string;
      config: MarketConfig;
      log: Logger;
      /** Where the market's blocks are read from; the node's milestone cones when not given. */
      reader?: MarketReader;
    },
  ) {
    const record = (events: MarketEvent[]) => this.commit(events);
    this.books = new MarketBooks({ ...deps, record });
    this.publisher = new MarketPublisher({
      ...deps,
      record,
      confirmedAt: (signature) => this.books.confirmedAt(signature),
    });
  }

  /** The journal is compacted (see market-compaction.ts) on open and after growing by `compactAfterBytes`. */
  static async open(deps: Market['deps'] & { dataDir: string; compactAfterBytes?: number }): Promise<Market> {
    const { journal, records } = await Journal.open<MarketEvent>(join(deps.dataDir, 'market.journal'));
    let events = records;
    if (!records.some((e) => e.t === 'format' && e.v >= JOURNAL_FORMAT)) {
      // Read before deliveries were recorded: read the milestones again, keeping our own messages' records.
      events = [
        { t: 'format', v: JOURNAL_FORMAT },
        ...records.filter((e) => e.t === 'seq' || e.t === 'outgoing' || e.t === 'posted'),
      ];
      await journal.rewrite(events);
    }
    const compacted = compactMarketEvents(events);
    if (compacted.changed > 0) {
      events = compacted.events;
      await journal.rewrite(events);
    }
    const market = new Market(journal, deps);
    for (const e of events) market.apply(e);
    market.compaction = new CompactOnGrowth(
      journal,
      (e) => compactMarketEvents(e).events,
      deps.compactAfterBytes ?? 1024 * 1024,
    );
    return market;
  }

  private apply(e: MarketEvent): void {
    this.books.apply(e);
    this.publisher.apply(e);
  }

  private async commit(events: MarketEvent[]): Promise<void> {
    await this.journal.appendMany(events);
    for (const e of events) this.apply(e);
    this.compaction?.check();
  }

  /**
   * Reads the market messages of every confirmed milestone up to `confirmedIndex` not read yet (see
   * MarketBooks.readUpTo), then helps our messages no milestone has confirmed yet. A failure is logged and
   * the next call resumes where it stopped.
   */
  catchUp(confirmedIndex: number): Promise<void> {
    this.queue = this.queue
      .then(async () => {
        await this.books.readUpTo(confirmedIndex);
        await this.publisher.nudge();
      })
      .catch((error: unknown) => {
        this.deps.log.warn({ err: (error as Error).message }, 'reading market messages failed; will resume');
      });
    return this.queue;
  }

  /** The milestone that first confirmed a market message (by its signature), once it has been read. */
  confirmedAt(signature: string): number | undefined {
    return this.books.confirmedAt(signature);
  }

  /** The book every household computes from the same messages: as of the last milestone read. */
  book(): Promise<MarketBookView> {
    return this.books.book();
  }

  /** Signs a market message with this wallet's address key and posts it as a tagged-data block. */
  publish(
    content: Pick<UnsignedMessage, 'kind' | 'body'>,
  ): Promise<{ message: SignedMessage; blockId: string }> {
    return this.publisher.publish(content);
  }

  /** How often our blocks needed help since start: promoted, and posted again. */
  get resends(): { promoted: number; reposted: number } {
    return this.publisher.resends;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.journal.close();
  }
}
