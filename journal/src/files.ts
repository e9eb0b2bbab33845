import { constants } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';

/**
 * The few file operations the journal needs, so tests can put a disk that fails under it
 * (FakeFiles) and the journal's promises can be checked against what a kernel actually promises.
 */
export interface WritableFile {
  /** Writes at `position`. May write fewer bytes than given (a short write): returns how many it wrote. */
  write(data: Uint8Array, position: number): Promise<number>;
  /** Flushes the data (and the size needed to read it) to the disk. */
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface FileLayer {
  mkdirp(dir: string): Promise<void>;
  /** Opens for writing at explicit positions, creating the file if missing (and emptying it on `truncate`). */
  openForWrite(path: string, options: { truncate: boolean }): Promise<WritableFile>;
  /** The file's bytes, a chunk at a time (never the whole file at once); nothing for a missing file. */
  readChunks(path: string): AsyncIterable<Uint8Array>;
  rename(from: string, to: string): Promise<void>;
  /** Makes the directory's entries (created, renamed files) durable. */
  syncDir(dir: string): Promise<void>;
  remove(path: string): Promise<void>;
}

/** Makes the directory's entries (created, renamed, linked files) durable: fsync on the directory itself. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Bytes read at a time when opening a journal. */
export const READ_CHUNK_BYTES = 64 * 1024;

/** The real file layer, on node:fs/promises. */
export const nodeFiles: FileLayer = {
  async mkdirp(dir) {
    await mkdir(dir, { recursive: true });
  },

  async openForWrite(path, options) {
    const flags = constants.O_WRONLY | constants.O_CREAT | (options.truncate ? constants.O_TRUNC : 0);
    const handle = await open(path, flags);
    return {
      write: async (data, position) => (await handle.write(data, 0, data.byteLength, position)).bytesWritten,
      datasync: () => handle.datasync(),
      truncate: (length) => handle.truncate(length),
      close: () => handle.close(),
    };
  },

  async *readChunks(path) {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      let position = 0;
      for (;;) {
        const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
        const { bytesRead } = await handle.read(chunk, 0, READ_CHUNK_BYTES, position);
        if (bytesRead === 0) return;
        position += bytesRead;
        yield chunk.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  },

  rename: (from, to) => rename(from, to),

  syncDir,

  remove: (path) => rm(path, { force: true }),
};
