import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLogger,
  ensureBinaries,
  loadProfile,
  type TangleState,
  tangleDown,
  tangleUp,
} from '@tanglewatt/deploy';
import { NodeApi } from '@tanglewatt/ledger';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    tangle: TangleState;
    hornetVersion: string;
  }
}

/** One fresh tangle for the integration run: real HORNET on free loopback ports, 1 s milestones. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = createLogger('test-tangle');
  const binaries = await ensureBinaries({ log });
  const dataDir = await mkdtemp(join(tmpdir(), 'tanglewatt-test-'));
  const state = await tangleUp({
    dataDir,
    profile: await loadProfile('development'),
    binaries,
    log,
    milestoneInterval: '1s',
    ports: 'auto',
  });
  const info = await new NodeApi(state.nodes[0]!.restUrl).info();
  process.stdout.write(
    `integration tests run against ${info.name} ${info.version} (${info.protocol.networkName})\n`,
  );
  project.provide('tangle', state);
  project.provide('hornetVersion', `${info.name} ${info.version}`);
  return async () => {
    await tangleDown(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  };
}
