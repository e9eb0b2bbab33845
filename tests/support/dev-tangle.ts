import { ensureBinaries, loadProfile, type TangleState, tangleUp } from '@tanglewatt/deploy';
import type { Logger } from 'pino';

/**
 * Starts (or, from an existing data dir, resumes) a development-profile tangle on free loopback ports,
 * building the binaries first if missing: what tests, benchmarks, the fuzzer and the drill all run on.
 * `milestoneInterval` undefined keeps the profile's own.
 */
export async function startDevTangle(
  dataDir: string,
  log: Logger,
  milestoneInterval: string | undefined = '1s',
): Promise<TangleState> {
  return tangleUp({
    dataDir,
    profile: await loadProfile('development'),
    binaries: await ensureBinaries({ log }),
    log,
    ...(milestoneInterval ? { milestoneInterval } : {}),
    ports: 'auto',
  });
}
