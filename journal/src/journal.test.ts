import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JournalCorruptError } from './errors.js';
import { Journal } from './journal.js';

async function file(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'journal-')), 'records.journal');
}

/** A journal file of one record, closed, and then `tail` written after it as a crash might leave it. */
async function oneRecordThen(record: string, tail: string): Promise<string> {
  const f = await file();
  const { journal } = await Journal.open<string>(f);
  await journal.append(record);
  await journal.close();
  await appendFile(f, tail);
  return f;
}

describe('Journal', () => {
  it('replays what was appended, in order, after reopening', async () => {
    const f = await file();
    const { journal } = await Journal.open<{ n: number }>(f);
    await journal.append({ n: 1 });
    await journal.appendMany([{ n: 2 }, { n: 3 }]);
    await journal.close();
    const reopened = await Journal.open<{ n: number }>(f);
    expect(reopened.records).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(reopened.truncatedBytes).toBe(0);
  });

  it('groups concurrent appends and acknowledges each', async () => {
    const f = await file();
    const { journal } = await Journal.open<number>(f);
    await Promise.all(Array.from({ length: 100 }, (_, i) => journal.append(i)));
    await journal.close();
    expect((await Journal.open<number>(f)).records).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('cuts off an interrupted last write and keeps everything before it', async () => {
    const f = await file();
    const { journal } = await Journal.open<string>(f);
    await journal.appendMany(['a', 'b']);
    await journal.close();
    await appendFile(f, '0123456789ab\t"unfinish');
    const reopened = await Journal.open<string>(f);
    expect(reopened.records).toEqual(['a', 'b']);
    expect(reopened.truncatedBytes).toBe('0123456789ab\t"unfinish'.length);
    await reopened.journal.append('c');
    await reopened.journal.close();
    expect((await Journal.open<string>(f)).records).toEqual(['a', 'b', 'c']);
  });

  it('cuts off a last line whose checksum does not match (garbage after power loss)', async () => {
    const f = await oneRecordThen('a', 'ffffffffffff\t"b"\n');
    expect((await Journal.open<string>(f)).records).toEqual(['a']);
  });

  it('refuses a file damaged in the middle, naming the line', async () => {
    const f = await file();
    const { journal } = await Journal.open<string>(f);
    await journal.appendMany(['a', 'b', 'c']);
    await journal.close();
    const lines = (await readFile(f, 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('"b"', '"x"');
    await writeFile(f, lines.join('\n'));
    const error = await Journal.open<string>(f).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JournalCorruptError);
    expect((error as Error).message).toBe(
      `${f}: line 2 is damaged (checksum mismatch); restore the file from a backup or move it away`,
    );
  });

  it('rewrites atomically and keeps appending after', async () => {
    const f = await file();
    const { journal } = await Journal.open<string>(f);
    await journal.appendMany(['a', 'b', 'c']);
    await journal.rewrite(['abc']);
    await journal.append('d');
    await journal.close();
    expect((await Journal.open<string>(f)).records).toEqual(['abc', 'd']);
  });

  it('keeps appends made while a rewrite runs, after the new content', async () => {
    const f = await file();
    const { journal } = await Journal.open<string>(f);
    await journal.appendMany(['a', 'b']);
    const rewrite = journal.rewrite(['ab']);
    const appended = journal.append('c');
    await Promise.all([rewrite, appended]);
    await journal.close();
    expect((await Journal.open<string>(f)).records).toEqual(['ab', 'c']);
  });

  it('reads without writing: a torn tail is skipped and left in place', async () => {
    const f = await oneRecordThen('a', '0123456789ab\t"in fli');
    const before = await readFile(f, 'utf8');
    expect(await Journal.read<string>(f)).toEqual({ records: ['a'], tornBytes: 20 });
    expect(await readFile(f, 'utf8')).toBe(before);
    expect(await Journal.read<string>(`${f}.missing`)).toEqual({ records: [], tornBytes: 0 });
  });

  it('rejects appends after close', async () => {
    const { journal } = await Journal.open<string>(await file());
    await journal.close();
    await expect(journal.append('x')).rejects.toThrow(/closed/);
  });
});
