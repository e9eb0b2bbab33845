import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Journal } from '@tanglewatt/journal';
import type { Clock, Timer } from '../clock.js';
import type { SampleRecord } from '../metering/records.js';
import { readJournalFile } from './journal-reader.js';

const FILE = /^(\d{4}-\d{2}-\d{2})\.journal$/;

/** `samples/2024-06-01.journal`: one file per UTC day, so old days can be deleted whole. */
export function sampleFileName(tMs: number): string {
  return `${new Date(tMs).toISOString().slice(0, 10)}.journal`;
}

/** Sample files of `dir` in time order. */
export async function listSampleFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => FILE.test(f)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Every sample in `dir` (all days, torn tails skipped), read without taking the files over. */
export async function readAllSamples(dir: string): Promise<SampleRecord[]> {
  const out: SampleRecord[] = [];
  for (const f of await listSampleFiles(dir))
    out.push(...(await readJournalFile<SampleRecord>(join(dir, f))).records);
  return out;
}

/**
 * How often samples reach the disk. "every-sample": each is written and fdatasync'ed before it counts (86,400
 * syncs a day at 1 Hz: SD-card wear). `{ everySeconds: N }`: samples are held in memory and written as one
 * group, synced once, at most N s after the first of them, so a crash or power cut loses at most the last
 * N s of samples. Either way a period is recorded only after its samples are on disk.
 */
export type Durability = 'every-sample' | { everySeconds: number };

export interface SampleStoreOptions {
  durability?: Durability;
  /** Times the group writes (the agent's clock); required with `everySeconds`. */
  clock?: Pick<Clock, 'setTimer'>;
}

/**
 * The sample journal: one crash-safe append-only file per UTC day. With "every-sample" durability `append`
 * resolves once the sample is on disk (appends that meet a running fsync share the next one, the journal's
 * group commit); with `everySeconds` it resolves at once and the sample is written with its group.
 */
export class SampleStore {
  #day: string | undefined;
  #journal: Promise<Journal<SampleRecord>> | undefined;
  readonly #closing: Promise<void>[] = [];
  readonly #durability: Durability;
  readonly #options: SampleStoreOptions;
  /** Samples accepted but not yet handed to the journal (everySeconds only). */
  #held: SampleRecord[] = [];
  #timer: Timer | undefined;
  /** Group writes, in order. */
  #writes: Promise<void> = Promise.resolve();
  /** A group write failed: its samples are lost (the agent reports it). */
  onWriteError: ((error: unknown, samples: number) => void) | undefined;
  /** Writes handed to the journal (each synced; concurrent ones share one fdatasync). */
  writes = 0;

  constructor(
    readonly dir: string,
    options: SampleStoreOptions = {},
  ) {
    this.#options = options;
    this.#durability = options.durability ?? 'every-sample';
    if (this.#durability !== 'every-sample' && !options.clock)
      throw new Error('SampleStore: a clock is needed with durability everySeconds');
  }

  /**
   * Takes a sample. `sync` writes it (with any held ones) and syncs now, whatever the durability: for
   * samples that something else recorded right away depends on (energy delivered to a prepaid purchase).
   */
  append(sample: SampleRecord, options: { sync?: boolean } = {}): Promise<void> {
    if (this.#durability === 'every-sample') return this.#write([sample]);
    this.#held.push(sample);
    if (options.sync) return this.flush();
    this.#timer ??= this.#options.clock!.setTimer(this.#durability.everySeconds * 1000, () => {
      this.#timer = undefined;
      void this.flush().catch(() => undefined); // reported through onWriteError
    });
    return Promise.resolve();
  }

  /** Writes and syncs every held sample; resolves when they are on disk. */
  flush(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    const group = this.#held.splice(0);
    // Earlier failures were reported when they happened.
    if (group.length === 0) return this.#writes.catch(() => undefined);
    const written = this.#write(group);
    written.catch((error) => this.onWriteError?.(error, group.length));
    return written;
  }

  /** Hands samples to the journal of their day, in order; one appendMany (one sync) per day touched. */
  #write(samples: SampleRecord[]): Promise<void> {
    const byDay = new Map<string, SampleRecord[]>();
    for (const s of samples) {
      const day = sampleFileName(s.tMs);
      byDay.set(day, [...(byDay.get(day) ?? []), s]);
    }
    const writes = [...byDay].map(([day, group]) => this.#journalOf(day).then((j) => j.appendMany(group)));
    const all = Promise.all(writes).then(() => {
      this.writes += writes.length;
    });
    this.#writes = this.#writes.then(
      () => all,
      () => all,
    );
    return all;
  }

  #journalOf(day: string): Promise<Journal<SampleRecord>> {
    if (day !== this.#day || !this.#journal) {
      const previous = this.#journal;
      if (previous) this.#closing.push(previous.then((j) => j.close()));
      this.#day = day;
      const opening = Journal.open<SampleRecord>(join(this.dir, day)).then((o) => o.journal);
      this.#journal = opening;
      // A failed open (disk trouble) is retried by the next append instead of failing the whole day.
      opening.catch(() => {
        if (this.#journal === opening) this.#journal = undefined;
      });
    }
    return this.#journal;
  }

  /**
   * Samples with tMs ≥ fromMs, oldest first. Opens the file of `nowMs`'s day for appending (cutting off a
   * torn last line, as only the owner may); older days are only read.
   */
  async readFrom(fromMs: number, nowMs: number): Promise<SampleRecord[]> {
    const firstDay = sampleFileName(fromMs);
    const today = sampleFileName(nowMs);
    const out: SampleRecord[] = [];
    for (const f of await listSampleFiles(this.dir)) {
      if (f < firstDay) continue;
      let records: SampleRecord[];
      if (f === today && !this.#journal) {
        const opened = await Journal.open<SampleRecord>(join(this.dir, f));
        this.#day = f;
        this.#journal = Promise.resolve(opened.journal);
        records = opened.records;
      } else {
        records = (await readJournalFile<SampleRecord>(join(this.dir, f))).records;
      }
      for (const r of records) if (r.tMs >= fromMs) out.push(r);
    }
    return out;
  }

  /** The first sample on disk, if any: where a meter with no closed period starts. */
  async first(): Promise<SampleRecord | undefined> {
    for (const f of await listSampleFiles(this.dir)) {
      const { records } = await readJournalFile<SampleRecord>(join(this.dir, f));
      if (records[0]) return records[0];
    }
    return undefined;
  }

  /** Deletes day files that end before `keepFromMs`. Returns the names deleted. */
  async prune(keepFromMs: number): Promise<string[]> {
    const keepDay = sampleFileName(keepFromMs);
    const deleted: string[] = [];
    for (const f of await listSampleFiles(this.dir)) {
      if (f >= keepDay || f === this.#day) continue;
      await rm(join(this.dir, f), { force: true });
      deleted.push(f);
    }
    return deleted;
  }

  async close(): Promise<void> {
    await this.flush().catch(() => undefined); // reported through onWriteError
    const journal = this.#journal;
    this.#journal = undefined;
    this.#day = undefined;
    await Promise.all(this.#closing.splice(0));
    if (journal) await (await journal).close();
  }
}
