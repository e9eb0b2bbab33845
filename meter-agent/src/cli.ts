import { JournalCorruptError, processAlive } from '@tanglewatt/journal';
import { Command, InvalidArgumentError } from 'commander';
import { type AgentHandle, startAgent } from './agent.js';
import { type AgentConfig, loadConfig } from './config.js';
import { errorMessage, MeterAgentError } from './errors.js';
import { parseTimeBound, periodsCsv, periodsInRange } from './export-csv.js';
import {
  computeCalibration,
  correctedCalibration,
  PGA_GAINS,
  pgaFor,
  pgaRangeUV,
} from './hardware/ina219-settings.js';
import { openGpioRelayOff } from './hardware/relay.js';
import { createLogger } from './log.js';
import { HALF_NJ_PER_MWS } from './money/pricing.js';
import { submitPurchase, whToMWs } from './prepaid.js';
import { gpioRelayOptions } from './sensors/create.js';
import { systemdNotifier } from './service-notify.js';
import { type AgentSnapshot, readStatus } from './status.js';
import { type PeriodRecord, paymentState, readState } from './store/state.js';

function positive(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${what}: a number above 0`);
    return n;
  };
}

function nonZero(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n === 0) throw new InvalidArgumentError('a current in A, not 0');
  return n;
}

const out = (line = '') => process.stdout.write(`${line}\n`);
// `meter-agent periods | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const wh = (energyMWs: string) => (Number(energyMWs) / 3_600_000).toFixed(4);
const watts = (uW: number | null) => (uW === null ? '-' : `${(uW / 1e6).toFixed(3)} W`);

const program = new Command('meter-agent')
  .description(
    'TangleWatt meter agent: samples INA219 sensors, meters payment periods, pays through the wallet-service',
  )
  .showHelpAfterError();

/** A subcommand that reads the agent config file named by -c. */
const configCommand = (name: string, description: string) =>
  program.command(name).description(description).requiredOption('-c, --config <file>', 'agent config (JSON)');

configCommand('run', 'run the agent until SIGINT/SIGTERM (what the systemd unit starts)').action(
  async (opts: { config: string }) => {
    const config = await loadConfig(opts.config);
    const log = createLogger('meter-agent');
    // The signal handlers come first: a SIGTERM while the agent starts (rebuilding periods, paying what is
    // queued) stops it cleanly once it has started, instead of ending the process mid-start.
    let agent: AgentHandle | undefined;
    let notifier: ReturnType<typeof systemdNotifier>;
    let stopSignal: string | undefined;
    const stopNow = (running: AgentHandle, signal: string) => {
      log.info({ signal }, 'stopping');
      void notifier?.stopping();
      running.stop().then(
        () => process.exit(0),
        (error) => {
          log.error({ error: errorMessage(error) }, 'stop failed');
          process.exit(1);
        },
      );
    };
    const stop = (signal: string) => {
      if (stopSignal) return;
      stopSignal = signal;
      if (agent) stopNow(agent, signal);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    agent = await startAgent({ config, log });
    // Under systemd (Type=notify): ready now, and the watchdog fed only by samples actually taken.
    notifier = systemdNotifier(process.env, { log });
    if (stopSignal) return stopNow(agent, stopSignal);
    if (notifier) {
      // READY=1 first: a sample taken before it would otherwise send WATCHDOG=1 ahead of it.
      const ready = notifier;
      await ready.ready();
      agent.events.on('sample', () => ready.sampleTaken());
    }
  },
);

function printStatus(config: AgentConfig, s: AgentSnapshot | undefined, running: boolean): void {
  if (!s) {
    out(`meter-agent ${config.meterId}: never ran with data dir ${config.dataDir}`);
    return;
  }
  out(
    `meter-agent ${s.meterId} (${s.role}; consumer ${s.consumer}, producer ${s.producer}): ${running ? `running, pid ${s.pid}` : 'not running'}`,
  );
  out(`  status of   ${iso(s.nowMs)}`);
  for (const sensor of s.sensors)
    out(
      `  sensor      ${sensor.name}: ${sensor.description}${sensor.name === s.meteredSensor ? ' (metered)' : ''}${sensor.reads === undefined ? '' : `; ${sensor.reads} reads, ${sensor.failures} failed (${sensor.timeouts} timed out), ${sensor.skippedReads} skipped while busy, ${sensor.overRange} over range`}`,
    );
  out(`  power       ${watts(s.powerUW)}${s.lastSample ? ` at ${iso(s.lastSample.tMs)}` : ''}`);
  const q = s.period.quality;
  out(
    `  period      #${s.period.seq} ${iso(s.period.startMs)} → ${iso(s.period.endMs)}: ${wh(s.period.energyMWs)} Wh, ${s.period.amountSoFar} units so far; ${q.samples} samples, ${q.missedTicks} missed, ${q.readErrors} read errors, ${q.overflows} overflows, ${q.gapCount} gaps`,
  );
  const fees = s.period.tariffSoFar;
  if (fees)
    out(
      `  tariff      so far ${fees.producer} producer, ${fees.operator} operator, ${fees.grid} grid units${s.period.tariffNow ? `; ${s.period.tariffNow.id} v${s.period.tariffNow.version}, band ${s.period.tariffNow.bandName} (1.8.${s.period.tariffNow.band}) until ${iso(s.period.tariffNow.untilMs)}` : ''}`,
    );
  if (s.registers?.values.length)
    out(
      `  registers   ${s.registers.values.map((r) => `${r.obis} ${r.wh} Wh`).join(', ')}${s.registers.events.length ? `; ${s.registers.events.map((e) => `meter replaced ${e.fromMeterId} → ${e.toMeterId} at ${iso(e.atMs)}`).join('; ')}` : ''}`,
    );
  if (s.lastPeriod)
    out(
      `  last        #${s.lastPeriod.seq} ${s.lastPeriod.id}: ${wh(s.lastPeriod.energyMWs)} Wh, ${s.lastPeriod.amount} units, ${s.lastPeriod.payment}`,
    );
  const ob = s.outbox;
  out(
    `  payments    ${ob.queued.length} queued${ob.nextAttemptAtMs ? `, backing off until ${iso(ob.nextAttemptAtMs)} after ${ob.consecutiveFailures} failures` : ''}`,
  );
  for (const item of ob.queued)
    out(
      `    ${item.key}  ${item.amount} units  ${item.attempts} attempts${item.lastError ? `  (${item.lastError})` : ''}`,
    );
  if (s.channel) {
    const c = s.channel;
    out(
      `  channel     ${c.channelId} (${c.mode}): last seq ${c.lastSeq ?? '-'}, last posted ${c.lastPostedSeq ?? '-'} in block ${c.lastBlockId ?? '-'}`,
    );
    out(
      `              ${c.unposted} sealed not posted, ${c.pendingSamples} readings not sealed, ${c.awaitingRoots.length} periods awaiting their root${c.lastError ? `; failing: ${c.lastError}` : ''}`,
    );
    out(`              signing key ${c.signingPublicKey}`);
  }
  if (s.relay) out(`  relay       ${s.relay.description}: ${s.relay.on ? 'on' : 'off'}`);
  if (s.purchase)
    out(
      `  purchase    ${s.purchase.id}: ${wh(s.purchase.deliveredMWs)} of ${wh(s.purchase.energyMWs)} Wh delivered`,
    );
  out(
    `  sampling    ${s.ticks.count} ticks, ${s.ticks.missed} missed, last ${s.ticks.lastLateMs.toFixed(1)} ms late, worst ${s.ticks.maxLateMs.toFixed(1)} ms`,
  );
  for (const e of s.errors) out(`  error       ${iso(e.atMs)} ${e.message}`);
}

configCommand(
  'status',
  'current period, queued payments and last errors (reads the data dir; the agent may be running)',
)
  .option('--json', 'print JSON')
  .action(async (opts: { config: string; json?: boolean }) => {
    const config = await loadConfig(opts.config);
    const snapshot = await readStatus(config.dataDir);
    const state = await readState(config.dataDir);
    const running = snapshot?.running === true && processAlive(snapshot.pid);
    const rejected = state.periods.filter((p) => paymentState(p, state.outcomes) === 'rejected');
    if (opts.json) {
      out(
        JSON.stringify(
          {
            running,
            snapshot: snapshot ?? null,
            rejected: rejected.map((p) => ({ id: p.id, outcome: state.outcomes.get(p.id) })),
          },
          null,
          2,
        ),
      );
    } else {
      printStatus(config, snapshot, running);
      for (const p of rejected) out(`  rejected    ${p.id}: ${state.outcomes.get(p.id)?.reason ?? '?'}`);
    }
    if (!running) process.exitCode = 3;
  });

function periodLine(p: PeriodRecord, state: Awaited<ReturnType<typeof readState>>): string {
  const q = p.quality;
  return [
    String(p.seq).padStart(5),
    iso(p.startMs).padEnd(21),
    iso(p.endMs).padEnd(21),
    wh(p.energyMWs).padStart(12),
    p.amount.padStart(10),
    paymentState(p, state.outcomes).padEnd(12),
    String(q.samples).padStart(7),
    String(q.gapCount).padStart(5),
    String(q.readErrors + q.overflows).padStart(6),
  ].join(' ');
}

configCommand('periods', 'closed periods with energy, amount and payment state')
  .option('-n, --limit <n>', 'the latest n periods', (v) => Math.max(1, Number.parseInt(v, 10) || 20), 20)
  .option('--json', 'print the period records as JSON')
  .option('--csv', 'print CSV for bookkeeping (RFC 4180; every period in range unless -n is given)')
  .option('--since <time>', 'only periods starting at or after this ISO 8601 time or date')
  .option('--until <time>', 'only periods starting before this ISO 8601 time or date')
  .action(
    async (
      opts: { config: string; limit: number; json?: boolean; csv?: boolean; since?: string; until?: string },
      command: Command,
    ) => {
      const range = {
        ...(opts.since !== undefined ? { sinceMs: parseTimeBound(opts.since, '--since') } : {}),
        ...(opts.until !== undefined ? { untilMs: parseTimeBound(opts.until, '--until') } : {}),
      };
      const config = await loadConfig(opts.config);
      const state = await readState(config.dataDir);
      const inRange = periodsInRange(state.periods, range);
      if (opts.csv) {
        const limited =
          command.getOptionValueSource('limit') === 'cli' ? inRange.slice(-opts.limit) : inRange;
        process.stdout.write(periodsCsv(limited, state));
        return;
      }
      const periods = inRange.slice(-opts.limit);
      if (opts.json) {
        out(
          JSON.stringify(
            periods.map((p) => ({
              ...p,
              paymentState: paymentState(p, state.outcomes),
              outcome: state.outcomes.get(p.id) ?? null,
            })),
            null,
            2,
          ),
        );
        return;
      }
      out(
        '  seq start                 end                      energy Wh     amount payment      samples  gaps errors',
      );
      for (const p of periods) out(periodLine(p, state));
      const total = state.periods.reduce((sum, p) => sum + BigInt(p.amount), 0n);
      out(`${state.periods.length} periods, ${total} units in all`);
    },
  );

program
  .command('calibrate')
  .description(
    'INA219 calibration for a shunt and maximum current; with --reported/--reference, a corrected one',
  )
  .requiredOption(
    '--shunt-ohms <ohms>',
    'shunt resistance in Ω (0.1 on most breakout boards)',
    positive('--shunt-ohms'),
  )
  .requiredOption('--max-current <amps>', 'largest current you expect, in A', positive('--max-current'))
  .option(
    '--current-lsb <amps>',
    'a rounder Current_LSB between Imax/2^15 and Imax/2^12',
    positive('--current-lsb'),
  )
  .option('--reported <amps>', 'what the INA219 reported while a reference meter was in series', nonZero)
  .option('--reference <amps>', 'what the reference meter showed at the same time', nonZero)
  .option(
    '--calibration <value>',
    'the calibration register in use when --reported was read (default: computed)',
    positive('--calibration'),
  )
  .action(
    (opts: {
      shuntOhms: number;
      maxCurrent: number;
      currentLsb?: number;
      reported?: number;
      reference?: number;
      calibration?: number;
    }) => {
      const cal = computeCalibration(opts.shuntOhms, opts.maxCurrent, opts.currentLsb);
      const shuntUV = opts.maxCurrent * opts.shuntOhms * 1e6;
      const pga = pgaFor(shuntUV);
      out(`Current_LSB  ${(cal.currentLsbA * 1e6).toFixed(3)} µA`);
      out(`Cal          ${cal.calibration} (0x${cal.calibration.toString(16)})`);
      out(`Power_LSB    ${(cal.powerLsbW * 1e3).toFixed(4)} mW`);
      out(`full scale   ${cal.maxCurrentA.toFixed(4)} A in the current register`);
      out(
        pga
          ? `PGA          /${pga} (±${pgaRangeUV(pga) / 1000} mV; ${(shuntUV / 1000).toFixed(1)} mV across the shunt at ${opts.maxCurrent} A)`
          : `PGA          none fits: ${(shuntUV / 1000).toFixed(1)} mV exceeds ±${pgaRangeUV(PGA_GAINS[3]) / 1000} mV: use a smaller shunt`,
      );
      if (opts.reported !== undefined || opts.reference !== undefined) {
        if (opts.reported === undefined || opts.reference === undefined)
          throw new MeterAgentError('CALIBRATION_OUT_OF_RANGE', '--reported and --reference go together');
        const base = opts.calibration ?? cal.calibration;
        const corrected = correctedCalibration(base, opts.reported, opts.reference);
        out(
          `corrected    ${corrected} (0x${corrected.toString(16)}) = trunc(${base} × ${opts.reference} / ${opts.reported}), rounded down to even`,
        );
        out(`put "calibration": ${corrected} in the sensor's config`);
      }
    },
  );

configCommand('buy', 'prepaid mode: ask the running agent to deliver an amount of energy (closes the relay)')
  .requiredOption('--wh <wh>', 'energy to deliver in Wh (decimal)')
  .option('--id <id>', 'purchase id (default: random)')
  .action(async (opts: { config: string; wh: string; id?: string }) => {
    const config = await loadConfig(opts.config);
    if (!config.prepaid.enabled)
      throw new MeterAgentError(
        'PURCHASE_REFUSED',
        'prepaid.enabled is false in the config: the agent has no relay to switch',
      );
    let energyMWs: bigint;
    try {
      energyMWs = whToMWs(opts.wh);
    } catch {
      throw new InvalidArgumentError('--wh: a decimal number of Wh, e.g. 2.5');
    }
    if (energyMWs <= 0n) throw new MeterAgentError('PURCHASE_REFUSED', '--wh: more than 0');
    const id = await submitPurchase(config.dataDir, energyMWs, opts.id);
    out(
      `purchase ${id}: ${opts.wh} Wh (${energyMWs} mW·s, ${energyMWs * HALF_NJ_PER_MWS} half-nJ) handed to the agent`,
    );
  });

configCommand(
  'relay-off',
  'drive the prepaid relay off and read it back, nothing else (no journal, no lock): the unit runs it before start and after every stop, crash or kill',
).action(async (opts: { config: string }) => {
  const config = await loadConfig(opts.config);
  const options = gpioRelayOptions(config);
  if (!options) {
    out(`${opts.config}: no GPIO relay configured: nothing to switch off`);
    return;
  }
  const relay = await openGpioRelayOff(options);
  out(`${relay.description}: off (reads back off)`);
});

configCommand('check-config', 'validate a config file and print what it sets up').action(
  async (opts: { config: string }) => {
    const config = await loadConfig(opts.config);
    out(`${opts.config}: valid`);
    out(`  meter ${config.meterId}, ${config.role}, data in ${config.dataDir}`);
    for (const s of config.sensors)
      out(
        `  sensor ${s.name}: ${s.kind === 'ina219' ? `INA219 0x${s.address.toString(16)} on /dev/i2c-${s.bus}` : `simulated ${s.profile.type}`}`,
      );
    const relay = config.prepaid.relay;
    if (relay)
      out(
        `  relay${config.prepaid.enabled ? '' : ' (prepaid disabled)'}: ${relay.kind === 'gpio' ? `${relay.bcm !== undefined ? `BCM ${relay.bcm}` : `sysfs GPIO ${relay.pin}`}${relay.activeLow ? ', active low' : ''}, under ${relay.gpioRoot}` : 'simulated'}`,
      );
  },
);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Errors that name their own fix get one line; anything else keeps its stack for the bug report.
  if (
    error instanceof MeterAgentError ||
    error instanceof InvalidArgumentError ||
    error instanceof JournalCorruptError
  ) {
    process.stderr.write(`meter-agent: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
