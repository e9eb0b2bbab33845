import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Binaries,
  createLogger,
  DeployError,
  ensureBinaries,
  freePorts,
  loadProfile,
  type NetworkProfile,
  readState,
  tangleDown,
  tangleStatus,
  tangleUp,
} from '@tanglewatt/deploy';
import { NodeApi } from '@tanglewatt/ledger';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processesUnder } from '../support/processes.js';
import { waitForProgress } from '../support/progress.js';

const log = createLogger('lifecycle-test');
let binaries: Binaries;
let profile: NetworkProfile;
const dirs: string[] = [];

async function newDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tanglewatt-lifecycle-'));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  binaries = await ensureBinaries({ log });
  profile = await loadProfile('development');
});

afterEach(async () => {
  for (const dir of dirs.splice(0)) {
    await tangleDown(dir).catch(() => undefined);
    expect(processesUnder(dir)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  }
});

async function expectDeployError(promise: Promise<unknown>, code: string): Promise<DeployError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeployError);
  expect((error as DeployError).code).toBe(code);
  expect((error as DeployError).message).not.toContain('\n');
  return error as DeployError;
}

// Each test starts whole networks (three nodes in the first) beside the shared test tangle. The waits
// follow progress (tangleUp's milestone wait restarts each time the slowest node moves on), so the
// timeout is only an outer bound.
describe('tangle lifecycle on real HORNET', { timeout: 600_000 }, () => {
  it('three statically peered nodes all sync and confirm the same milestones', async () => {
    const dataDir = await newDir();
    const state = await tangleUp({
      dataDir,
      profile,
      binaries,
      log,
      nodes: 3,
      milestoneInterval: '1s',
      ports: 'auto',
    });
    expect(state.nodes).toHaveLength(3);
    const apis = state.nodes.map((n) => new NodeApi(n.restUrl));
    const infos = await Promise.all(apis.map((a) => a.info()));
    for (const info of infos) {
      expect(info.status.isHealthy).toBe(true);
      expect(info.status.confirmedMilestone.index).toBeGreaterThan(1);
    }
    // A milestone seen by node 1 is known to the others with the same id.
    const target = infos[0]!.status.confirmedMilestone.index;
    await waitForProgress({
      what: `every node confirming milestone ${target}`,
      probe: async () => Promise.all(apis.map(async (a) => (await a.info()).status.confirmedMilestone.index)),
      done: (indexes) => Math.min(...indexes) >= target,
      progressed: (before, now) => Math.min(...now) > Math.min(...before),
      show: (indexes) => `confirmed ${indexes.join(', ')}`,
      stallMs: 30_000,
      ceilingMs: 180_000,
    });
    const ids = await Promise.all(
      apis.map(async (a) => (await a.milestoneByIndex(target)).previousMilestoneId),
    );
    expect(new Set(ids).size).toBe(1);
  });

  it('stops every process by PID and resumes the same network on the next start', async () => {
    const dataDir = await newDir();
    const first = await tangleUp({ dataDir, profile, binaries, log, milestoneInterval: '1s', ports: 'auto' });
    const api = new NodeApi(first.nodes[0]!.restUrl);
    const before = (await api.info()).status.confirmedMilestone.index;
    const stopped = await tangleDown(dataDir);
    expect(stopped.map((p) => p.name).sort()).toEqual(first.processes.map((p) => p.name).sort());
    expect(processesUnder(dataDir)).toEqual([]);
    await tangleUp({ dataDir, profile, binaries, log, milestoneInterval: '1s' });
    const status = await tangleStatus(dataDir);
    expect(status.processes.every((p) => p.running)).toBe(true);
    expect(status.nodes[0]!.confirmedMilestone).toBeGreaterThan(before);
  });

  it('refuses a second start of a running network', async () => {
    const dataDir = await newDir();
    await tangleUp({ dataDir, profile, binaries, log, milestoneInterval: '1s', ports: 'auto' });
    const error = await expectDeployError(tangleUp({ dataDir, profile, binaries, log }), 'ALREADY_RUNNING');
    expect(error.message).toMatch(/tangle -- down/);
  });

  it('a port in use gives a one-line error naming the port and the flag, and starts nothing', async () => {
    const dataDir = await newDir();
    const [rest, gossip, inx, mqtt] = (await freePorts(4)) as [number, number, number, number];
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(rest, '127.0.0.1', resolve));
    try {
      const error = await expectDeployError(
        tangleUp({ dataDir, profile, binaries, log, ports: { rest, gossip, inx, mqtt } }),
        'PORT_IN_USE',
      );
      expect(error.message).toBe(
        `port ${rest} (hornet-1 REST API) is in use: stop what holds it or choose other ports with --rest-port`,
      );
    } finally {
      blocker.close();
    }
    expect(processesUnder(dataDir)).toEqual([]);
    expect(await readState(dataDir)).toBeUndefined();
  });

  it('a stale data dir gives a one-line error naming the fix and is left untouched', async () => {
    const dataDir = await newDir();
    await mkdir(join(dataDir, 'hornet-1'), { recursive: true });
    await writeFile(join(dataDir, 'hornet-1', 'leftover'), 'x');
    const error = await expectDeployError(
      tangleUp({ dataDir, profile, binaries, log, ports: 'auto' }),
      'DATA_DIR_STALE',
    );
    expect(error.message).toMatch(/up --fresh/);
    expect(await readFile(join(dataDir, 'hornet-1', 'leftover'), 'utf8')).toBe('x');
  });

  it('a network that does not confirm in time fails with SYNC_TIMEOUT and leaves no process behind', async () => {
    const dataDir = await newDir();
    await expectDeployError(
      tangleUp({
        dataDir,
        profile,
        binaries,
        log,
        milestoneInterval: '1s',
        ports: 'auto',
        readyTimeoutMs: 1,
      }),
      'SYNC_TIMEOUT',
    );
    expect(processesUnder(dataDir)).toEqual([]);
    expect((await readState(dataDir))?.processes).toEqual([]);
  });

  it('a machine without Go gets a one-line error naming how to install it', async () => {
    const cacheDir = await newDir();
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const error = await expectDeployError(ensureBinaries({ cacheDir, log }), 'GO_MISSING');
      expect(error.message).toMatch(/^Go toolchain not found on PATH: install Go/);
    } finally {
      process.env.PATH = path;
    }
  });
});
