import type { Payment } from '@tanglewatt/contract';
import {
  basicOutputDeposit,
  isBech32Address,
  type LedgerClient,
  MAX_BLOCK_BYTES,
  type MilestoneChanges,
  type OutputSpec,
  type OutputSummary,
} from '@tanglewatt/ledger';
import { MilestoneClock } from './milestone-clock.js';
import type { TransactionKind } from './payments-store.js';
import { type ChainTip, chainTip, mayChain, ownKnownOutputs } from './settlement-chain.js';
import type { SettlementDeps } from './settlement-deps.js';
import {
  describe,
  halvings,
  isTransient,
  lingerLeftMs,
  MAX_DESCRIPTION_BYTES,
  MAX_INPUTS,
  PAYMENT_TAG,
  planBatch,
  refusal,
} from './settlement-plan.js';
import { claimReceived, consolidateIfNeeded, takeBackExpired, type Upkeep } from './settlement-upkeep.js';
import { TransactionFollower } from './transaction-follower.js';
import { Waker } from './waker.js';
import { WalletCopies } from './wallet-copies.js';

export * from './settlement-chain.js';
export type { SettlementDeps } from './settlement-deps.js';
export * from './settlement-plan.js';

type SubmitResult = { ok: true } | { ok: false; reason: string; final: boolean; unfundable?: boolean };

/**
 * Turns queued payments into transactions and follows each to inclusion. Everything runs in one loop,
 * so input selection never races: a transaction's inputs stay locked until it is final.
 */
export class Settlement {
  private running = false;
  private readonly waker = new Waker();
  /** When the lingering payments are due, if some are waiting for company. */
  private lingerDueInMs = Number.POSITIVE_INFINITY;
  private claimRequested = false;
  /** A milestone was confirmed since the open transactions were last looked at. */
  private milestoneSeen = false;
  private readonly basicDeposit: bigint;
  private loop: Promise<void> | undefined;
  /** Payments another copy of this wallet made: found before anything is signed, or when one wins an input. */
  private readonly copies: WalletCopies;
  private readonly follower: TransactionFollower;
  /** When the next milestone is due: payments wait for company until shortly before it. */
  private readonly milestoneClock = new MilestoneClock();

  constructor(private readonly deps: SettlementDeps) {
    this.basicDeposit = basicOutputDeposit(deps.address, deps.rent);
    this.copies = new WalletCopies({ ...deps, paymentTag: PAYMENT_TAG });
    this.follower = new TransactionFollower({ ...deps, ...deps.config, copies: this.copies });
  }

  /**
   * Inputs never to select: those of transactions not final yet, and those of transactions included by a
   * milestone the wallet's ledger view has not read yet (it still lists them as unspent).
   */
  lockedInputs(): Set<string> {
    const { store, ledger } = this.deps;
    return new Set(
      [...store.openTransactions(), ...store.includedAfter(ledger.ledgerIndex)].flatMap((t) => t.inputs),
    );
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.waker.wake();
    await this.loop;
  }

  /**
   * A new payment, a confirmed milestone (which may include a transaction of ours) or a change in our
   * outputs: look again now rather than at the next tick. A notice during a pass runs another pass after it.
   */
  notify(): void {
    this.waker.wake();
  }

  /** A confirmed milestone: wake, and between two new transactions look at the open ones first. */
  noteMilestone(): void {
    this.milestoneSeen = true;
    this.milestoneClock.noteArrival();
    this.notify();
  }

  requestClaim(): void {
    this.claimRequested = true;
    this.notify();
  }

  private async run(): Promise<void> {
    let lastError = '';
    while (this.running) {
      try {
        await this.tick();
        lastError = '';
      } catch (error) {
        const message = (error as Error).message;
        if (message !== lastError) this.deps.log.warn({ err: message }, 'settlement step failed; retrying');
        lastError = message;
      }
      const idle = this.deps.idleTickMs ?? 250;
      await this.waker.sleep(Math.max(1, Math.min(idle, this.lingerDueInMs)));
    }
  }

  /** A confirmed milestone the wallet's ledger view read: see WalletCopies.noteLedgerChanges. */
  noteLedgerChanges(changes: MilestoneChanges): void {
    this.copies.noteLedgerChanges(changes);
  }

  /** One pass: follow open transactions, then start new ones while there is room. */
  async tick(): Promise<void> {
    this.lingerDueInMs = Number.POSITIVE_INFINITY;
    this.milestoneSeen = false;
    await this.follower.followAll(this.deps.store.openTransactions());
    if (this.claimRequested) {
      this.claimRequested = false;
      await this.claim();
    }
    await this.copies.readForeignTransactions();
    const skipped = new Set<string>();
    for (;;) {
      // A milestone that came while transactions were being made may have included some: record that
      // now (freeing their room in flight) rather than after the last new one.
      if (this.milestoneSeen) {
        this.milestoneSeen = false;
        await this.follower.followAll(this.deps.store.openTransactions());
      }
      if (this.deps.store.openTransactions().length >= this.deps.config.maxInFlight) break;
      if (!(await this.startBatch(skipped))) break;
    }
    await takeBackExpired(this.upkeep());
    await consolidateIfNeeded(this.upkeep());
  }

  /** Plain outputs not used by an open transaction (nor made by a transaction not read yet), largest first. */
  private freeOutputs(): OutputSummary[] {
    const locked = this.lockedInputs();
    return this.deps.ledger
      .spendable()
      .filter((o) => !locked.has(o.outputId) && !this.copies.isUnreadForeign(o))
      .sort((a, b) => (a.amount === b.amount ? 0 : a.amount > b.amount ? -1 : 1));
  }

  /** The change of an open transaction of ours to build on, when no confirmed output is free. */
  private chainTip(): ChainTip | undefined {
    const { store, ledger, config } = this.deps;
    return chainTip(store.allTransactions(), {
      maxDepth: config.maxChainDepth,
      ownerHex: ledger.addressHex,
      lookup: (txId) => store.transaction(txId),
    });
  }

  /** Of these confirmed inputs, those known in full (see ownKnownOutputs): signed without the node. */
  private knownInputs(outputIds: string[]): Record<string, OutputSpec> {
    const { ledger, store, address } = this.deps;
    const wanted = new Set(outputIds);
    return ownKnownOutputs(
      ledger.all().filter((o) => wanted.has(o.outputId)),
      { address, addressHex: ledger.addressHex, lookup: (txId) => store.transaction(txId) },
    );
  }

  /** Inputs covering `need` whose change is either nothing or a valid output of its own. */
  private selectInputs<T extends { amount: bigint }>(need: bigint, candidates: T[]): T[] | undefined {
    const chosen: T[] = [];
    let sum = 0n;
    for (const o of candidates) {
      if (chosen.length >= MAX_INPUTS - 1) break;
      chosen.push(o);
      sum += o.amount;
      if (sum === need || sum - need >= this.basicDeposit) return chosen;
    }
    return undefined;
  }

  /** The payment's outputs: the payee's, then one per share, each sent as a payment on its own would be. */
  private outputsFor(p: Payment): OutputSpec[] {
    return [this.outputFor(p), ...(p.shares ?? []).map((s) => this.outputFor(s))];
  }

  private outputAmount(p: Payment): bigint {
    return this.outputsFor(p).reduce((sum, o) => sum + o.amount, 0n);
  }

  private outputFor(p: { to: string; amount: string; micro?: boolean; depositUnits?: string }): OutputSpec {
    const amount = BigInt(p.amount);
    if (!p.micro) return { kind: 'basic', address: p.to, amount };
    const deposit = BigInt(p.depositUnits!);
    return {
      kind: 'micro',
      address: p.to,
      amount: deposit + amount,
      returnAddress: this.deps.address,
      returnAmount: deposit,
      expiresAt: Math.floor(Date.now() / 1000) + this.deps.config.microExpirationSeconds,
    };
  }

  /** Why a payment can never be paid as it stands, if so. */
  private impossible(p: Payment): string | undefined {
    if (!isBech32Address(p.to, this.deps.bech32Hrp))
      return `to: not a bech32 Ed25519 address of this network (starting "${this.deps.bech32Hrp}1")`;
    if (this.outputAmount(p) > this.deps.tokenSupply)
      return `amount: more than the network's total supply of ${this.deps.tokenSupply} base units`;
    const share = (p.shares ?? []).findIndex((s) => !isBech32Address(s.to, this.deps.bech32Hrp));
    if (share >= 0) return `shares.${share}.to: not a bech32 Ed25519 address of this network`;
    return undefined;
  }

  /**
   * Starts a transaction for the oldest waiting payments that can be funded now; payments that cannot be
   * funded wait (with the reason noted) without holding up the others. False when there is nothing (more)
   * to do now.
   */
  private async startBatch(skipped: Set<string>): Promise<boolean> {
    const { store, config } = this.deps;
    // Not before the ledger view has read up to the node once: a copy of this wallet (a restored backup)
    // may have paid some of these already, which reading the milestones reveals.
    if (!this.deps.ledger.caughtUp) return false;
    const waiting = store.awaitingTransaction().filter((p) => !skipped.has(p.idempotencyKey));
    if (waiting.length === 0) return false;
    // Going early pays only when the payments that follow need not wait a milestone for this transaction's
    // change: another free output remains, or they may build on that change unconfirmed.
    const quietMs =
      this.freeOutputs().length > 1 || config.maxChainDepth > 0 ? config.lingerQuietMs : config.lingerMs;
    const now = Date.now();
    const toCutoff = this.milestoneClock.msToCutoff();
    const left = lingerLeftMs(
      waiting.map((p) => Date.parse(p.createdAt)),
      now,
      {
        maxOutputs: config.maxOutputsPerTransaction,
        lingerMs: config.lingerMs,
        quietMs,
        closeAtMs: toCutoff === undefined ? undefined : now + toCutoff,
      },
    );
    if (left > 0) {
      this.lingerDueInMs = left;
      return false;
    }

    const invalid = waiting.filter((p) => this.impossible(p) !== undefined);
    for (const p of invalid) await store.recordFailed([p.idempotencyKey], this.impossible(p)!);
    let valid = waiting.filter((p) => !invalid.includes(p));

    let free: { outputId: string; amount: bigint }[] = this.freeOutputs();
    // No confirmed output free: build on our own unconfirmed change, for payments on their first try.
    const chain = free.length === 0 ? this.chainTip() : undefined;
    if (chain) {
      free = [chain];
      valid = valid.filter(mayChain);
      if (valid.length === 0) return invalid.length > 0;
    }
    const { batch, unfundable } = planBatch(valid, {
      maxOutputs: config.maxOutputsPerTransaction,
      maxDescriptionBytes: MAX_DESCRIPTION_BYTES,
      outputAmount: (p) => this.outputAmount(p),
      outputCount: (p) => 1 + (p.shares?.length ?? 0),
      canFund: (need) => this.selectInputs(need, free) !== undefined,
    });
    const spendable = free.reduce((s, o) => s + o.amount, 0n);
    for (const p of unfundable) {
      skipped.add(p.idempotencyKey);
      await store.note(
        p.idempotencyKey,
        `waiting for funds: needs ${this.outputAmount(p)} base units, ${spendable} spendable now`,
      );
    }
    // Those failed or skipped no longer count: look again at the rest.
    if (batch.length === 0) return invalid.length + unfundable.length > 0;

    // A batch the SDK will not sign, or whose block would be too large, is halved down to one payment.
    for (const size of halvings(batch.length)) {
      const part = batch.slice(0, size);
      const result = await this.submitPayments(part, free, chain);
      if (result.ok) return true;
      if (size > 1) continue;
      const key = part[0]!.idempotencyKey;
      skipped.add(key);
      if (result.final) {
        await store.recordFailed([key], result.reason);
        this.deps.log.warn({ key, reason: result.reason }, 'payment failed');
      } else await store.note(key, result.unfundable ? `waiting for funds: ${result.reason}` : result.reason);
      return true;
    }
    return false;
  }

  /** Signs, journals and posts one transaction for `part`; says why not when the payments themselves are at fault. */
  private async submitPayments(
    part: Payment[],
    free: { outputId: string; amount: bigint }[],
    chain: ChainTip | undefined,
  ): Promise<SubmitResult> {
    const { client, store, signer, account, address, log } = this.deps;
    const keys = part.map((p) => p.idempotencyKey);
    // Each payment's outputs in a row: its own first, then its shares; outputIndexes name its own.
    const outputIndexes: number[] = [];
    const outputs: OutputSpec[] = [];
    for (const p of part) {
      outputIndexes.push(outputs.length);
      outputs.push(...this.outputsFor(p));
    }
    const need = outputs.reduce((s, o) => s + o.amount, 0n);
    const inputs = this.selectInputs(need, free);
    if (!inputs) return { ok: false, reason: `needs ${need} base units`, final: false, unfundable: true };
    const description = JSON.stringify({
      v: 1,
      payments: part.map((p, i) => describe(p, outputIndexes[i]!)),
    });
    // Held from here until the signed transaction is journaled: a cancel cannot slip in between.
    if (!store.hold(keys)) return { ok: true };
    let txId: string;
    try {
      let signed: Awaited<ReturnType<LedgerClient['signTransaction']>>;
      try {
        signed = await client.signTransaction({
          signer,
          ...account,
          inputs: inputs.map((o) => o.outputId),
          outputs,
          remainderAddress: address,
          tag: PAYMENT_TAG,
          data: description,
          knownInputs: this.knownInputs(inputs.map((o) => o.outputId)),
          ...(chain ? { unconfirmedInputs: { [chain.outputId]: chain.parent.payloadJson } } : {}),
        });
      } catch (error) {
        if (isTransient(error)) throw error;
        return { ok: false, ...refusal(error) };
      }
      const bytes = signed.blockBytes;
      if (bytes > MAX_BLOCK_BYTES)
        return {
          ok: false,
          final: true,
          reason: `its block would be ${bytes} bytes, more than the protocol's ${MAX_BLOCK_BYTES}`,
        };
      // Durable before posting: after a crash the same transaction is posted again, never a new one.
      await store.recordSigned({
        txId: signed.transactionId,
        kind: 'payments',
        keys,
        outputIndexes,
        inputs: inputs.map((o) => o.outputId),
        payloadJson: signed.payloadJson,
      });
      txId = signed.transactionId;
      log.info(
        { txId, kind: 'payments', payments: keys.length, inputs: inputs.length, bytes },
        'transaction signed',
      );
    } finally {
      store.release(keys);
    }
    await this.postNow(txId);
    return { ok: true };
  }

  private async postNow(txId: string): Promise<void> {
    const tx = this.deps.store.transaction(txId)!;
    await this.follower.postFresh(tx).catch((error: unknown) => {
      this.deps.log.warn({ err: (error as Error).message, txId }, 'posting failed; will retry');
    });
  }

  /** Signs, journals and posts a transaction that pays no payment (a claim or a consolidation). */
  private async submit(
    kind: TransactionKind,
    inputs: string[],
    outputs: OutputSpec[],
    description: string,
  ): Promise<void> {
    const { client, store, signer, account, address, log } = this.deps;
    const signed = await client.signTransaction({
      signer,
      ...account,
      inputs,
      outputs,
      remainderAddress: address,
      tag: PAYMENT_TAG,
      data: description,
      knownInputs: this.knownInputs(inputs),
    });
    await store.recordSigned({
      txId: signed.transactionId,
      kind,
      keys: [],
      outputIndexes: [],
      inputs,
      payloadJson: signed.payloadJson,
    });
    log.info({ txId: signed.transactionId, kind, inputs: inputs.length }, 'transaction signed');
    await this.postNow(signed.transactionId);
  }

  /** Claims received micro-payments (see settlement-upkeep.ts). */
  claim(): Promise<void> {
    return claimReceived(this.upkeep());
  }

  /** What the upkeep transactions (claims, take-backs, consolidations) need of settlement. */
  private upkeep(): Upkeep {
    return {
      deps: this.deps,
      basicDeposit: this.basicDeposit,
      lockedInputs: () => this.lockedInputs(),
      freeOutputs: () => this.freeOutputs(),
      submit: (kind, inputs, outputs, description) => this.submit(kind, inputs, outputs, description),
    };
  }
}
