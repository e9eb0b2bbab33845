import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '@tanglewatt/journal';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import type { SampleRecord } from '../metering/records.js';
import { readJournalFile } from './journal-reader.js';
import { acquireLock } from './lock.js';
import { readAllSamples, SampleStore, sampleFileName } from './sample-store.js';
import { type PeriodRecord, paymentState, readState, StateStore } from './state.js';

async function dir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'meter-store-'));
}

const sample = (tMs: number): SampleRecord => ({ tMs, readings: [{ sensor: 'load', error: 'x' }] });

describe('journal reader', () => {
  it('skips a torn last line without cutting it off the file', async () => {
    const file = join(await dir(), 'j.journal');
    const { journal } = await Journal.open<number>(file);
    await journal.appendMany([1, 2]);
    await journal.close();
    await appendFile(file, 'abc\t{"half');
    const before = await readFile(file, 'utf8');
    expect(await readJournalFile<number>(file)).toEqual({ records: [1, 2], tornBytes: 10 });
    expect(await readFile(file, 'utf8')).toBe(before);
  });
});

describe('SampleStore', () => {
  it('writes one file per UTC day and prunes whole days', async () => {
    const d = await dir();
    const store = new SampleStore(d);
    const day1 = Date.UTC(2024, 5, 1, 23, 59, 59);
    await store.append(sample(day1));
    await store.append(sample(day1 + 2000));
    await store.append(sample(day1 + 3000));
    await store.close();
    expect(sampleFileName(day1)).toBe('2024-06-01.journal');
    expect((await readAllSamples(d)).map((s) => s.tMs)).toEqual([day1, day1 + 2000, day1 + 3000]);
    const reopened = new SampleStore(d);
    expect((await reopened.readFrom(day1 + 1000, day1 + 5000)).map((s) => s.tMs)).toEqual([
      day1 + 2000,
      day1 + 3000,
    ]);
    expect(await reopened.prune(day1 + 2000)).toEqual(['2024-06-01.journal']);
    await reopened.close();
    expect((await readAllSamples(d)).map((s) => s.tMs)).toEqual([day1 + 2000, day1 + 3000]);
  });
});

describe('data dir lock', () => {
  it('refuses a second agent and takes over a lock left by a dead one', async () => {
    const d = await dir();
    const release = await acquireLock(d);
    await expect(acquireLock(d)).rejects.toThrow(/another meter-agent \(pid \d+\) is using/);
    await release();
    const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
    await writeFile(join(d, 'agent.lock'), JSON.stringify({ pid: process.ppid, bootId: boot }));
    await expect(acquireLock(d)).rejects.toThrow(/another meter-agent \(pid \d+\) is using/);
    await writeFile(join(d, 'agent.lock'), JSON.stringify({ pid: 2 ** 22 + 7, bootId: boot }));
    const again = await acquireLock(d);
    await again();
  });
});

describe('StateStore', () => {
  it('compacts to one record per period, keeping payment outcomes and what is still queued', async () => {
    const d = await dir();
    const store = await StateStore.open(d);
    const period = (seq: number): PeriodRecord =>
      ({
        id: `m/${seq}`,
        seq,
        startMs: seq * 1000,
        endMs: (seq + 1) * 1000,
        amount: '1',
        payment: { state: 'due', key: `m/${seq}`, to: 'watt1q', amount: '1' },
      }) as unknown as PeriodRecord;
    for (let seq = 1; seq <= 120; seq++) {
      await store.append({ kind: 'period', period: period(seq) });
      if (seq < 118)
        await store.append({ kind: 'payment', outcome: { key: `m/${seq}`, atMs: seq, result: 'accepted' } });
    }
    expect(store.recordCount).toBe(237);
    expect(await store.compactIfWorthIt()).toBe(true);
    expect(store.recordCount).toBe(120);
    await store.close();
    const state = await readState(d);
    expect(state.periods.map((p) => p.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(
      state.periods.filter((p) => paymentState(p, state.outcomes) === 'queued').map((p) => p.seq),
    ).toEqual([118, 119, 120]);
  });
});

describe('sample store durability', () => {
  const T = Date.UTC(2024, 5, 1, 23, 59, 50);

  it('every-sample: each append resolves with the sample on disk', async () => {
    const d = await dir();
    const store = new SampleStore(d);
    await store.append(sample(T));
    expect(await readAllSamples(d)).toEqual([sample(T)]);
    await store.close();
  });

  it('everySeconds: holds samples and writes them as one synced group N s after the first', async () => {
    const d = await dir();
    const clock = new ManualClock(T);
    const store = new SampleStore(d, { durability: { everySeconds: 5 }, clock });
    for (let i = 0; i < 4; i++) {
      await store.append(sample(T + i * 1000));
      clock.advance(1000);
    }
    expect(await readAllSamples(d)).toEqual([]); // 4 s: nothing written yet
    await store.append(sample(T + 4000));
    clock.advance(1000); // 5 s after the first: the group goes out
    await store.flush(); // (waits for the write the timer started)
    expect((await readAllSamples(d)).map((s) => s.tMs)).toEqual([0, 1, 2, 3, 4].map((i) => T + i * 1000));
    expect(store.writes).toBe(1);
    await store.close();
  });

  it('everySeconds: a sync append writes at once; close writes what is held; a group splits at midnight', async () => {
    const d = await dir();
    const clock = new ManualClock(T);
    const store = new SampleStore(d, { durability: { everySeconds: 60 }, clock });
    await store.append(sample(T));
    await store.append(sample(T + 1000), { sync: true });
    expect((await readAllSamples(d)).length).toBe(2);
    await store.append(sample(T + 9000));
    await store.append(sample(T + 11_000)); // the next UTC day
    await store.close();
    expect((await readAllSamples(d)).map((s) => s.tMs)).toEqual([T, T + 1000, T + 9000, T + 11_000]);
    expect(await readJournalFile(join(d, sampleFileName(T + 11_000)))).toMatchObject({
      records: [sample(T + 11_000)],
    });
  });

  it('everySeconds: a failed group write is reported with how many samples it held', async () => {
    const d = await dir();
    await writeFile(join(d, 'blocker'), '');
    const clock = new ManualClock(T);
    const failures: number[] = [];
    // The samples directory is a file: every journal open fails.
    const store = new SampleStore(join(d, 'blocker'), { durability: { everySeconds: 5 }, clock });
    store.onWriteError = (_error, count) => failures.push(count);
    await store.append(sample(T));
    await store.append(sample(T + 1000));
    await expect(store.flush()).rejects.toThrow();
    expect(failures).toEqual([2]);
    await store.close();
  });
});
