import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DeployError } from './errors.js';
import {
  assertPortFree,
  freePorts,
  isRunning,
  logTail,
  type ManagedProcess,
  startDetached,
  stopProcess,
} from './processes.js';

/** Environment variable the indexer reads its API bearer token from (kept out of its argv). */
export const INDEXER_TOKEN_ENV = 'TANGLEWATT_INDEXER_TOKEN';

export interface IndexerOptions {
  /** The tanglewatt-indexer binary (ensureBinaries()['tanglewatt-indexer']). */
  binary: string;
  /** The node's INX address, host:port. */
  inxAddress: string;
  /** The indexer's own directory: its store (db/). Survives restarts. */
  dataDir: string;
  /** Where its output goes; `<dataDir>/indexer.log` when omitted. */
  logFile?: string;
  /** Loopback port of the REST API; a free one when omitted. */
  apiPort?: number;
  /** Tag prefixes to index; the binary's default (tanglewatt/, tw/ch/) when omitted. */
  tags?: readonly string[];
  /** Bearer token the API then requires on /api/v1 routes. */
  token?: string;
  readyTimeoutMs?: number;
  /** The process's name in the tangle's state (default "indexer"). */
  name?: string;
}

export interface RunningIndexer {
  process: ManagedProcess;
  /** Base URL of the REST API, e.g. http://127.0.0.1:9092 */
  url: string;
}

/** The indexer's command line for these options (the token goes in the environment, not here). */
export function indexerArgs(options: IndexerOptions, apiPort: number): string[] {
  return [
    `--inx.address=${options.inxAddress}`,
    `--db=${join(options.dataDir, 'db')}`,
    `--api.bindAddress=127.0.0.1:${apiPort}`,
    ...(options.tags ? [`--tags=${options.tags.join(',')}`] : []),
  ];
}

/**
 * Starts the indexer beside a node and resolves once its REST API answers. It keeps following the
 * node on its own (retrying while the node is down), so it may start before or after HORNET.
 */
export async function startIndexer(options: IndexerOptions): Promise<RunningIndexer> {
  const apiPort = options.apiPort ?? (await freePorts(1))[0]!;
  await assertPortFree(apiPort, 'indexer REST API', '--indexer-port');
  await mkdir(options.dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env[INDEXER_TOKEN_ENV];
  if (options.token) env[INDEXER_TOKEN_ENV] = options.token;

  const proc = startDetached(options.name ?? 'indexer', options.binary, indexerArgs(options, apiPort), {
    cwd: options.dataDir,
    logFile: options.logFile ?? join(options.dataDir, 'indexer.log'),
    env,
  });
  const url = `http://127.0.0.1:${apiPort}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (!isRunning(proc)) {
      const last = (await logTail(proc.logFile, 5)).split('\n').filter(Boolean).pop() ?? '';
      throw new DeployError(
        'START_FAILED',
        `indexer exited during start: ${last.trim()} (log: ${proc.logFile})`,
      );
    }
    // 503 only means "not following the node yet": the API itself is up.
    const answered = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) }).then(
      (res) => res.status === 200 || res.status === 503,
      () => false,
    );
    if (answered) return { process: proc, url };
    if (Date.now() > deadline) {
      await stopProcess(proc, 5_000);
      throw new DeployError(
        'SYNC_TIMEOUT',
        `indexer did not answer on ${url}/health within ${Math.round((options.readyTimeoutMs ?? 30_000) / 1000)} s: see ${proc.logFile}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Stops the indexer (SIGTERM: it finishes the milestone it is writing; its store stays for the next start). */
export async function stopIndexer(indexer: RunningIndexer | ManagedProcess): Promise<void> {
  await stopProcess('process' in indexer ? indexer.process : indexer, 10_000);
}
