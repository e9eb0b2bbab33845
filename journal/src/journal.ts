import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * An append-only file of records, one per line: `<checksum>\t<json>\n`. `append` resolves only after the
 * bytes are on disk (fdatasync), so a record that was acknowledged survives kill -9 and power loss.
 * Appends that arrive while a sync is running are written together by the next one (group commit).
 *
 * On open, a last line without its newline or with a wrong checksum is what an interrupted write
 * leaves: it is cut off. A bad line anywhere else means the file was damaged and opening fails.
 */

export class JournalCorruptError extends Error {
  override name = 'JournalCorruptError';
  readonly code = 'JOURNAL_CORRUPT';
  constructor(
    readonly file: string,
    readonly line: number,
  ) {
    super(
      `${file}: line ${line} is damaged (checksum mismatch); restore the file from a backup or move it away`,
    );
  }
}

export interface OpenedJournal<T> {
  journal: Journal<T>;
  records: T[];
  /** Bytes of an interrupted last write that were cut off on open. */
  truncatedBytes: number;
}

export interface JournalOptions {
  /** Sync each group of appends to disk before acknowledging it. Only tests of speed turn this off. */
  sync?: boolean;
}

interface Pending {
  text: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function checksum(json: string): string {
  return createHash('sha256').update(json).digest('hex').slice(0, 12);
}

function encode(record: unknown): string {
  const json = JSON.stringify(record);
  return `${checksum(json)}\t${json}\n`;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class Journal<T> {
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private rewriting: Promise<void> | undefined;
  private closed = false;

  private constructor(
    readonly file: string,
    private handle: FileHandle,
    private readonly sync: boolean,
  ) {}

  /** Parses a journal's text: the good records, and how many bytes of it they cover. */
  private static parse<T>(
    file: string,
    text: string,
  ): { records: T[]; goodBytes: number; totalBytes: number } {
    const records: T[] = [];
    let goodBytes = 0;
    // The piece after the last newline is empty for a clean file, or an interrupted write.
    const complete = text.split('\n').slice(0, -1);
    for (const [i, line] of complete.entries()) {
      const tab = line.indexOf('\t');
      const json = tab > 0 ? line.slice(tab + 1) : '';
      if (tab <= 0 || checksum(json) !== line.slice(0, tab)) {
        if (i === complete.length - 1) break; // torn last line
        throw new JournalCorruptError(file, i + 1);
      }
      records.push(JSON.parse(json) as T);
      goodBytes += Buffer.byteLength(line, 'utf8') + 1;
    }
    return { records, goodBytes, totalBytes: Buffer.byteLength(text, 'utf8') };
  }

  private static async readText(file: string): Promise<string> {
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return '';
    }
  }

  /**
   * Reads a journal without opening it for writing: a torn last line is skipped, not cut off, so a
   * reader (a status command, a test) never destroys a write in flight by the process that owns it.
   */
  static async read<T>(file: string): Promise<{ records: T[]; tornBytes: number }> {
    const { records, goodBytes, totalBytes } = Journal.parse<T>(file, await Journal.readText(file));
    return { records, tornBytes: totalBytes - goodBytes };
  }

  static async open<T>(file: string, options: JournalOptions = {}): Promise<OpenedJournal<T>> {
    await mkdir(dirname(file), { recursive: true });
    const { records, goodBytes, totalBytes } = Journal.parse<T>(file, await Journal.readText(file));
    const handle = await open(file, 'a+');
    if (goodBytes < totalBytes) {
      await handle.truncate(goodBytes);
      await handle.sync();
    }
    if (totalBytes === 0) await syncDir(dirname(file));
    return {
      journal: new Journal<T>(file, handle, options.sync ?? true),
      records,
      truncatedBytes: totalBytes - goodBytes,
    };
  }

  /** Resolves once the record is durable. */
  append(record: T): Promise<void> {
    return this.appendMany([record]);
  }

  /** Appends records as one write; all or, after a crash, a prefix of them survive. */
  appendMany(records: readonly T[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.file}: journal is closed`));
    if (records.length === 0) return Promise.resolve();
    const text = records.map(encode).join('');
    return new Promise((resolve, reject) => {
      this.pending.push({ text, resolve, reject });
      // During a rewrite, appends wait and are written after it.
      if (!this.rewriting) this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length && !this.rewriting) {
      const batch = this.pending.splice(0);
      try {
        await this.handle.write(batch.map((p) => p.text).join(''));
        if (this.sync) await this.handle.datasync();
        for (const p of batch) p.resolve();
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.flushing = undefined;
  }

  /**
   * Replaces the whole journal with `records` atomically (compaction). Appends made while it runs are
   * written after the new content.
   */
  async rewrite(records: readonly T[]): Promise<void> {
    while (this.rewriting) await this.rewriting;
    this.rewriting = this.replace(records);
    try {
      await this.rewriting;
    } finally {
      this.rewriting = undefined;
      if (this.pending.length) this.flushing ??= this.flush();
    }
  }

  private async replace(records: readonly T[]): Promise<void> {
    await this.flushing;
    const temp = join(dirname(this.file), `.${basename(this.file)}.rewrite`);
    const out = await open(temp, 'w');
    try {
      await out.write(records.map(encode).join(''));
      await out.sync();
    } finally {
      await out.close();
    }
    await this.handle.close();
    await rename(temp, this.file);
    await syncDir(dirname(this.file));
    this.handle = await open(this.file, 'a+');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.rewriting) await this.rewriting;
    await this.flushing;
    await this.handle.close();
  }

  /** Removes the file; for tests and `--fresh` starts. */
  static async remove(file: string): Promise<void> {
    await rm(file, { force: true });
  }
}
