/**
 * A households' child process of the fleet simulator: starts its share of the pairs (pool.ts), meters
 * until each household's own stop time, waits for its payments to be included, and reports its periods,
 * payments, latencies, CPU and event-loop delay to the parent over IPC. Started by children.ts.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Payment } from '@tanglewatt/contract';
import pino from 'pino';
import { sleep } from '../community/households.js';
import type { DuePayment } from './audit.js';
import type { ParentMessage, StartMessage, WorkerMessage } from './children.js';
import type { HouseholdsResult } from './merge.js';
import { stopTime } from './plan.js';
import { type FleetPool, startPool } from './pool.js';

const send = (m: WorkerMessage) => process.send?.(m);

function walletPayments(pool: FleetPool): Payment[] {
  return pool.consumers.flatMap((c) => c.wallet.service.store.list({ limit: Number.MAX_SAFE_INTEGER }).items);
}

const nextMessage = <T extends ParentMessage['type']>(type: T) =>
  new Promise<Extract<ParentMessage, { type: T }>>((resolve) => {
    const on = (m: ParentMessage) => {
      if (m.type !== type) return;
      process.off('message', on);
      resolve(m as Extract<ParentMessage, { type: T }>);
    };
    process.on('message', on);
  });

async function run(start: StartMessage): Promise<void> {
  const { options } = start;
  const log = pino({ name: `households-${start.slice}`, level: start.logLevel }, pino.destination(2));
  const rss0 = process.memoryUsage().rss;
  const pool = await startPool(
    start.tangle,
    start.pairs,
    new Map(start.fundedOutputs),
    options,
    start.dataDir,
    log,
  );
  let stopping: Promise<void> | undefined;
  process.once('SIGINT', () => {
    stopping ??= pool.stop();
    void stopping.finally(() => process.exit(130));
  });
  const rssUp = process.memoryUsage().rss;
  send({ type: 'up' });
  const { startMs } = await nextMessage('meter');
  const cpu0 = process.cpuUsage();
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  // Each household stops a third into its own period, so every period it closed was handed on.
  const agents = [...pool.consumers, ...pool.producers]
    .map((h) => ({ h, at: stopTime(startMs, options.minutes, options.periodSeconds, h.offsetSeconds) }))
    .sort((a, b) => a.at - b.at);
  let progressAt = Date.now() + 10_000;
  const stops: Promise<void>[] = [];
  for (const { h, at } of agents) {
    while (Date.now() < at) {
      await sleep(Math.min(1000, at - Date.now()));
      if (Date.now() >= progressAt) {
        progressAt += 10_000;
        send({ type: 'progress', open: walletPayments(pool).filter((p) => p.state !== 'included').length });
      }
    }
    stops.push(h.agent.stop().catch(() => undefined));
  }
  const meteringSeconds = (Date.now() - startMs) / 1000;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  const rssEnd = process.memoryUsage().rss;
  await Promise.all(stops);
  send({ type: 'metered' });
  const deadline = Date.now() + start.settleMs;
  for (;;) {
    const open = walletPayments(pool).filter((p) => !['included', 'failed', 'cancelled'].includes(p.state));
    if (open.length === 0) break;
    if (Date.now() > deadline) {
      log.warn({ open: open.length }, 'payments still not included: reporting anyway');
      break;
    }
    await sleep(1000);
  }
  let closed = 0;
  const due: DuePayment[] = [];
  for (const c of pool.consumers)
    for (const p of c.agent.periods(Number.MAX_SAFE_INTEGER)) {
      closed++;
      if (p.payment.state === 'due') due.push({ key: p.payment.key, amount: p.payment.amount });
    }
  const payments = walletPayments(pool);
  const result: HouseholdsResult = {
    pid: process.pid,
    consumers: pool.consumers.length,
    producers: pool.producers.length,
    periodsClosed: closed,
    due,
    latenciesMs: payments
      .filter((p) => p.state === 'included')
      .map((p) => Date.parse(p.updatedAt) - Date.parse(p.createdAt)),
    walletIncluded: payments.filter((p) => p.state === 'included').length,
    walletNotIncluded: payments.filter((p) => p.state !== 'included').length,
    cpuPercent: ((cpu.user + cpu.system) / 1e6 / meteringSeconds) * 100,
    rssMB: rssEnd / 2 ** 20,
    eventLoopP99Ms: loop.percentile(99) / 1e6,
    growthMB: (Math.max(rssUp, rssEnd) - rss0) / 2 ** 20,
  };
  send({ type: 'result', result });
  stopping ??= pool.stop();
  await stopping;
}

nextMessage('start')
  .then(run)
  .then(
    // Exits explicitly: the SDK's worker threads would keep the process alive.
    () => process.exit(0),
    (error: unknown) => {
      send({ type: 'error', message: (error as Error).message ?? String(error) });
      process.exit(1);
    },
  );
