import type { Journal } from './journal.js';

/**
 * Compacts a journal in the background each time it grew by `growthBytes` since the last compaction
 * (or since open). A compaction that fails is tried again after as much growth again; a failure that
 * stopped the journal shows on its next append (JournalFailedError).
 */
export class CompactOnGrowth<T> {
  private nextAtBytes: number;
  private running = false;

  constructor(
    private readonly journal: Journal<T>,
    private readonly compactor: (records: T[]) => T[],
    private readonly growthBytes: number,
  ) {
    this.nextAtBytes = journal.size + growthBytes;
  }

  /** Call after appending: starts a compaction when the journal has grown enough. */
  check(): void {
    if (this.running || this.journal.size < this.nextAtBytes) return;
    this.running = true;
    this.journal
      .compact(this.compactor)
      .catch(() => undefined)
      .finally(() => {
        this.running = false;
        this.nextAtBytes = this.journal.size + this.growthBytes;
      });
  }
}
