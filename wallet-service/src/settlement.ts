import {
  basicOutputDeposit,
  hexToBech32,
  type LedgerClient,
  LedgerError,
  type MnemonicSigner,
  type NodeApi,
  type OutputSpec,
  type OutputSummary,
  type RentStructure,
} from '@tanglewatt/ledger';
import type { Payment } from '@tanglewatt/payments-api';
import type { Logger } from 'pino';
import type { WalletConfig } from './config.js';
import type { PaymentsStore, StoredTransaction, TransactionKind } from './payments-store.js';
import type { WalletLedger } from './wallet-ledger.js';

/** Tag of the tagged-data payload that describes what a transaction pays for. */
export const PAYMENT_TAG = 'tanglewatt/pay/v1';
/** Room left in a 32 KiB block for the payment description. */
const MAX_DESCRIPTION_BYTES = 24_000;

export interface SettlementDeps {
  store: PaymentsStore;
  ledger: WalletLedger;
  client: LedgerClient;
  api: NodeApi;
  signer: MnemonicSigner;
  address: string;
  bech32Hrp: string;
  rent: RentStructure;
  account: { coinType: number; accountIndex: number };
  config: WalletConfig['settlement'];
  log: Logger;
}

/**
 * Turns queued payments into transactions and follows each to inclusion. Everything runs in one loop,
 * so input selection never races: a transaction's inputs stay locked until it is final.
 */
export class Settlement {
  private running = false;
  private wakeUp: (() => void) | undefined;
  private claimRequested = false;
  private readonly basicDeposit: bigint;
  private loop: Promise<void> | undefined;

  constructor(private readonly deps: SettlementDeps) {
    this.basicDeposit = basicOutputDeposit(deps.address, deps.rent);
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
    this.wakeUp?.();
    await this.loop;
  }

  /** A new payment or an included transaction: look again now rather than at the next tick. */
  notify(): void {
    this.wakeUp?.();
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
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** One pass: follow open transactions, then start new ones while there is room. */
  async tick(): Promise<void> {
    for (const tx of this.deps.store.openTransactions()) await this.follow(tx);
    if (this.claimRequested) {
      this.claimRequested = false;
      await this.claim();
    }
    while (this.deps.store.openTransactions().length < this.deps.config.maxInFlight) {
      if (!(await this.startBatch())) break;
    }
    await this.consolidateIfNeeded();
  }

  /** Brings one open transaction forward: included, conflicting, posted for the first time, or re-posted. */
  private async follow(tx: StoredTransaction): Promise<void> {
    const { api, store, client, log } = this.deps;
    const included = await api.includedBlockMetadata(tx.txId).catch((error: unknown) => {
      if (error instanceof LedgerError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    });
    if (included?.ledgerInclusionState === 'included' && included.referencedByMilestoneIndex !== undefined) {
      const milestone = await api.milestoneByIndex(included.referencedByMilestoneIndex);
      await store.recordIncluded(tx.txId, included.blockId, milestone.index, milestone.timestamp);
      log.info(
        { txId: tx.txId, kind: tx.kind, payments: tx.keys.length, milestone: milestone.index },
        'transaction included',
      );
      return;
    }
    const postedAgoMs = tx.lastPostedAt ? Date.now() - Date.parse(tx.lastPostedAt) : Number.POSITIVE_INFINITY;
    if (tx.state === 'posted' && postedAgoMs < this.deps.config.reattachAfterSeconds * 1000) {
      const last = tx.blockIds.at(-1);
      const meta = last ? await api.blockMetadata(last).catch(() => undefined) : undefined;
      if (meta?.shouldPromote && !meta.shouldReattach) await client.promote(last!).catch(() => undefined);
      if (!meta?.shouldReattach && meta?.ledgerInclusionState !== 'conflicting') return;
    }
    // Not included (yet): before posting again, make sure no other transaction spent our inputs.
    for (const input of tx.inputs) {
      const meta = await api.outputMetadata(input);
      if (meta.isSpent && meta.transactionIdSpent !== tx.txId) {
        await store.recordConflicting(
          tx.txId,
          `input ${input} was spent by transaction ${meta.transactionIdSpent}`,
        );
        log.warn(
          { txId: tx.txId, input },
          'transaction conflicts; its payments will be re-issued from fresh inputs',
        );
        return;
      }
      if (meta.isSpent) return; // spent by this very transaction: inclusion shows up shortly
    }
    const blockId = await client.postTransaction(tx.payloadJson);
    await store.recordPosted(tx.txId, blockId);
    log.info(
      { txId: tx.txId, blockId, attempt: tx.blockIds.length + 1 },
      tx.blockIds.length ? 'transaction re-posted' : 'transaction posted',
    );
  }

  /** Plain outputs not used by an open transaction, largest first. */
  private freeOutputs(): OutputSummary[] {
    const locked = this.lockedInputs();
    return this.deps.ledger
      .spendable()
      .filter((o) => !locked.has(o.outputId))
      .sort((a, b) => (a.amount === b.amount ? 0 : a.amount > b.amount ? -1 : 1));
  }

  /** Inputs covering `need` whose change is either nothing or a valid output of its own. */
  private selectInputs(need: bigint, candidates: OutputSummary[]): OutputSummary[] | undefined {
    const chosen: OutputSummary[] = [];
    let sum = 0n;
    for (const o of candidates) {
      if (chosen.length >= 127) break;
      chosen.push(o);
      sum += o.amount;
      if (sum === need || sum - need >= this.basicDeposit) return chosen;
    }
    return undefined;
  }

  private outputFor(p: Payment): OutputSpec {
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

  /** Starts a transaction for the oldest waiting payments. False when there is nothing (more) to do now. */
  private async startBatch(): Promise<boolean> {
    const { store, config } = this.deps;
    // Not before the ledger view has read up to the node once: a copy of this wallet (a restored backup)
    // may have paid some of these already, which reading the milestones reveals.
    if (!this.deps.ledger.caughtUp) return false;
    const waiting = store.awaitingTransaction();
    if (waiting.length === 0) return false;
    const oldestWaitedMs = Date.now() - Date.parse(waiting[0]!.updatedAt);
    if (waiting.length < config.maxOutputsPerTransaction && oldestWaitedMs < config.lingerMs) return false;

    const batch: Payment[] = [];
    let descriptionBytes = 0;
    for (const p of waiting) {
      const size = Buffer.byteLength(JSON.stringify(describe(p, 0)));
      if (batch.length >= config.maxOutputsPerTransaction || descriptionBytes + size > MAX_DESCRIPTION_BYTES)
        break;
      batch.push(p);
      descriptionBytes += size;
    }
    const free = this.freeOutputs();
    // Fall back to fewer payments, down to the oldest alone, when funds do not cover the batch.
    for (let size = batch.length; size >= 1; size = size > 1 ? Math.ceil(size / 2) : 0) {
      const part = batch.slice(0, size);
      const outputs = part.map((p) => this.outputFor(p));
      const need = outputs.reduce((s, o) => s + o.amount, 0n);
      const inputs = this.selectInputs(need, free);
      if (!inputs) {
        if (size === 1) {
          const spendable = free.reduce((s, o) => s + o.amount, 0n);
          await store.note(
            part[0]!.idempotencyKey,
            `waiting for funds: needs ${need} base units, ${spendable} spendable now`,
          );
          return false;
        }
        continue;
      }
      await this.submit(
        'payments',
        part.map((p) => p.idempotencyKey),
        inputs.map((o) => o.outputId),
        outputs,
        JSON.stringify({ v: 1, payments: part.map((p, i) => describe(p, i)) }),
      );
      return true;
    }
    return false;
  }

  private async submit(
    kind: TransactionKind,
    keys: string[],
    inputs: string[],
    outputs: OutputSpec[],
    description: string,
  ): Promise<void> {
    const { client, store, signer, account, address, log } = this.deps;
    let signed: Awaited<ReturnType<LedgerClient['signTransaction']>>;
    try {
      signed = await client.signTransaction({
        signer,
        ...account,
        inputs,
        outputs,
        remainderAddress: address,
        tag: PAYMENT_TAG,
        data: description,
      });
    } catch (error) {
      for (const key of keys)
        await store.note(key, `could not build the transaction: ${(error as Error).message}`);
      throw error;
    }
    // Durable before posting: after a crash the same transaction is posted again, never a new one.
    await store.recordSigned({
      txId: signed.transactionId,
      kind,
      keys,
      outputIndexes: keys.map((_, i) => i),
      inputs,
      payloadJson: signed.payloadJson,
    });
    log.info(
      { txId: signed.transactionId, kind, payments: keys.length, inputs: inputs.length },
      'transaction signed',
    );
    const tx = store.transaction(signed.transactionId)!;
    await this.follow(tx).catch((error: unknown) => {
      log.warn({ err: (error as Error).message, txId: signed.transactionId }, 'posting failed; will retry');
    });
  }

  /** Claims received micro-payments: keeps the amounts, sends each deposit back to its payer. */
  async claim(): Promise<void> {
    const { ledger, address, bech32Hrp, log } = this.deps;
    const locked = this.lockedInputs();
    const claimable = ledger
      .claimable(Math.floor(Date.now() / 1000))
      .filter((o) => !locked.has(o.outputId))
      .slice(0, 100);
    if (claimable.length === 0) return;
    const returns = new Map<string, bigint>();
    let kept = 0n;
    for (const o of claimable) {
      const back = o.depositReturn!;
      returns.set(back.addressHex, (returns.get(back.addressHex) ?? 0n) + back.amount);
      kept += o.amount - back.amount;
    }
    const inputs = claimable.map((o) => o.outputId);
    if (kept < this.basicDeposit) {
      // Too little to stand as an output of its own: merge it into one of ours.
      const own = this.freeOutputs()[0];
      if (!own) {
        log.info(
          { claimable: claimable.length, kept: kept.toString() },
          'claim waits: nothing to merge small amounts into',
        );
        return;
      }
      inputs.push(own.outputId);
      kept += own.amount;
    }
    const outputs: OutputSpec[] = [
      ...[...returns].map(
        ([hex, amount]): OutputSpec => ({ kind: 'basic', address: hexToBech32(hex, bech32Hrp), amount }),
      ),
      { kind: 'basic', address, amount: kept },
    ];
    await this.submit('claim', [], inputs, outputs, JSON.stringify({ v: 1, claim: claimable.length }));
  }

  private async consolidateIfNeeded(): Promise<void> {
    if (this.deps.store.awaitingTransaction().length > 0) return;
    if (this.deps.store.openTransactions().length > 0) return;
    const free = this.freeOutputs();
    if (free.length <= this.deps.config.consolidateAbove) return;
    const inputs = free.slice(0, 127);
    const total = inputs.reduce((s, o) => s + o.amount, 0n);
    await this.submit(
      'consolidation',
      [],
      inputs.map((o) => o.outputId),
      [{ kind: 'basic', address: this.deps.address, amount: total }],
      JSON.stringify({ v: 1, consolidate: inputs.length }),
    );
  }
}

/** The public description of one payment inside its transaction's tagged data. */
function describe(p: Payment, outputIndex: number): Record<string, unknown> {
  return { k: p.idempotencyKey, o: outputIndex, a: p.amount, ...(p.metadata ?? {}) };
}
