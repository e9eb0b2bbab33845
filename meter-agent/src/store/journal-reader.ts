import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { JournalCorruptError } from '@tanglewatt/journal';

/**
 * Reads a journal file without opening it for writing. `Journal.open` cuts off a torn last line, which
 * is right for the process that owns the file but would destroy a write in flight if `status` or a test
 * did it while the agent runs; this reader skips such a line instead.
 */
export async function readJournalFile<T>(file: string): Promise<{ records: T[]; tornBytes: number }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], tornBytes: 0 };
    throw error;
  }
  const records: T[] = [];
  const lines = text.split('\n');
  const complete = lines.slice(0, -1);
  let goodBytes = 0;
  for (const [i, line] of complete.entries()) {
    const tab = line.indexOf('\t');
    const json = tab > 0 ? line.slice(tab + 1) : '';
    const sum = createHash('sha256').update(json).digest('hex').slice(0, 12);
    if (tab <= 0 || sum !== line.slice(0, tab)) {
      if (i === complete.length - 1) break;
      throw new JournalCorruptError(file, i + 1);
    }
    records.push(JSON.parse(json) as T);
    goodBytes += Buffer.byteLength(line, 'utf8') + 1;
  }
  return { records, tornBytes: Buffer.byteLength(text, 'utf8') - goodBytes };
}
