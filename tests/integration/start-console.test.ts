import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRunning, type ManagedProcess, readState } from '@tanglewatt/deploy';
import { NodeApi } from '@tanglewatt/ledger';
import { afterEach, describe, expect, it } from 'vitest';
import { processesUnder } from '../support/processes.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dirs: string[] = [];
const runs: Run[] = [];

/** One `npm start` (deploy/src/start.ts, one node process: a signal or SIGKILL reaches it alone). */
class Run {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  /** Every tangle process the run recorded in its data dir, as it recorded it. */
  readonly recorded = new Map<number, ManagedProcess>();
  readonly exited: Promise<number | null>;
  private readonly watcher: NodeJS.Timeout;

  constructor(readonly dataDir: string) {
    this.child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'deploy/src/start.ts',
        '--data-dir',
        dataDir,
        '--ports',
        'auto',
        '--json-logs',
        '--interval',
        '1s',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } },
    );
    let buffered = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const part of parts) {
        try {
          this.lines.push(JSON.parse(part) as Record<string, unknown>);
        } catch {
          this.lines.push({ msg: part });
        }
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    // The PID records of the tangle it starts, read as they are written.
    this.watcher = setInterval(() => void this.readRecords(), 50);
    void this.exited.then(() => clearInterval(this.watcher));
  }

  private async readRecords(): Promise<ManagedProcess[]> {
    const state = await readState(join(this.dataDir, 'network')).catch(() => undefined);
    for (const p of state?.processes ?? []) this.recorded.set(p.pid, p);
    return state?.processes ?? [];
  }

  async until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 240_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (this.child.exitCode !== null)
        throw new Error(`start exited (${this.child.exitCode}) before ${what}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  line(msg: string, match: (line: Record<string, unknown>) => boolean = () => true) {
    return this.until(`log line "${msg}"`, () => this.lines.find((l) => l.msg === msg && match(l)));
  }

  recordedProcess(name: string) {
    return this.until(`${name} in the PID records`, async () =>
      (await this.readRecords()).find((p) => p.name === name),
    );
  }
}

async function newDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tanglewatt-start-'));
  dirs.push(dir);
  return dir;
}

function start(dataDir: string): Run {
  const run = new Run(dataDir);
  runs.push(run);
  return run;
}

/** Nothing the run started is left: no recorded PID alive, no process running from its data dir. */
function expectNothingLeft(run: Run): void {
  const alive = [...run.recorded.values()].filter((p) => isRunning(p)).map((p) => `${p.name} ${p.pid}`);
  expect(alive).toEqual([]);
  for (const p of run.recorded.values()) expect(() => process.kill(p.pid, 0)).toThrow();
  expect(processesUnder(run.dataDir)).toEqual([]);
}

afterEach(async () => {
  for (const run of runs.splice(0)) {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    for (const p of run.recorded.values()) if (isRunning(p)) process.kill(p.pid, 'SIGKILL');
  }
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

// Each test starts the whole system (real HORNET, two households) once or twice on the 2 shared cores.
describe('npm start: signals and crashes', { timeout: 600_000 }, () => {
  it('SIGINT while the genesis is being made leaves nothing running and no half-made network', async () => {
    const run = start(await newDir());
    await run.line('creating genesis snapshot');
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    // Interrupted before its end, the bootstrap removes what it made; a finished one is whole.
    const network = join(run.dataDir, 'network');
    if (existsSync(network)) expect(existsSync(join(network, 'tangle.json'))).toBe(true);
    expectNothingLeft(run);
  });

  it('SIGINT right after the first HORNET node starts stops it and everything else', async () => {
    const run = start(await newDir());
    const hornet = await run.recordedProcess('hornet-1');
    expect(isRunning(hornet)).toBe(true);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.lines.some((l) => l.msg === 'system is up')).toBe(false);
    expectNothingLeft(run);
  });

  it('SIGINT after the first wallet-service is listening stops it, the coordinator, inx-mqtt and HORNET', async () => {
    const run = start(await newDir());
    await run.line('wallet-service listening');
    const names = [...run.recorded.values()].map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['hornet-1', 'coordinator', 'inx-mqtt']));
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.lines.some((l) => l.msg === 'system is up')).toBe(false);
    expectNothingLeft(run);
    // The claim on the data dir went with it: the next start is not refused.
    expect(existsSync(join(run.dataDir, 'owner.json'))).toBe(false);
  });

  it('after a SIGKILL the next start takes over its own tangle and keeps the ledger and households', async () => {
    const dataDir = await newDir();
    const first = start(dataDir);
    const up = await first.line('system is up');
    const addresses = (up.wallets as { address: string }[]).map((w) => w.address);
    const state = (await readState(join(dataDir, 'network')))!;
    const node = new NodeApi(state.nodes[0]!.restUrl);
    const before = (await node.info()).status.confirmedMilestone.index;
    const marker = await readFile(join(dataDir, 'households', 'network-created-at'), 'utf8');

    first.child.kill('SIGKILL');
    await first.exited;
    // The crash leaves the tangle running: the detached processes outlive their parent.
    const orphans = state.processes.filter((p) => isRunning(p));
    expect(orphans.map((p) => p.name)).toEqual(expect.arrayContaining(['hornet-1', 'coordinator']));

    const second = start(dataDir);
    const again = await second.line('system is up');
    expect((again.wallets as { address: string }[]).map((w) => w.address)).toEqual(addresses);
    expect(await readFile(join(dataDir, 'households', 'network-created-at'), 'utf8')).toBe(marker);
    expect(
      second.lines.some((l) => l.msg === 'the network was recreated: starting the households afresh'),
    ).toBe(false);
    for (const p of orphans) expect(isRunning(p)).toBe(false);
    const restarted = (await readState(join(dataDir, 'network')))!;
    const after = (await new NodeApi(restarted.nodes[0]!.restUrl).info()).status.confirmedMilestone.index;
    expect(after).toBeGreaterThanOrEqual(before);

    // A second start while this one runs is refused with one line, and changes nothing.
    const third = start(dataDir);
    expect(await third.exited).toBe(2);
    expect(third.stderr.trim()).toMatch(
      new RegExp(`^start: the system already runs from .*pid ${second.child.pid}`),
    );
    expect(third.stderr.trim()).not.toContain('\n');

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    for (const run of [first, second]) expectNothingLeft(run);

    // A foreign program on the network's port is not ours to stop: refused with one line, nothing started.
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(restarted.ports.rest, '127.0.0.1', resolve));
    try {
      const fourth = start(dataDir);
      expect(await fourth.exited).toBe(2);
      expect(fourth.stderr.trim()).toMatch(
        new RegExp(`^start: port ${restarted.ports.rest} .*is in use by a program that is not this network`),
      );
      expect(fourth.stderr.trim()).not.toContain('\n');
      expectNothingLeft(fourth);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
