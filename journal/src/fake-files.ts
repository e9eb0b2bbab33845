import { dirname } from 'node:path';
import type { FileLayer, WritableFile } from './files.js';

/**
 * An in-memory disk for tests that keeps only the promises a Linux kernel makes:
 * - write lands in the page cache and may be short (a full disk writes what fits, then fails ENOSPC);
 * - only a successful fdatasync makes a file's bytes durable; a created or renamed name is durable only
 *   after the directory is synced;
 * - a failed fdatasync (EIO) may have written any prefix of the dirty bytes; the rest is marked clean
 *   in the cache without being on disk, so a later "successful" fdatasync does not write it either
 *   (what PostgreSQL's "fsyncgate" found);
 * - `crash()` is power loss: every file goes back to what was durable.
 * Faults are injected one call at a time with `inject`, or as a disk size with `capacityBytes`.
 */

export type FakeFault =
  | { op: 'write'; error: 'ENOSPC' | 'EIO'; path?: string }
  /** The next write stores only `bytes` of its data (and reports so). */
  | { op: 'write'; short: number; path?: string }
  /** The sync fails; `reachedDisk` dirty bytes (from the first) made it to the disk anyway. */
  | { op: 'datasync'; error: 'EIO'; reachedDisk?: number | 'all'; path?: string }
  | { op: 'truncate' | 'rename' | 'syncDir' | 'open'; error: 'EIO' | 'ENOSPC'; path?: string };

interface Inode {
  id: number;
  /** What reads see. */
  cache: Buffer;
  /** What survives a crash. */
  disk: Buffer;
  /** Ranges marked clean by a failed sync that never reached the disk. */
  stale: [number, number][];
}

function errnoError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const text = code === 'ENOSPC' ? 'no space left on device' : 'i/o error';
  return Object.assign(new Error(`${code}: ${text}, ${syscall} '${path}'`), { code, syscall, path });
}

/** `ranges` minus [start, end). */
function cut(ranges: [number, number][], start: number, end: number): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of ranges) {
    if (b <= start || a >= end) out.push([a, b]);
    else {
      if (a < start) out.push([a, start]);
      if (b > end) out.push([end, b]);
    }
  }
  return out;
}

export class FakeFiles implements FileLayer {
  /** Names as the running system sees them, and as they survive a crash. */
  private names = new Map<string, Inode>();
  private durableNames = new Map<string, Inode>();
  private faults: FakeFault[] = [];
  private nextId = 1;
  /** Bumped by a crash: handles opened before it are gone. */
  private boot = 0;
  /** Total bytes the disk holds; a write past it is short, then ENOSPC. */
  capacityBytes = Number.POSITIVE_INFINITY;
  /** Bytes handed out per chunk by readChunks. */
  readChunkBytes = 64 * 1024;
  /** What the read path handed out: proof it was chunked. */
  readonly reads = { chunks: 0, largestChunkBytes: 0 };
  /** Every call made, `op path`, for tests that check the order. */
  readonly calls: string[] = [];

  inject(...faults: FakeFault[]): void {
    this.faults.push(...faults);
  }

  /** Faults injected but not met yet. */
  get pendingFaults(): readonly FakeFault[] {
    return this.faults;
  }

  private take(op: FakeFault['op'], path: string): FakeFault | undefined {
    const i = this.faults.findIndex((f) => f.op === op && (!f.path || path.endsWith(f.path)));
    return i < 0 ? undefined : this.faults.splice(i, 1)[0];
  }

  private fail(op: FakeFault['op'], path: string): void {
    const fault = this.take(op, path);
    if (fault && 'error' in fault) throw errnoError(fault.error, op, path);
  }

  private used(): number {
    let total = 0;
    for (const inode of new Set(this.names.values())) total += inode.cache.length;
    return total;
  }

  /** The bytes the running system reads from `path` (undefined if missing). */
  contents(path: string): Buffer | undefined {
    const inode = this.names.get(path);
    return inode && Buffer.from(inode.cache);
  }

  /** Puts bytes on the disk as if written and synced long ago. */
  seed(path: string, data: Uint8Array): void {
    const inode: Inode = { id: this.nextId++, cache: Buffer.from(data), disk: Buffer.from(data), stale: [] };
    this.names.set(path, inode);
    this.durableNames.set(path, inode);
  }

  /** Power loss: only what reached the disk remains; open handles are gone. */
  crash(): void {
    this.boot++;
    this.names = new Map(this.durableNames);
    for (const inode of new Set(this.names.values())) {
      inode.cache = Buffer.from(inode.disk);
      inode.stale = [];
    }
    this.faults = [];
  }

  async mkdirp(): Promise<void> {}

  async openForWrite(path: string, options: { truncate: boolean }): Promise<WritableFile> {
    this.calls.push(`open ${path}`);
    this.fail('open', path);
    let inode = this.names.get(path);
    if (!inode) {
      inode = { id: this.nextId++, cache: Buffer.alloc(0), disk: Buffer.alloc(0), stale: [] };
      this.names.set(path, inode);
    }
    if (options.truncate) inode.cache = Buffer.alloc(0);
    const node = inode;
    const boot = this.boot;
    let closed = false;
    const alive = (syscall: string) => {
      if (closed || boot !== this.boot) throw errnoError('EBADF', syscall, path);
    };
    return {
      write: async (data, position) => {
        alive('write');
        this.calls.push(`write ${path}`);
        const fault = this.take('write', path);
        if (fault && 'error' in fault) throw errnoError(fault.error, 'write', path);
        const free = this.capacityBytes - this.used();
        let n = Math.max(0, Math.min(data.byteLength, node.cache.length + free - position));
        if (fault && 'short' in fault) n = Math.min(n, fault.short);
        if (n === 0 && data.byteLength > 0) throw errnoError('ENOSPC', 'write', path);
        const end = position + n;
        if (end > node.cache.length) {
          const grown = Buffer.alloc(end);
          node.cache.copy(grown);
          node.cache = grown;
        }
        Buffer.from(data.buffer, data.byteOffset, n).copy(node.cache, position);
        node.stale = cut(node.stale, position, end);
        return n;
      },
      datasync: async () => {
        alive('datasync');
        this.calls.push(`datasync ${path}`);
        const fault = this.take('datasync', path);
        const next = Buffer.from(node.cache);
        // Bytes marked clean by an earlier failed sync are not written again.
        for (const [a, b] of node.stale) {
          next.fill(0, a, Math.min(b, next.length));
          node.disk.copy(next, a, a, Math.min(b, next.length, node.disk.length));
        }
        if (fault && 'error' in fault) {
          let first = 0;
          while (first < next.length && first < node.disk.length && next[first] === node.disk[first]) first++;
          const dirty = next.length - first;
          const asked = fault.op === 'datasync' ? (fault.reachedDisk ?? 0) : 0;
          const reached = asked === 'all' ? dirty : Math.min(dirty, asked);
          if (reached > 0) {
            const disk = Buffer.alloc(Math.max(node.disk.length, first + reached));
            node.disk.copy(disk);
            next.copy(disk, first, first, first + reached);
            node.disk = disk;
          }
          node.stale.push([first + reached, next.length]);
          throw errnoError(fault.error, 'datasync', path);
        }
        node.disk = next;
      },
      truncate: async (length) => {
        alive('truncate');
        this.calls.push(`truncate ${path}`);
        this.fail('truncate', path);
        const cache = Buffer.alloc(length);
        node.cache.copy(cache, 0, 0, Math.min(length, node.cache.length));
        node.cache = cache;
        node.stale = cut(node.stale, length, Number.POSITIVE_INFINITY);
      },
      close: async () => {
        closed = true;
      },
    };
  }

  async *readChunks(path: string): AsyncIterable<Uint8Array> {
    const inode = this.names.get(path);
    if (!inode) return;
    const data = Buffer.from(inode.cache);
    for (let at = 0; at < data.length; at += this.readChunkBytes) {
      const chunk = data.subarray(at, at + this.readChunkBytes);
      this.reads.chunks++;
      this.reads.largestChunkBytes = Math.max(this.reads.largestChunkBytes, chunk.length);
      yield chunk;
    }
  }

  async rename(from: string, to: string): Promise<void> {
    this.calls.push(`rename ${from} ${to}`);
    this.fail('rename', to);
    const inode = this.names.get(from);
    if (!inode) throw errnoError('ENOENT', 'rename', from);
    this.names.delete(from);
    this.names.set(to, inode);
  }

  async syncDir(dir: string): Promise<void> {
    this.calls.push(`syncDir ${dir}`);
    this.fail('syncDir', dir);
    for (const name of [...this.durableNames.keys()])
      if (dirname(name) === dir && !this.names.has(name)) this.durableNames.delete(name);
    for (const [name, inode] of this.names) if (dirname(name) === dir) this.durableNames.set(name, inode);
  }

  async remove(path: string): Promise<void> {
    this.calls.push(`remove ${path}`);
    this.names.delete(path);
  }
}
