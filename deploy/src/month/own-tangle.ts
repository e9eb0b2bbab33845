/** The simulated month on a private tangle of its own, started fresh under `<dataDir>/network` and torn down after. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ensureBinaries } from '../install.js';
import { loadProfile } from '../profile.js';
import { tangleDown, tangleUp } from '../tangle.js';
import { type MonthOptions, type MonthResult, runMonthOnTangle } from './run.js';

export async function runMonth(
  options: Omit<MonthOptions, 'tangle'> & { log: Logger; milestoneInterval?: string },
): Promise<MonthResult> {
  const { log } = options;
  const networkDir = join(options.dataDir, 'network');
  const tangle = await tangleUp({
    dataDir: networkDir,
    profile: await loadProfile('development'),
    binaries: await ensureBinaries({ log }),
    log,
    milestoneInterval: options.milestoneInterval ?? '1s',
    ports: 'auto',
    fresh: true,
  });
  try {
    return await runMonthOnTangle({ ...options, tangle, dataDir: join(options.dataDir, 'households') });
  } finally {
    await tangleDown(networkDir).catch(() => undefined);
  }
}
