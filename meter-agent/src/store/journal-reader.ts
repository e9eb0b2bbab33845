import { Journal } from '@tanglewatt/journal';

/** Reads a journal without opening it for writing (see `Journal.read`). */
export function readJournalFile<T>(file: string): Promise<{ records: T[]; tornBytes: number }> {
  return Journal.read<T>(file);
}
