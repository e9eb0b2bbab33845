import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JournalCorruptError, JournalFailedError, JournalRewriteError } from './errors.js';
import { FakeFiles } from './fake-files.js';
import { type FileLayer, nodeFiles, READ_CHUNK_BYTES } from './files.js';
import { Journal } from './journal.js';

const FILE = '/data/records.journal';

/** A journal on a fake disk holding the acknowledged records 'a' and 'b'. */
async function withTwo(): Promise<{ files: FakeFiles; journal: Journal<string> }> {
  const files = new FakeFiles();
  const { journal } = await Journal.open<string>(FILE, { files });
  await journal.appendMany(['a', 'b']);
  return { files, journal };
}

/** What a fresh process finds: after power loss (`crash`) or just a restart. */
async function reopen(files: FakeFiles, crash: boolean) {
  if (crash) files.crash();
  const opened = await Journal.open<string>(FILE, { files });
  await opened.journal.close();
  return opened;
}

async function refused(promise: Promise<unknown>): Promise<JournalFailedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JournalFailedError);
  expect((error as JournalFailedError).code).toBe('JOURNAL_FAILED');
  return error as JournalFailedError;
}

describe('Journal on a failing disk', () => {
  it('continues a short write and acknowledges the batch only when all of it is written', async () => {
    const { files, journal } = await withTwo();
    files.inject({ op: 'write', short: 5 }, { op: 'write', short: 3 });
    await journal.appendMany(['c', 'd', 'e']);
    expect(files.pendingFaults).toEqual([]);
    await journal.append('f');
    for (const crash of [false, true]) {
      const reopened = await reopen(files, crash);
      expect(reopened.records).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
      expect(reopened.truncatedBytes).toBe(0);
    }
  });

  it('ENOSPC mid-batch: the batch is rejected, cut back off, and later appends are refused', async () => {
    const { files, journal } = await withTwo();
    const before = files.contents(FILE)!;
    files.capacityBytes = before.length + 20; // the batch fits in part: a short write, then ENOSPC
    const queued = journal.appendMany(['c'.repeat(30), 'd']);
    const error = await refused(queued);
    expect(error.message).toBe(
      `${FILE}: write failed (ENOSPC: no space left on device, write '${FILE}'); the journal accepts no more appends until it is reopened`,
    );
    expect(files.contents(FILE)).toEqual(before);
    files.capacityBytes = Number.POSITIVE_INFINITY;
    await refused(journal.append('e'));
    await journal.close();
    for (const crash of [false, true]) {
      const reopened = await reopen(files, crash);
      expect(reopened.records).toEqual(['a', 'b']);
      expect(reopened.truncatedBytes).toBe(0);
    }
  });

  it('EIO on write after part of the batch was written: nothing of the batch is kept', async () => {
    const { files, journal } = await withTwo();
    files.inject({ op: 'write', short: 9 }, { op: 'write', error: 'EIO' });
    const first = journal.appendMany(['c', 'd']);
    const second = journal.append('e'); // queued behind the failing batch
    expect((await refused(first)).during).toBe('write');
    await refused(second);
    await refused(journal.append('f'));
    for (const crash of [false, true]) expect((await reopen(files, crash)).records).toEqual(['a', 'b']);
    // Reopened, the journal appends again.
    const { journal: again } = await Journal.open<string>(FILE, { files });
    await again.append('g');
    await again.close();
    expect((await reopen(files, true)).records).toEqual(['a', 'b', 'g']);
  });

  it('EIO on write and on the cut-back: complete records of the batch may return, never a partial one', async () => {
    const { files, journal } = await withTwo();
    files.inject({ op: 'write', short: 24 }, { op: 'write', error: 'EIO' }, { op: 'truncate', error: 'EIO' });
    await refused(journal.appendMany(['c', 'dddd']));
    await refused(journal.append('e'));
    const restarted = await reopen(files, false);
    expect(restarted.records).toEqual(['a', 'b', 'c']);
    expect(restarted.truncatedBytes).toBe(7);
  });

  it('EIO on fsync: the batch is rejected, never acknowledged, and the journal is poisoned', async () => {
    const { files, journal } = await withTwo();
    files.inject({ op: 'datasync', error: 'EIO', reachedDisk: 'all' });
    expect((await refused(journal.appendMany(['c', 'd']))).during).toBe('sync');
    // The cut-back succeeded, so the batch is gone although its bytes had reached the disk.
    await refused(journal.append('e'));
    for (const crash of [false, true]) expect((await reopen(files, crash)).records).toEqual(['a', 'b']);
  });

  it('EIO on fsync and on the cut-back: what reached the disk of the batch returns as whole records', async () => {
    const { files, journal } = await withTwo();
    // 'c' and half of 'dddd' reach the disk; the sync that would make the cut-back durable fails too.
    files.inject(
      { op: 'datasync', error: 'EIO', reachedDisk: 24 },
      { op: 'datasync', error: 'EIO', reachedDisk: 0 },
    );
    await refused(journal.appendMany(['c', 'dddd', 'e']));
    await refused(journal.append('f'));
    const afterPowerLoss = await reopen(files, true);
    expect(afterPowerLoss.records).toEqual(['a', 'b', 'c']);
    expect(afterPowerLoss.truncatedBytes).toBeGreaterThan(0); // the partial 'dddd', cut off as a torn tail
  });

  it('EIO on fsync, cut-back failing too: no later write is made (a later sync could report pages never written)', async () => {
    const { files, journal } = await withTwo();
    files.inject({ op: 'datasync', error: 'EIO' }, { op: 'truncate', error: 'EIO' });
    await refused(journal.append('c'));
    await refused(journal.append('d'));
    expect(files.calls.filter((c) => c.startsWith('write')).length).toBe(2); // 'a','b' and 'c' only
    expect((await reopen(files, true)).records).toEqual(['a', 'b']);
  });
});

describe('FakeFiles keeps to the kernel', () => {
  it('after a failed fdatasync the pages are clean but unwritten: a later successful sync skips them', async () => {
    const files = new FakeFiles();
    const out = await files.openForWrite('/d/f', { truncate: false });
    await files.syncDir('/d');
    await out.write(Buffer.from('lost'), 0);
    files.inject({ op: 'datasync', error: 'EIO' });
    await expect(out.datasync()).rejects.toThrow(/EIO/);
    await out.write(Buffer.from('kept'), 4);
    await out.datasync();
    expect(files.contents('/d/f')?.toString()).toBe('lostkept');
    files.crash();
    expect(files.contents('/d/f')).toEqual(Buffer.concat([Buffer.alloc(4), Buffer.from('kept')]));
  });

  it('a name is durable only after its directory is synced', async () => {
    const files = new FakeFiles();
    const out = await files.openForWrite('/d/f', { truncate: false });
    await out.write(Buffer.from('x'), 0);
    await out.datasync();
    files.crash();
    expect(files.contents('/d/f')).toBeUndefined();
  });
});

describe('Journal rewrite on a failing disk', () => {
  for (const [name, fault] of [
    ['ENOSPC writing the new file', { op: 'write', error: 'ENOSPC', path: '.rewrite' }],
    ['EIO syncing the new file', { op: 'datasync', error: 'EIO', path: '.rewrite' }],
    ['EIO renaming it into place', { op: 'rename', error: 'EIO' }],
  ] as const) {
    it(`${name}: the old file stays, the temp file goes, the journal keeps working`, async () => {
      const { files, journal } = await withTwo();
      const before = files.contents(FILE);
      files.inject(fault);
      const error = await journal.rewrite(['ab']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JournalRewriteError);
      expect((error as JournalRewriteError).code).toBe('JOURNAL_REWRITE_FAILED');
      expect(files.contents(FILE)).toEqual(before);
      expect(files.contents('/data/.records.journal.rewrite')).toBeUndefined();
      await journal.append('c');
      await journal.close();
      expect((await reopen(files, true)).records).toEqual(['a', 'b', 'c']);
    });
  }

  it('EIO syncing the directory after the rename: appends are refused; either content replays', async () => {
    const { files, journal } = await withTwo();
    files.inject({ op: 'syncDir', error: 'EIO' });
    const rewrite = journal.rewrite(['ab']);
    const during = journal.append('c'); // waits for the rewrite, then is refused
    expect((await refused(rewrite)).during).toBe('rewrite');
    await refused(during);
    await refused(journal.append('d'));
    expect((await reopen(files, false)).records).toEqual(['ab']);
    expect((await reopen(files, true)).records).toEqual(['a', 'b']);
  });

  it('compacts from the file while appends wait, and keeps them after', async () => {
    const { files, journal } = await withTwo();
    const compaction = journal.compact((records) => [records.join('')]);
    const appended = journal.append('c');
    expect(await compaction).toEqual({ bytesBefore: 34, bytesAfter: 18 });
    await appended;
    expect(journal.size).toBe(35);
    await journal.close();
    expect((await reopen(files, true)).records).toEqual(['ab', 'c']);
  });
});

describe('Journal open reads in chunks', () => {
  it('parses lines across chunk boundaries, with the same torn-tail and damage rules', async () => {
    const files = new FakeFiles();
    files.readChunkBytes = 7;
    const { journal } = await Journal.open<string>(FILE, { files });
    await journal.appendMany(['ä€𝄞', 'plain', 'x'.repeat(20)]);
    await journal.close();
    const good = files.contents(FILE)!;
    files.seed(FILE, Buffer.concat([good, Buffer.from('0123456789ab\t"torn')]));
    const opened = await Journal.open<string>(FILE, { files });
    await opened.journal.close();
    expect(opened.records).toEqual(['ä€𝄞', 'plain', 'x'.repeat(20)]);
    expect(opened.truncatedBytes).toBe(18);
    files.seed(FILE, Buffer.concat([good, Buffer.from('ffffffffffff\t"bad"\n')]));
    expect((await Journal.read<string>(FILE, { files })).tornBytes).toBe(19);
    const lines = good.toString('utf8').split('\n');
    lines[1] = lines[1]!.replace('plain', 'PLAIN');
    files.seed(FILE, Buffer.from(lines.join('\n')));
    const error = await Journal.open<string>(FILE, { files }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JournalCorruptError);
    expect((error as JournalCorruptError).line).toBe(2);
  });

  it('opens a 200k-record journal on disk through bounded chunks, not one string', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'journal-')), 'big.journal');
    const count = 200_000;
    const { journal } = await Journal.open<{ n: number }>(file, { sync: false });
    for (let i = 0; i < count; i += 10_000)
      await journal.appendMany(Array.from({ length: 10_000 }, (_, j) => ({ n: i + j })));
    await journal.close();
    const size = journal.size;
    const seen = { chunks: 0, largest: 0, bytes: 0 };
    const counting: FileLayer = {
      ...nodeFiles,
      async *readChunks(path) {
        for await (const chunk of nodeFiles.readChunks(path)) {
          seen.chunks++;
          seen.bytes += chunk.byteLength;
          seen.largest = Math.max(seen.largest, chunk.byteLength);
          yield chunk;
        }
      },
    };
    const reopened = await Journal.open<{ n: number }>(file, { files: counting });
    await reopened.journal.close();
    expect(reopened.records.length).toBe(count);
    expect(reopened.records[count - 1]).toEqual({ n: count - 1 });
    expect(seen.bytes).toBe(size);
    expect(seen.largest).toBeLessThanOrEqual(READ_CHUNK_BYTES);
    expect(seen.chunks).toBeGreaterThanOrEqual(Math.ceil(size / READ_CHUNK_BYTES));
  });
});
