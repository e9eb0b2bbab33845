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

/**
 * Prepaid delivery: a purchase of N Wh closes the relay; every sample adds what it delivered, and the
 * relay opens as soon as the purchase is reached. The purchase is journaled before the relay closes and
 * the relay opens before the purchase is marked done, so a crash never leaves energy flowing unpaid.
 */
export class PrepaidDelivery {
  #active: PurchaseProgress | undefined;

  constructor(
    private readonly relay: Relay,
    private readonly store: StateStore,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly onError: (message: string) => void,
    /** Called once a purchase's end is journaled (the relay is already open). */
    private readonly onDone: (done: PurchaseDone) => Promise<void> = async () => undefined,
  ) {}

  get active(): PurchaseProgress | undefined {
    return this.#active;
  }

  /**
   * After a restart: the unfinished purchase and what it already delivered according to the journal.
   * `windowEnded`: it was a market trade whose window closed while the agent was down (the relay stays open).
   */
  async resume(progress: PurchaseProgress | undefined, windowEnded = false): Promise<void> {
    this.#active = progress;
    if (!progress) return this.#switch(false);
    if (progress.deliveredHalfNJ >= BigInt(progress.purchase.energyMWs) * HALF_NJ_PER_MWS)
      return this.#finish('delivered');
    if (windowEnded) return this.#finish('window-ended');
    await this.#switch(true);
  }

  async start(energyMWs: bigint, id: string = randomUUID()): Promise<PurchaseRecord> {
    if (this.#active)
      throw new MeterAgentError(
        'PURCHASE_REFUSED',
        `purchase ${this.#active.purchase.id} is still being delivered: wait for it to finish`,
      );
    if (energyMWs <= 0n) throw new MeterAgentError('PURCHASE_REFUSED', 'a purchase needs more than 0 Wh');
    if (this.store.state.purchases.has(id))
      throw new MeterAgentError('PURCHASE_REFUSED', `purchase id ${id} was used before`);
    const purchase: PurchaseRecord = { id, energyMWs: energyMWs.toString(), startMs: this.clock.nowMs() };
    await this.store.append({ kind: 'purchase', purchase });
    this.#active = { purchase, deliveredHalfNJ: 0n };
    this.log.info({ purchase: id, energyMWs: purchase.energyMWs }, 'prepaid purchase started: relay on');
    await this.#switch(true);
    return purchase;
  }

  /** Called for every counted sample with the energy its segment delivered. */
  async onSample(tMs: number, deliveredHalfNJ: bigint): Promise<void> {
    const active = this.#active;
    if (!active || tMs <= active.purchase.startMs) return;
    active.deliveredHalfNJ += deliveredHalfNJ;
    if (active.deliveredHalfNJ >= BigInt(active.purchase.energyMWs) * HALF_NJ_PER_MWS)
      await this.#finish('delivered');
  }

  /** Ends the purchase `id` before it is delivered (a market trade's window closed); no-op otherwise. */
  async end(id: string, reason: Exclude<PurchaseDone['reason'], 'delivered'>): Promise<void> {
    if (this.#active?.purchase.id === id) await this.#finish(reason);
  }

  async #finish(reason: PurchaseDone['reason']): Promise<void> {
    const active = this.#active;
    if (!active) return;
    await this.#switch(false);
    const done: PurchaseDone = {
      id: active.purchase.id,
      deliveredHalfNJ: active.deliveredHalfNJ.toString(),
      deliveredMWs: (active.deliveredHalfNJ / HALF_NJ_PER_MWS).toString(),
      endMs: this.clock.nowMs(),
      reason,
    };
    await this.store.append({ kind: 'purchase-done', done });
    this.#active = undefined;
    this.log.info(
      { purchase: done.id, energyMWs: active.purchase.energyMWs, deliveredMWs: done.deliveredMWs },
      reason === 'delivered'
        ? 'prepaid purchase delivered: relay off'
        : `prepaid purchase ended (${reason}): relay off`,
    );
    await this.onDone(done);
  }

  async #switch(on: boolean): Promise<void> {
    try {
      await this.relay.set(on);
    } catch (error) {
      this.log.error({ on, error: errorMessage(error) }, 'relay did not switch');
      this.onError(`relay did not switch ${on ? 'on' : 'off'}: ${errorMessage(error)}`);
    }
  }

  /** Opens the relay (graceful stop): no energy flows while nobody meters it. */
  async shutdown(): Promise<void> {
    await this.#switch(false);
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
