/**
 * The parent's side of the households' child processes: forks one per slice of the pairs (worker.ts, run
 * by tsx like the simulator itself), hands each its pairs and the tangle, starts their metering at one
 * moment, and gathers what each reports. A child that fails or exits early fails the run.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { TangleState } from '../tangle.js';
import type { HouseholdsResult } from './merge.js';
import type { FleetOptions, PairPlan } from './plan.js';

export interface StartMessage {
  type: 'start';
  slice: number;
  tangle: TangleState;
  options: FleetOptions;
  pairs: PairPlan[];
  fundedOutputs: [number, string][];
  dataDir: string;
  logLevel: string;
  /** How long it waits after the metering for its payments to be included. */
  settleMs: number;
}

export type ParentMessage = StartMessage | { type: 'meter'; startMs: number };

export type WorkerMessage =
  | { type: 'up' }
  | { type: 'progress'; open: number }
  | { type: 'metered' }
  | { type: 'result'; result: HouseholdsResult }
  | { type: 'error'; message: string };

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.ts');

export interface Children {
  pids: number[];
  /** Resolves once every child's households are up. */
  up: Promise<void>;
  meter(startMs: number): void;
  /** Resolves once every child has stopped its agents. */
  metered: Promise<void>;
  results: Promise<HouseholdsResult[]>;
  /** Open payments each child last reported. */
  open(): number;
  /** Resolves once every child has exited (after it stopped its wallet-services). */
  exited: Promise<void>;
  kill(): void;
}

export function startChildren(
  tangle: TangleState,
  slices: PairPlan[][],
  fundedOutputs: ReadonlyMap<number, string>,
  options: FleetOptions,
  dataDir: string,
  log: Logger,
): Children {
  const settleMs = 60_000 + 200 * slices.reduce((n, s) => n + s.length, 0);
  const procs: ChildProcess[] = [];
  const open: number[] = slices.map(() => 0);
  const waits = slices.map(() => ({
    up: deferred<void>(),
    metered: deferred<void>(),
    result: deferred<HouseholdsResult>(),
    exited: deferred<void>(),
  }));
  slices.forEach((pairs, i) => {
    const execArgv = [
      '--import',
      'tsx',
      ...(options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : []),
    ];
    const child = fork(WORKER, [], { execArgv, serialization: 'advanced', stdio: 'inherit' });
    procs.push(child);
    const w = waits[i]!;
    const fail = (error: Error) => {
      for (const d of [w.up, w.metered, w.result]) d.reject(error);
    };
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'up') w.up.resolve();
      else if (m.type === 'progress') open[i] = m.open;
      else if (m.type === 'metered') w.metered.resolve();
      else if (m.type === 'result') w.result.resolve(m.result);
      else fail(new Error(`households process ${i + 1}: ${m.message}`));
    });
    child.on('exit', (code, signal) => {
      fail(new Error(`households process ${i + 1} exited (${signal ?? code}) before it reported`));
      w.exited.resolve();
    });
    const start: StartMessage = {
      type: 'start',
      slice: i + 1,
      tangle,
      options,
      pairs,
      fundedOutputs: [...fundedOutputs],
      dataDir,
      logLevel: log.level,
      settleMs,
    };
    child.send(start);
  });
  for (const w of waits) for (const d of [w.up, w.metered, w.result]) d.promise.catch(() => undefined);
  return {
    pids: procs.map((p) => p.pid ?? 0),
    up: Promise.all(waits.map((w) => w.up.promise)).then(() => undefined),
    meter: (startMs) => {
      for (const p of procs) p.send({ type: 'meter', startMs } satisfies ParentMessage);
    },
    metered: Promise.all(waits.map((w) => w.metered.promise)).then(() => undefined),
    results: Promise.all(waits.map((w) => w.result.promise)),
    open: () => open.reduce((a, b) => a + b, 0),
    exited: Promise.all(waits.map((w) => w.exited.promise)).then(() => undefined),
    kill: () => {
      for (const p of procs) if (p.exitCode === null) p.kill('SIGINT');
    },
  };
}
