import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentSnapshot } from '@tanglewatt/contract';

/** The live state of an agent: what a dashboard shows and what `meter-agent status` prints. */
export type { AgentSnapshot } from '@tanglewatt/contract';

export const STATUS_FILE = 'status.json';

/** Replaces status.json atomically. Not synced: it is a view, rebuilt every few seconds. */
export async function writeStatus(dataDir: string, snapshot: AgentSnapshot): Promise<void> {
  const file = join(dataDir, STATUS_FILE);
  const temp = `${file}.tmp`;
  await writeFile(temp, `${JSON.stringify(snapshot, null, 2)}\n`);
  await rename(temp, file);
}

export async function readStatus(dataDir: string): Promise<AgentSnapshot | undefined> {
  try {
    return JSON.parse(await readFile(join(dataDir, STATUS_FILE), 'utf8')) as AgentSnapshot;
  } catch {
    return undefined;
  }
}
