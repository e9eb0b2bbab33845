/** Either mode of the community simulator, on a given tangle or on one of its own. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ensureBinaries } from '../install.js';
import { loadProfile } from '../profile.js';
import { type TangleState, tangleDown, tangleUp } from '../tangle.js';
import { type DeliveryOnTangleOptions, type DeliverySummary, runDeliveryOnTangle } from './delivery.js';
import { type ReferenceOnTangleResult, runReferenceOnTangle } from './reference.js';
import { runScaleOnTangle, type ScaleOnTangleOptions, type ScaleSummary } from './scale.js';

export type CommunityOnTangleOptions = {
  log: Logger;
  /** A running tangle; without one, a fresh tangle is started under `dataDir` and torn down at the end. */
  tangle?: TangleState;
  /** Default: a new temp dir, removed at the end. */
  dataDir?: string;
  /** For a tangle of its own (default 1s). */
  milestoneInterval?: string;
} & (
  | { scenario: 'reference'; slots?: readonly number[] }
  | (Omit<DeliveryOnTangleOptions, 'tangle' | 'dataDir' | 'log'> & { scenario: 'delivery' })
  | (Omit<ScaleOnTangleOptions, 'tangle' | 'dataDir' | 'log'> & { scenario?: undefined })
);

export type CommunityOnTangleResult =
  | { mode: 'reference'; result: ReferenceOnTangleResult }
  | { mode: 'delivery'; summary: DeliverySummary }
  | { mode: 'scale'; summary: ScaleSummary };

export async function runCommunityOnTangle(
  options: CommunityOnTangleOptions,
): Promise<CommunityOnTangleResult> {
  const { log } = options;
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'tanglewatt-community-')));
  const networkDir = join(dataDir, 'network');
  let tangle = options.tangle;
  try {
    if (!tangle) {
      tangle = await tangleUp({
        dataDir: networkDir,
        profile: await loadProfile('development'),
        binaries: await ensureBinaries({ log }),
        log,
        milestoneInterval: options.milestoneInterval ?? '1s',
        ports: 'auto',
        fresh: true,
      });
    }
    // Households are made afresh each run (new keystores, a new market id).
    const households = join(dataDir, 'households');
    await rm(households, { recursive: true, force: true });
    if (options.scenario === 'reference')
      return {
        mode: 'reference',
        result: await runReferenceOnTangle({
          tangle,
          dataDir: households,
          log,
          ...(options.slots ? { slots: options.slots } : {}),
        }),
      };
    if (options.scenario === 'delivery')
      return {
        mode: 'delivery',
        summary: await runDeliveryOnTangle({ ...options, tangle, dataDir: households }),
      };
    return {
      mode: 'scale',
      summary: await runScaleOnTangle({ ...options, tangle, dataDir: households }),
    };
  } finally {
    if (!options.tangle && tangle) await tangleDown(networkDir).catch(() => undefined);
    if (ownDir) await rm(dataDir, { recursive: true, force: true });
  }
}
