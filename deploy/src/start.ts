/**
 * `npm start`: the whole system on its embedded default, in the foreground — the local tangle, a producer
 * and a consumer household with simulated meters and their wallet-services, and the dashboard.
 * Ctrl-C (or SIGTERM, or closing the terminal: SIGHUP) stops it all, at any moment, start-up included. Everything persists in .tangle/
 * between runs; `npm start -- --fresh` starts over.
 */
import { resolve } from 'node:path';
import { DeployError, interrupted } from './errors.js';

// Signals are handled from the very first line: one arriving while the system starts aborts the start-up,
// which stops whatever it has started so far. The heavy modules load after this (dynamic imports below).
const startUp = new AbortController();
let received: NodeJS.Signals | undefined;
let onSignal: (signal: NodeJS.Signals) => void = (signal) => {
  if (!startUp.signal.aborted) startUp.abort(interrupted(signal));
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(signal, (s) => {
    received ??= s;
    onSignal(s);
  });

const { Command, InvalidArgumentError } = await import('commander');
const { DEFAULT_SYSTEM_DIR } = await import('./defaults.js');
const { chooseLogFormat, createLogger } = await import('./log.js');
const { formatStatusLine, terminal } = await import('./console.js');

const options = new Command('start')
  .option('--fresh', 'delete the network and households and start over')
  .option('--interval <duration>', 'milestone interval', '5s')
  .option('--period <seconds>', 'payment period of the simulated meters', (v) => Number(v), 60)
  .option('--data-dir <dir>', 'where the network and the households are kept', DEFAULT_SYSTEM_DIR)
  .option('--ports <auto>', 'free ports the kernel picks instead of the fixed ones (8480…, 14265…)', (v) => {
    if (v !== 'auto') throw new InvalidArgumentError('only "auto" is allowed');
    return v;
  })
  .option('--json-logs', 'JSON log lines even on a terminal (no status line)')
  .parse(process.argv)
  .opts<{
    fresh?: boolean;
    interval: string;
    period: number;
    dataDir: string;
    ports?: 'auto';
    jsonLogs?: boolean;
  }>();

const dataDir = resolve(options.dataDir);
const format = chooseLogFormat({
  isTTY: process.stdout.isTTY === true,
  env: process.env,
  ...(options.jsonLogs ? { jsonLogs: true } : {}),
});
const log = createLogger('start', { format });
// The abort's reason: what the start-up rejects with once it has stopped what it started.
onSignal = (signal) => {
  if (startUp.signal.aborted) return;
  log.info({ signal }, 'stopping what has started so far');
  startUp.abort(interrupted(signal));
};

function fail(error: unknown): never {
  terminal.clearStatus();
  if (error instanceof DeployError) {
    if (error.code === 'INTERRUPTED') {
      log.info('stopped');
      process.exit(0);
    }
    if (error.detail) process.stderr.write(`${error.detail}\n`);
    process.stderr.write(`start: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

try {
  const { startSystem } = await import('./system.js');
  const system = await startSystem({
    dataDir,
    log,
    milestoneInterval: options.interval,
    periodSeconds: options.period,
    signal: startUp.signal,
    ...(options.ports ? { ports: options.ports } : {}),
    ...(options.fresh ? { fresh: true } : {}),
  });

  let statusTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  onSignal = (signal) => {
    if (stopping) return;
    stopping = true;
    clearInterval(statusTimer);
    terminal.clearStatus();
    log.info({ signal }, 'stopping');
    void system.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`start: stopping failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };

  // A signal that came after the start-up's last check: stop now instead of announcing the system.
  if (received) {
    onSignal(received);
    await new Promise(() => undefined);
  }

  const t = system.tangle;
  const summary = [
    '',
    `  Dashboard   ${system.dashboardUrl}`,
    '',
    `  network     ${t.networkName} (${t.bech32Hrp}), ${t.nodes.map((n) => n.restUrl).join(', ')}`,
    ...(t.indexerUrl ? [`  indexer     ${t.indexerUrl}`] : []),
    ...system.wallets.map((w) => `  ${`${w.name} wallet`.padEnd(18)}${w.url}  ${w.address}`),
    ...system.meters.map((m) => `  ${m.name.padEnd(18)}${m.url}`),
    `  data        ${dataDir}`,
    '',
    `  Ctrl-C stops everything.${process.stdin.isTTY && format === 'pretty' ? ' Enter shows this again.' : ''}`,
    '',
    '',
  ].join('\n');
  if (format === 'pretty') terminal.print(summary);
  else
    log.info(
      {
        dashboard: system.dashboardUrl,
        wallets: system.wallets.map((w) => ({ name: w.name, url: w.url, address: w.address })),
        meters: system.meters.map((m) => m.url),
      },
      'system is up',
    );

  // The status line: on a terminal with human-readable logs only; JSON lines stay one object per line.
  if (format === 'pretty' && process.stdout.isTTY) {
    let drawing = false;
    const draw = async () => {
      if (drawing || stopping) return;
      drawing = true;
      try {
        const line = formatStatusLine(await system.status(), process.stdout.columns || 100);
        if (!stopping) terminal.setStatus(line);
      } catch {
        // a status read failing now and then is no reason to disturb the log
      } finally {
        drawing = false;
      }
    };
    statusTimer = setInterval(() => void draw(), 1000);
    void draw();
    if (process.stdin.isTTY) {
      process.stdin.on('data', (chunk: Buffer) => {
        if (chunk.includes(0x0a) || chunk.includes(0x0d)) terminal.print(summary);
      });
    }
  }
} catch (error) {
  fail(error);
}
