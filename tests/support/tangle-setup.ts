import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type TangleState, tangleDown } from '@tanglewatt/deploy';
import { NodeApi } from '@tanglewatt/ledger';
import type { TestProject } from 'vitest/node';
import { startDevTangle } from './dev-tangle.js';

declare module 'vitest' {
  export interface ProvidedContext {
    tangle: TangleState;
    hornetVersion: string;
  }
}

/** One fresh tangle for the integration run: real HORNET on free loopback ports, 1 s milestones. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = createLogger('test-tangle');
  const dataDir = await mkdtemp(join(tmpdir(), 'tanglewatt-test-'));
  const state = await startDevTangle(dataDir, log);
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
