import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from './clock.js';
import { errorMessage, MeterAgentError } from './errors.js';
import type { Relay } from './hardware/relay.js';
import type { Logger } from './log.js';
import { HALF_NJ_PER_MWS } from './money/pricing.js';
import { floor, mul, parseDecimal, rational } from './money/rational.js';
import type { PurchaseDone, PurchaseRecord, StateStore } from './store/state.js';

export interface PurchaseProgress {
  purchase: PurchaseRecord;
  deliveredHalfNJ: bigint;
}

/** Whole mW·s in a decimal number of Wh (1 Wh = 3 600 000 mW·s), rounded down. */
export function whToMWs(wh: string): bigint {
  return floor(mul(parseDecimal(wh), rational(3_600_000n)));
}

/** A purchase being delivered; `ending` once it is over but the relay has not yet read back off. */
export interface ActivePurchase extends PurchaseProgress {
  ending?: PurchaseDone['reason'];
}

export interface PrepaidOptions {
  relay: Relay;
  store: StateStore;
  clock: Clock;
  log: Logger;
  /** Longer than this without a valid metered sample and the relay goes off (the sensor is unplugged). */
  gapThresholdMs: number;
  onError: (message: string) => void;
  /** Called once a purchase's end is journaled (the relay already reads back off). */
  onDone?: (done: PurchaseDone) => Promise<void>;
}

/**
 * Prepaid delivery: a purchase of N Wh switches the relay on; every sample adds what it delivered, and the
 * relay goes off as soon as the purchase is reached. The relay is on only while a purchase is owed, the
 * agent runs, and the metered sensor gave a valid sample within the gap threshold. The purchase is
 * journaled before the relay goes on, and marked done only once the relay reads back off: a switch-off
 * that fails is retried on every tick and sample until it does.
 */
export class PrepaidDelivery {
  #active: ActivePurchase | undefined;
  #lastValidMs: number | undefined;
  #stopped = false;
  /** Relay work, one at a time. */
  #ops: Promise<void> = Promise.resolve();
  #failing = false;

  constructor(private readonly o: PrepaidOptions) {}

  get active(): ActivePurchase | undefined {
    return this.#active;
  }

  /**
   * After a restart: the unfinished purchase and what it already delivered according to the journal.
   * `windowEnded`: it was a market trade whose window closed while the agent was down (the relay stays off).
   * The relay stays off until the first valid sample.
   */
  async resume(progress: PurchaseProgress | undefined, windowEnded = false): Promise<void> {
    this.#active = progress && { ...progress };
    if (this.#active) {
      if (this.#active.deliveredHalfNJ >= BigInt(this.#active.purchase.energyMWs) * HALF_NJ_PER_MWS)
        this.#active.ending = 'delivered';
      else if (windowEnded) this.#active.ending = 'window-ended';
    }
    await this.#reconcile(this.o.clock.nowMs());
  }

  async start(energyMWs: bigint, id: string = randomUUID()): Promise<PurchaseRecord> {
    if (this.#active)
      throw new MeterAgentError(
        'PURCHASE_REFUSED',
        `purchase ${this.#active.purchase.id} is still being delivered: wait for it to finish`,
      );
    if (energyMWs <= 0n) throw new MeterAgentError('PURCHASE_REFUSED', 'a purchase needs more than 0 Wh');
    if (this.o.store.state.purchases.has(id))
      throw new MeterAgentError('PURCHASE_REFUSED', `purchase id ${id} was used before`);
    const purchase: PurchaseRecord = { id, energyMWs: energyMWs.toString(), startMs: this.o.clock.nowMs() };
    await this.o.store.append({ kind: 'purchase', purchase });
    this.#active = { purchase, deliveredHalfNJ: 0n };
    this.o.log.info({ purchase: id, energyMWs: purchase.energyMWs }, 'prepaid purchase started');
    await this.#reconcile(purchase.startMs);
    return purchase;
  }

  /** Called for every counted sample with the energy its segment delivered and whether it was valid. */
  async onSample(tMs: number, deliveredHalfNJ: bigint, valid: boolean): Promise<void> {
    if (valid) this.#lastValidMs = Math.max(this.#lastValidMs ?? tMs, tMs);
    const active = this.#active;
    if (active && tMs > active.purchase.startMs) {
      // Counted while a failed switch-off is retried too: that energy did flow.
      active.deliveredHalfNJ += deliveredHalfNJ;
      if (!active.ending && active.deliveredHalfNJ >= BigInt(active.purchase.energyMWs) * HALF_NJ_PER_MWS)
        active.ending = 'delivered';
    }
    // Now, not the sample's time: a sample counted late must not switch on past the gap threshold.
    await this.#reconcile(this.o.clock.nowMs());
  }

  /** Every sampling tick, whether or not its sample gets counted: the gap rule and retries need no sample. */
  async tick(nowMs: number): Promise<void> {
    await this.#reconcile(nowMs);
  }

  /** Ends the purchase `id` before it is delivered (a market trade's window closed); no-op otherwise. */
  async end(id: string, reason: Exclude<PurchaseDone['reason'], 'delivered'>): Promise<void> {
    const active = this.#active;
    if (active?.purchase.id !== id || active.ending) return;
    active.ending = reason;
    await this.#reconcile(this.o.clock.nowMs());
  }

  /** Switches off for good (first thing in a stop): no energy flows while nobody meters it. */
  async shutdown(): Promise<void> {
    this.#stopped = true;
    // A few quick tries; past them systemd's ExecStopPost (`meter-agent relay-off`) tries again.
    for (let i = 0; i < 3; i++) {
      await this.#reconcile(this.o.clock.nowMs());
      if (!this.o.relay.isOn) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  #wantOn(nowMs: number): boolean {
    const a = this.#active;
    return (
      !this.#stopped &&
      a !== undefined &&
      a.ending === undefined &&
      this.#lastValidMs !== undefined &&
      nowMs - this.#lastValidMs <= this.o.gapThresholdMs
    );
  }

  /** Brings the relay to where it should be, then journals the end of a purchase whose relay reads off. */
  #reconcile(nowMs: number): Promise<void> {
    const run = this.#ops.then(async () => {
      const want = this.#wantOn(nowMs);
      if (want !== this.o.relay.isOn) await this.#switch(want, nowMs);
      if (this.#active?.ending && !this.o.relay.isOn) await this.#finish(this.#active, this.#active.ending);
    });
    this.#ops = run.catch(() => undefined);
    return run;
  }

  async #switch(on: boolean, nowMs: number): Promise<void> {
    const { relay, log } = this.o;
    try {
      await relay.set(on);
      if (this.#failing) log.info({ on }, 'relay switches again');
      this.#failing = false;
      const why = on
        ? 'prepaid purchase owed and metered: relay on'
        : this.#stopped
          ? 'agent stopping: relay off'
          : this.#active?.ending
            ? `prepaid purchase ${this.#active.ending}: relay off`
            : this.#active &&
                this.#lastValidMs !== undefined &&
                nowMs - this.#lastValidMs > this.o.gapThresholdMs
              ? `no valid metered sample for ${nowMs - this.#lastValidMs} ms: relay off until the sensor reads again`
              : 'relay off';
      log.info({ purchase: this.#active?.purchase.id }, why);
    } catch (error) {
      // Retried on the next tick or sample; said once per run of failures.
      if (!this.#failing) {
        log.error({ on, error: errorMessage(error) }, 'relay did not switch');
        this.o.onError(`relay did not switch ${on ? 'on' : 'off'}: ${errorMessage(error)}`);
      }
      this.#failing = true;
    }
  }

  async #finish(active: ActivePurchase, reason: PurchaseDone['reason']): Promise<void> {
    const done: PurchaseDone = {
      id: active.purchase.id,
      deliveredHalfNJ: active.deliveredHalfNJ.toString(),
      deliveredMWs: (active.deliveredHalfNJ / HALF_NJ_PER_MWS).toString(),
      endMs: this.o.clock.nowMs(),
      reason,
    };
    await this.o.store.append({ kind: 'purchase-done', done });
    this.#active = undefined;
    this.o.log.info(
      { purchase: done.id, energyMWs: active.purchase.energyMWs, deliveredMWs: done.deliveredMWs },
      reason === 'delivered' ? 'prepaid purchase delivered' : `prepaid purchase ended (${reason})`,
    );
    await (this.o.onDone?.(done) ?? Promise.resolve());
  }
}

/** A purchase request dropped into `<dataDir>/inbox/` by `meter-agent buy`. */
export interface PurchaseRequestFile {
  id: string;
  energyMWs: string;
}

export function inboxDir(dataDir: string): string {
  return join(dataDir, 'inbox');
}

/** Writes a purchase request for the running agent to pick up (atomically: temp file, then rename). */
export async function submitPurchase(
  dataDir: string,
  energyMWs: bigint,
  id: string = randomUUID(),
): Promise<string> {
  const dir = inboxDir(dataDir);
  await mkdir(dir, { recursive: true });
  const body: PurchaseRequestFile = { id, energyMWs: energyMWs.toString() };
  const temp = join(dir, `.${id}.tmp`);
  await writeFile(temp, JSON.stringify(body), { mode: 0o600 });
  await rename(temp, join(dir, `${id}.json`));
  return id;
}

/** Takes the requests waiting in the inbox (each removed once read). */
export async function takeInbox(dataDir: string): Promise<PurchaseRequestFile[]> {
  const dir = inboxDir(dataDir);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
  } catch {
    return [];
  }
  const out: PurchaseRequestFile[] = [];
  for (const name of names.sort()) {
    const file = join(dir, name);
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<PurchaseRequestFile>;
      if (
        typeof parsed.id === 'string' &&
        typeof parsed.energyMWs === 'string' &&
        /^[0-9]+$/.test(parsed.energyMWs)
      )
        out.push({ id: parsed.id, energyMWs: parsed.energyMWs });
    } finally {
      await rm(file, { force: true });
    }
  }
  return out;
}
