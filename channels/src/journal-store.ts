/** Node only: the writer's state in a @tanglewatt/journal file (fsync before acknowledgement). */
import { chmod, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Journal } from '@tanglewatt/journal';
import { ChannelWriter, type ChannelWriterOptions, type WriterRecord, type WriterStore } from './writer.js';

/**
 * A WriterStore on a Journal. The journal holds epoch keys, so its directory is created 0700 and the file is
 * kept 0600 (also after each compaction, which writes a new file).
 */
export class JournalWriterStore implements WriterStore {
  private constructor(
    private readonly journal: Journal<WriterRecord>,
    private records: WriterRecord[] | undefined,
  ) {}

  static async open(file: string): Promise<JournalWriterStore> {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const { journal, records } = await Journal.open<WriterRecord>(file);
    await chmod(file, 0o600);
    return new JournalWriterStore(journal, records);
  }

  get file(): string {
    return this.journal.file;
  }

  async load(): Promise<WriterRecord[]> {
    const records = this.records ?? [];
    this.records = undefined; // loaded once, by the writer that opens the store
    return records;
  }

  append(records: WriterRecord[]): Promise<void> {
    return this.journal.appendMany(records);
  }

  async rewrite(records: WriterRecord[]): Promise<void> {
    await this.journal.rewrite(records);
    await chmod(this.journal.file, 0o600);
  }

  close(): Promise<void> {
    return this.journal.close();
  }
}

/** Opens (or starts) the channel journaled in `journalFile`. */
export async function openChannelWriter(
  options: Omit<ChannelWriterOptions, 'store'> & { journalFile: string },
): Promise<ChannelWriter> {
  const { journalFile, ...rest } = options;
  const store = await JournalWriterStore.open(journalFile);
  try {
    return await ChannelWriter.open({ ...rest, store });
  } catch (error) {
    await store.close();
    throw error;
  }
}
