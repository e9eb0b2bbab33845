/** The fleet report as people read it: one line per figure, the audits side by side. */
import { allPaidOnce, type PaymentAudit } from './audit.js';
import type { FleetReport } from './run.js';

const ms = (v: number | undefined) => (v === undefined ? '–' : `${(v / 1000).toFixed(2)} s`);
const pct = (v: number) => `${v.toFixed(0)} %`;

function auditLine(name: string, a: PaymentAudit): string {
  const first = (xs: { key: string }[] | string[]) =>
    xs.length ? ` (first: ${typeof xs[0] === 'string' ? xs[0] : (xs[0] as { key: string }).key})` : '';
  return (
    `${name.padEnd(22)} paid once ${a.paidOnce}/${a.due}, missing ${a.missing.length}${first(a.missing)}, ` +
    `paid twice ${a.paidTwice.length}${first(a.paidTwice)}, wrong amount ${a.wrongAmount.length}`
  );
}

/** Every period paid exactly once, as both the indexer and the node tell it. */
export const fleetHolds = (r: FleetReport) =>
  r.periodsDue > 0 && allPaidOnce(r.indexer) && allPaidOnce(r.node);

export function fleetTable(r: FleetReport): string {
  const o = r.options;
  const lines = [
    `fleet: ${o.meters} meters (${r.consumers} consumers paying ${r.producers} producers; ${r.fundedConsumers} funded at the start), ` +
      `${o.nodes} node(s), period ${o.periodSeconds} s${o.spread ? ' (boundaries spread)' : ''}, ${o.minutes} min, channel ${o.channel ? 'on' : 'off'}, milestones ${o.milestoneInterval}, ${r.householdsProcesses.length} households process(es)`,
    `households started       ${r.startupSeconds.toFixed(1)} s; metered ${r.meteringSeconds.toFixed(0)} s (milestones ${r.milestones.from}–${r.milestones.to})`,
    `periods closed           ${r.periodsClosed} (${r.periodsDue} owing a payment)`,
    `payments included        ${r.walletIncluded} (wallet-services; ${r.walletNotIncluded} not included)`,
    auditLine('ledger via indexer', r.indexer),
    auditLine('ledger via core API', r.node),
    `POST→included p50 / p99  ${ms(r.postToIncludedP50Ms)} / ${ms(r.postToIncludedP99Ms)}`,
    `blocks per second        ${r.blocksPerSecond.toFixed(2)}`,
    'CPU (% of one core) and memory over the metering:',
    ...r.processes.map(
      (p) =>
        `  ${p.name.padEnd(22)} ${pct(p.cpuPercent).padStart(6)}${p.rssMB !== undefined ? `  ${p.rssMB.toFixed(0)} MB` : ''}`,
    ),
    ...r.householdsProcesses.map(
      (p, i) =>
        `  ${`households-${i + 1} (${p.households})`.padEnd(22)} ${pct(p.cpuPercent).padStart(6)}  ${p.rssMB.toFixed(0)} MB, event loop p99 ${p.eventLoopP99Ms.toFixed(0)} ms`,
    ),
    `  ${'households, all'.padEnd(22)} ${pct(r.householdsProcess.cpuPercent).padStart(6)}  ${r.householdsProcess.rssMB.toFixed(0)} MB, event loop p99 ${r.householdsProcess.eventLoopP99Ms.toFixed(0)} ms (worst)`,
    `memory per household     ${r.memoryPerHouseholdMB.toFixed(1)} MB`,
    fleetHolds(r) ? 'HOLDS: every period paid exactly once' : 'FAILS: not every period was paid exactly once',
  ];
  return lines.join('\n');
}
