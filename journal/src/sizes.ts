import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const JOURNAL = /\.journal$/;

/**
 * Bytes on disk of the journals in a data dir, by name: `payments.journal` → "payments", and a folder of
 * journals (e.g. one file per day in `samples/`) → the folder's name with their sizes added up. A missing
 * dir or a file removed while it is read counts as nothing: sizes are for watching growth, not for proof.
 */
export async function journalSizes(dataDir: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const entries = await readdir(dataDir, { withFileTypes: true }).catch(() => []);
  const bytes = (file: string) =>
    stat(file).then(
      (s) => s.size,
      () => 0,
    );
  for (const entry of entries) {
    if (entry.isFile() && JOURNAL.test(entry.name)) {
      sizes.set(entry.name.replace(JOURNAL, ''), await bytes(join(dataDir, entry.name)));
    } else if (entry.isDirectory()) {
      const inner = await readdir(join(dataDir, entry.name)).catch(() => [] as string[]);
      const journals = inner.filter((name) => JOURNAL.test(name));
      if (journals.length === 0) continue;
      let total = 0;
      for (const name of journals) total += await bytes(join(dataDir, entry.name, name));
      sizes.set(entry.name, total);
    }
  }
  return sizes;
}
