import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { JournalCorruptError, JournalFailedError, JournalRewriteError } from './errors.js';
import { type FileLayer, nodeFiles, type WritableFile } from './files.js';

/**
 * An append-only file of records, one per line: `<checksum>\t<json>\n`. `append` resolves only after the
 * bytes are on disk (fdatasync), so a record that was acknowledged survives kill -9 and power loss.
 * Appends that arrive while a sync is running are written together by the next one (group commit).
 *
 * On open, a last line without its newline or with a wrong checksum is what an interrupted write
 * leaves: it is cut off. A bad line anywhere else means the file was damaged and opening fails.
 * The file is read in chunks, a line at a time, never as one string.
 *
 * A failed disk stops the journal instead of guessing. A write that fails (ENOSPC, EIO; a short write
 * is simply continued) or a sync that fails rejects its batch: the file is cut back to the end of the
 * last acknowledged record (and that cut synced), and every later append is refused with
 * JournalFailedError until the journal is reopened. After a failed fdatasync the kernel may have
 * written any part of the batch, or marked it clean without writing it, so nothing more is trusted.
 * After reopening, a rejected batch is wholly absent, except when the disk refuses the cut-back too (its
 * truncate or its sync fails; in practice after a failed fdatasync, when the bytes may be on disk): then
 * those of its records that reached the disk come back as complete records (a partly written one is cut
 * off as a torn tail), so a caller must treat a rejected batch as "maybe written" — as the wallet-service
 * does by journaling before acting. Acknowledged records are never lost.
 */

export interface OpenedJournal<T> {
  journal: Journal<T>;
  records: T[];
  /** Bytes of an interrupted last write that were cut off on open. */
  truncatedBytes: number;
}

export interface JournalOptions {
  /** Sync each group of appends to disk before acknowledging it. Only tests of speed turn this off. */
  sync?: boolean;
  /** The file operations; tests pass a FakeFiles to inject disk faults. */
  files?: FileLayer;
}

interface Pending {
  bytes: Buffer;
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

const NEWLINE = 0x0a;

/**
 * Folds a journal's bytes, chunk by chunk, into its good records. A bad line is held until the next
 * line shows it was not the last (damage) or the end shows it was (a torn tail).
 */
class Parser<T> {
  readonly records: T[] = [];
  goodBytes = 0;
  totalBytes = 0;
  private lines = 0;
  private partial: Buffer[] = [];
  private badLine: number | undefined;

  constructor(private readonly file: string) {}

  push(chunk: Uint8Array): void {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.totalBytes += bytes.length;
    let start = 0;
    for (let nl = bytes.indexOf(NEWLINE, start); nl !== -1; nl = bytes.indexOf(NEWLINE, start)) {
      const piece = bytes.subarray(start, nl);
      this.line(this.partial.length ? Buffer.concat([...this.partial, piece]) : piece);
      this.partial = [];
      start = nl + 1;
    }
    if (start < bytes.length) this.partial.push(Buffer.from(bytes.subarray(start)));
  }

  private line(bytes: Buffer): void {
    this.lines++;
    if (this.badLine !== undefined) throw new JournalCorruptError(this.file, this.badLine);
    const line = bytes.toString('utf8');
    const tab = line.indexOf('\t');
    const json = tab > 0 ? line.slice(tab + 1) : '';
    if (tab <= 0 || checksum(json) !== line.slice(0, tab)) {
      this.badLine = this.lines;
      return;
    }
    this.records.push(JSON.parse(json) as T);
    this.goodBytes += bytes.length + 1;
  }
}

async function parseFile<T>(files: FileLayer, file: string): Promise<Parser<T>> {
  const parser = new Parser<T>(file);
  for await (const chunk of files.readChunks(file)) parser.push(chunk);
  return parser;
}

/** Writes all of `bytes` at `position`, continuing after short writes. */
async function writeAll(out: WritableFile, bytes: Buffer, position: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const n = await out.write(bytes.subarray(done), position + done);
    if (n <= 0) throw new Error(`write stored ${n} of ${bytes.length - done} bytes`);
    done += n;
  }
}

export class Journal<T> {
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private rewriting: Promise<void> | undefined;
  private closed = false;
  private failure: JournalFailedError | undefined;

  private constructor(
    readonly file: string,
    private handle: WritableFile,
    /** End of the last acknowledged record: where the next batch goes. */
    private offset: number,
    private readonly sync: boolean,
    private readonly files: FileLayer,
  ) {}

  /**
   * Reads a journal without opening it for writing: a torn last line is skipped, not cut off, so a
   * reader (a status command, a test) never destroys a write in flight by the process that owns it.
   */
  static async read<T>(
    file: string,
    options: Pick<JournalOptions, 'files'> = {},
  ): Promise<{ records: T[]; tornBytes: number }> {
    const { records, goodBytes, totalBytes } = await parseFile<T>(options.files ?? nodeFiles, file);
    return { records, tornBytes: totalBytes - goodBytes };
  }

  static async open<T>(file: string, options: JournalOptions = {}): Promise<OpenedJournal<T>> {
    const files = options.files ?? nodeFiles;
    await files.mkdirp(dirname(file));
    const { records, goodBytes, totalBytes } = await parseFile<T>(files, file);
    const handle = await files.openForWrite(file, { truncate: false });
    try {
      if (goodBytes < totalBytes) {
        await handle.truncate(goodBytes);
        await handle.datasync();
      }
      if (totalBytes === 0) await files.syncDir(dirname(file));
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    return {
      journal: new Journal<T>(file, handle, goodBytes, options.sync ?? true, files),
      records,
      truncatedBytes: totalBytes - goodBytes,
    };
  }

  /** Bytes of acknowledged records in the file (what a compaction would shrink). */
  get size(): number {
    return this.offset;
  }

  /** Set once a disk failure stopped the journal: every append is refused with it. */
  get failed(): JournalFailedError | undefined {
    return this.failure;
  }

  /** Resolves once the record is durable. */
  append(record: T): Promise<void> {
    return this.appendMany([record]);
  }

  /** Appends records as one write; all or, after a crash, a prefix of them survive. */
  appendMany(records: readonly T[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.file}: journal is closed`));
    if (this.failure) return Promise.reject(this.failure);
    if (records.length === 0) return Promise.resolve();
    const bytes = Buffer.from(records.map(encode).join(''), 'utf8');
    return new Promise((resolve, reject) => {
      this.pending.push({ bytes, resolve, reject });
      // During a rewrite, appends wait and are written after it.
      if (!this.rewriting) this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length && !this.rewriting) {
      const batch = this.pending.splice(0);
      if (this.failure) {
        for (const p of batch) p.reject(this.failure);
        continue;
      }
      const bytes = batch.length === 1 ? batch[0]!.bytes : Buffer.concat(batch.map((p) => p.bytes));
      let during: 'write' | 'sync' = 'write';
      try {
        await writeAll(this.handle, bytes, this.offset);
        during = 'sync';
        if (this.sync) await this.handle.datasync();
      } catch (error) {
        this.failure = new JournalFailedError(this.file, during, error);
        await this.cutBack();
        for (const p of batch) p.reject(this.failure);
        continue;
      }
      this.offset += bytes.length;
      for (const p of batch) p.resolve();
    }
    this.flushing = undefined;
  }

  /** Takes a rejected batch back off the file, as far as the disk still lets us. */
  private async cutBack(): Promise<void> {
    try {
      await this.handle.truncate(this.offset);
      if (this.sync) await this.handle.datasync();
    } catch {
      // Reopening cuts a partial record off as a torn tail; complete ones may come back (see above).
    }
  }

  /**
   * Replaces the whole journal with `records` atomically (compaction). Appends made while it runs are
   * written after the new content. A rewrite that fails before the new file took the journal's name
   * throws JournalRewriteError and changes nothing; one that fails after (the directory sync) stops the
   * journal (JournalFailedError), as appends to a file whose name may not survive a crash are not safe.
   */
  rewrite(records: readonly T[]): Promise<void> {
    return this.exclusively(() => this.replace(records));
  }

  /**
   * Rewrites the journal as `compactor(records)`, given every record in it: appends wait meanwhile, so
   * nothing acknowledged can fall between the read and the rewrite. Returns the sizes before and after.
   */
  compact(compactor: (records: T[]) => T[]): Promise<{ bytesBefore: number; bytesAfter: number }> {
    return this.exclusively(async () => {
      const bytesBefore = this.offset;
      const { records } = await parseFile<T>(this.files, this.file);
      await this.replace(compactor(records));
      return { bytesBefore, bytesAfter: this.offset };
    });
  }

  private async exclusively<R>(task: () => Promise<R>): Promise<R> {
    while (this.rewriting) await this.rewriting;
    if (this.closed) throw new Error(`${this.file}: journal is closed`);
    const run = (async () => {
      await this.flushing;
      if (this.failure) throw this.failure;
      return task();
    })();
    this.rewriting = run.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await run;
    } finally {
      this.rewriting = undefined;
      if (this.pending.length) this.flushing ??= this.flush();
    }
  }

  private async replace(records: readonly T[]): Promise<void> {
    const dir = dirname(this.file);
    const temp = join(dir, `.${basename(this.file)}.rewrite`);
    const bytes = Buffer.from(records.map(encode).join(''), 'utf8');
    let out: WritableFile | undefined;
    try {
      out = await this.files.openForWrite(temp, { truncate: true });
      await writeAll(out, bytes, 0);
      await out.datasync();
      await out.close();
      out = undefined;
      await this.files.rename(temp, this.file);
    } catch (error) {
      await out?.close().catch(() => undefined);
      await this.files.remove(temp).catch(() => undefined);
      throw new JournalRewriteError(this.file, error);
    }
    // The name now points at the new file; until the directory is synced a crash may bring back the old
    // one (same records, as a rewrite must keep them), so nothing is appended before that sync.
    try {
      await this.files.syncDir(dir);
      const next = await this.files.openForWrite(this.file, { truncate: false });
      await this.handle.close().catch(() => undefined);
      this.handle = next;
      this.offset = bytes.length;
    } catch (error) {
      this.failure = new JournalFailedError(this.file, 'rewrite', error);
      throw this.failure;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.rewriting) await this.rewriting;
    await this.flushing;
    await this.handle.close();
  }

  /** Removes the file; for tests and `--fresh` starts. */
  static async remove(file: string, options: Pick<JournalOptions, 'files'> = {}): Promise<void> {
    await (options.files ?? nodeFiles).remove(file);
  }
}
