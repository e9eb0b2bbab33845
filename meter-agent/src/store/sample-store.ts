import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Journal } from '@tanglewatt/journal';
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
 * The sample journal: one crash-safe append-only file per UTC day. `append` resolves once the sample is
 * on disk; appends that meet a running fsync share the next one (the journal's group commit).
 */
export class SampleStore {
  #day: string | undefined;
  #journal: Promise<Journal<SampleRecord>> | undefined;
  readonly #closing: Promise<void>[] = [];

  constructor(readonly dir: string) {}

  append(sample: SampleRecord): Promise<void> {
    const day = sampleFileName(sample.tMs);
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
    return this.#journal.then((j) => j.append(sample));
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
    const journal = this.#journal;
    this.#journal = undefined;
    this.#day = undefined;
    await Promise.all(this.#closing.splice(0));
    if (journal) await (await journal).close();
  }
}
