import type { Payment } from '@tanglewatt/contract';
import { isError } from '@tanglewatt/errors';
import {
  type BlockJson,
  basicOutputDeposit,
  conflictReasonText,
  hexToBech32,
  isBech32Address,
  isSpentInputConflict,
  type LedgerClient,
  LedgerError,
  MAX_BLOCK_BYTES,
  type MilestoneChanges,
  type MnemonicSigner,
  type NodeApi,
  type OutputSpec,
  type OutputSummary,
  outputIdOf,
  type RentStructure,
} from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import type { WalletConfig } from './config.js';
import type { PaymentsStore, StoredTransaction, TransactionKind } from './payments-store.js';
import type { WalletLedger } from './wallet-ledger.js';
import { isPaymentBlock, paidByWinner } from './winner.js';

/** Tag of the tagged-data payload that describes what a transaction pays for. */
export const PAYMENT_TAG = 'tanglewatt/pay/v1';
/** A first guess of room for the payment description; the signed block's measured size decides. */
const MAX_DESCRIPTION_BYTES = 24_000;
/** Foreign payment transactions remembered to check payments that arrive later against. */
const MAX_FOREIGN_BLOCKS = 256;
/** Most inputs a Stardust transaction may have. */
const MAX_INPUTS = 128;

/** Node trouble (retry later) as opposed to something wrong with what we asked to sign. */
function isTransient(error: unknown): boolean {
  return isError(error, [
    'NODE_UNREACHABLE',
    'NODE_NOT_SYNCED',
    'NODE_REQUEST_FAILED',
    'TIMEOUT',
    'NOT_FOUND',
    'INPUT_UNAVAILABLE',
  ]);
}

const notFound = (error: unknown): undefined => {
  if (isError(error, 'NOT_FOUND')) return undefined;
  throw error;
};

/**
 * The oldest waiting payments that free outputs can fund together, within the per-transaction limits;
 * a payment that cannot be funded even alone is left out (and reported) rather than holding up the rest.
 */
export function planBatch(
  waiting: Payment[],
  options: {
    maxOutputs: number;
    maxDescriptionBytes: number;
    outputAmount: (p: Payment) => bigint;
    canFund: (need: bigint) => boolean;
  },
): { batch: Payment[]; unfundable: Payment[] } {
  const batch: Payment[] = [];
  const unfundable: Payment[] = [];
  let need = 0n;
  let descriptionBytes = 0;
  for (const p of waiting) {
    if (batch.length >= options.maxOutputs) break;
    const size = Buffer.byteLength(JSON.stringify(describe(p, batch.length)));
    if (descriptionBytes + size > options.maxDescriptionBytes) break;
    const amount = options.outputAmount(p);
    if (options.canFund(need + amount)) {
      batch.push(p);
      need += amount;
      descriptionBytes += size;
    } else if (!options.canFund(amount)) unfundable.push(p);
  }
  return { batch, unfundable };
}

/** Batch sizes to try when a batch cannot be signed or does not fit a block: n, n/2, …, 1. */
export function halvings(n: number): number[] {
  const sizes: number[] = [];
  for (let size = n; size >= 1; size = size > 1 ? Math.ceil(size / 2) : 0) {
    sizes.push(size);
    if (size === 1) break;
  }
  return sizes;
}

/**
 * What a refused signing says about the payments: `final` when no transaction could ever carry them as
 * they are (an address or amount the protocol does not allow), else worth another try later.
 */
export function refusal(error: unknown): { reason: string; final: boolean; unfundable: boolean } {
  const message = (error as Error).message;
  return {
    reason: `could not build the transaction: ${message}`,
    final:
      isError(error, 'INVALID_ADDRESS') ||
      /storage deposit|invalid (output )?amount|output amount/i.test(message),
    unfundable: isError(error, 'INSUFFICIENT_FUNDS'),
  };
}

type SubmitResult = { ok: true } | { ok: false; reason: string; final: boolean; unfundable?: boolean };

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
  /** The network's total supply: no payment can ever be more. */
  tokenSupply: bigint;
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
  /** Transactions not ours that created outputs of ours, to read for payments they made. */
  private readonly foreignToRead = new Set<string>();
  private readonly foreignRead = new Set<string>();
  /** Recent foreign transactions that carry a payment description, kept to check later payments against. */
  private readonly foreignBlocks = new Map<string, BlockJson>();
  /** Keys already checked against every block in `foreignBlocks`. */
  private readonly matchedKeys = new Set<string>();

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

  /**
   * A confirmed milestone the wallet's ledger view read: note every transaction not ours that created an
   * output of ours. Another copy of this wallet (a restored backup) spends our outputs too, and what it paid
   * must not be paid again here.
   */
  noteLedgerChanges(changes: MilestoneChanges): void {
    const hex = this.deps.ledger.addressHex;
    for (const o of changes.created)
      if (o.ownerHex === hex && !this.deps.store.transaction(o.transactionId))
        this.foreignToRead.add(o.transactionId);
  }

  private isUnreadForeign(o: OutputSummary): boolean {
    return !this.deps.store.transaction(o.transactionId) && !this.foreignRead.has(o.transactionId);
  }

  /**
   * Reads each noted foreign transaction's payment description; payments of ours it made (same key, payee
   * and amount) are recorded as included by it. Runs before any new transaction is signed, and again for
   * payments that arrive later (the other copy may have been asked first).
   */
  private async readForeignTransactions(): Promise<void> {
    const { api, store, ledger } = this.deps;
    for (const o of ledger.all()) if (this.isUnreadForeign(o)) this.foreignToRead.add(o.transactionId);
    const unsettled = store.unsettled();
    const fresh: [string, BlockJson][] = [];
    for (const txId of [...this.foreignToRead]) {
      if (!store.transaction(txId) && !this.foreignRead.has(txId)) {
        // Not readable (the genesis, or pruned): nothing it paid can be known.
        const block = await api.includedBlock(txId).catch(notFound);
        if (block && isPaymentBlock(block, PAYMENT_TAG)) fresh.push([txId, block]);
        else this.foreignRead.add(txId);
      }
      this.foreignToRead.delete(txId);
    }
    const newcomers = unsettled.filter((p) => !this.matchedKeys.has(p.idempotencyKey));
    for (const [txId, block] of this.foreignBlocks) await this.settleByForeign(txId, block, newcomers);
    for (const [txId, block] of fresh) {
      // Counted as read only once what it paid is journaled: a failure here is read again next time.
      this.foreignToRead.add(txId);
      await this.settleByForeign(txId, block, store.unsettled());
      this.foreignToRead.delete(txId);
      this.foreignRead.add(txId);
      this.foreignBlocks.set(txId, block);
      if (this.foreignBlocks.size > MAX_FOREIGN_BLOCKS)
        this.foreignBlocks.delete(this.foreignBlocks.keys().next().value!);
    }
    for (const p of unsettled) this.matchedKeys.add(p.idempotencyKey);
  }

  private async settleByForeign(txId: string, block: BlockJson, candidates: Payment[]): Promise<void> {
    const { api, store, log } = this.deps;
    const open = candidates.filter((p) => {
      const now = store.get(p.idempotencyKey);
      return (
        now !== undefined && now.state !== 'included' && now.state !== 'cancelled' && now.state !== 'failed'
      );
    });
    if (open.length === 0) return;
    const paid = paidByWinner(block, txId, open, { payer: this.deps.address, tag: PAYMENT_TAG });
    if (paid.length === 0) return;
    const meta = await api.includedBlockMetadata(txId);
    const milestone = await api.milestoneByIndex(meta.referencedByMilestoneIndex!);
    await store.recordIncludedElsewhere(
      {
        txId,
        blockId: meta.blockId,
        milestoneIndex: milestone.index,
        milestoneTimestamp: milestone.timestamp,
      },
      paid,
    );
    log.warn(
      { txId, payments: paid.length },
      'another transaction from this wallet already paid these payments',
    );
  }

  /** One pass: follow open transactions, then start new ones while there is room. */
  async tick(): Promise<void> {
    for (const tx of this.deps.store.openTransactions()) {
      // One transaction the node cannot tell us about must not keep the others (or new ones) waiting.
      await this.follow(tx).catch((error: unknown) => {
        this.deps.log.warn({ txId: tx.txId, err: (error as Error).message }, 'could not follow transaction');
      });
    }
    if (this.claimRequested) {
      this.claimRequested = false;
      await this.claim();
    }
    await this.readForeignTransactions();
    const skipped = new Set<string>();
    while (this.deps.store.openTransactions().length < this.deps.config.maxInFlight) {
      if (!(await this.startBatch(skipped))) break;
    }
    await this.takeBackExpired();
    await this.consolidateIfNeeded();
  }

  /** Where and when the ledger included `tx`, if it did; read by transaction id, else from its outputs. */
  private async inclusionOf(
    tx: StoredTransaction,
    everyOutput = false,
  ): Promise<{ blockId: string; milestoneIndex: number; milestoneTimestamp: number } | undefined> {
    const { api, ledger } = this.deps;
    const included = await api.includedBlockMetadata(tx.txId).catch(notFound);
    if (included?.ledgerInclusionState === 'included' && included.referencedByMilestoneIndex !== undefined) {
      const milestone = await api.milestoneByIndex(included.referencedByMilestoneIndex).catch(notFound);
      if (milestone)
        return {
          blockId: included.blockId,
          milestoneIndex: milestone.index,
          milestoneTimestamp: milestone.timestamp,
        };
    }
    if (included) return undefined;
    // The node may have pruned the transaction: its outputs (ours in the wallet view, or any the node still
    // knows) show it was included all the same.
    const own = ledger.all().find((o) => o.transactionId === tx.txId);
    // Every output when the inputs are gone too (spent and pruned): an unspent one is never pruned.
    const count = everyOutput ? outputCountOf(tx.payloadJson) : 1;
    const outputIds = [
      ...(own ? [own.outputId] : []),
      ...Array.from({ length: count }, (_, i) => outputIdOf(tx.txId, i)),
    ];
    for (const id of outputIds) {
      const meta = await api.outputMetadata(id).catch(notFound);
      if (meta)
        return {
          blockId: meta.blockId,
          milestoneIndex: meta.milestoneIndexBooked,
          milestoneTimestamp: meta.milestoneTimestampBooked,
        };
    }
    return undefined;
  }

  /** Brings one open transaction forward: included, conflicting, posted for the first time, or re-posted. */
  private async follow(tx: StoredTransaction): Promise<void> {
    const { api, store, client, log } = this.deps;
    const inclusion = await this.inclusionOf(tx);
    if (inclusion) {
      await store.recordIncluded(
        tx.txId,
        inclusion.blockId,
        inclusion.milestoneIndex,
        inclusion.milestoneTimestamp,
      );
      log.info(
        { txId: tx.txId, kind: tx.kind, payments: tx.keys.length, milestone: inclusion.milestoneIndex },
        'transaction included',
      );
      return;
    }
    const last = tx.blockIds.at(-1);
    const meta = last ? await api.blockMetadata(last).catch(() => undefined) : undefined;
    const postedAgoMs = tx.lastPostedAt ? Date.now() - Date.parse(tx.lastPostedAt) : Number.POSITIVE_INFINITY;
    const conflicting = meta?.ledgerInclusionState === 'conflicting';
    if (tx.state === 'posted' && postedAgoMs < this.deps.config.reattachAfterSeconds * 1000 && !conflicting) {
      if (meta?.shouldPromote && !meta.shouldReattach) await client.promote(last!).catch(() => undefined);
      if (!meta?.shouldReattach) return;
    }
    // Not included (yet): before posting again, make sure no other transaction spent our inputs.
    const missing: string[] = [];
    for (const input of tx.inputs) {
      const spent = await api.outputMetadata(input).catch(notFound);
      if (!spent) {
        missing.push(input);
        continue;
      }
      if (spent.isSpent && spent.transactionIdSpent && spent.transactionIdSpent !== tx.txId) {
        await this.settleAgainstWinner(tx, input, spent.transactionIdSpent);
        return;
      }
      if (spent.isSpent) return; // spent by this very transaction: inclusion shows up shortly
    }
    if (conflicting && meta?.conflictReason !== undefined && !isSpentInputConflict(meta.conflictReason)) {
      await this.rejected(tx, conflictReasonText(meta!.conflictReason!));
      return;
    }
    if (missing.length > 0) {
      const pruned = await this.inclusionOf(tx, true);
      if (pruned) {
        await store.recordIncluded(tx.txId, pruned.blockId, pruned.milestoneIndex, pruned.milestoneTimestamp);
        return;
      }
      await this.rejected(
        tx,
        `input ${missing[0]} cannot be found on the node (spent and pruned, or never created)`,
      );
      return;
    }
    const blockId = await client.postTransaction(tx.payloadJson);
    const attempt = tx.blockIds.length + 1;
    await store.recordPosted(tx.txId, blockId);
    log.info(
      { txId: tx.txId, blockId, attempt },
      attempt > 1 ? 'transaction re-posted' : 'transaction posted',
    );
  }

  /** The ledger refused `tx` itself: its payments go to fresh inputs once, and fail the second time. */
  private async rejected(tx: StoredTransaction, reason: string): Promise<void> {
    await this.deps.store.recordConflicting(tx.txId, reason, { rejected: true });
    this.deps.log.warn({ txId: tx.txId, reason }, 'the ledger refused the transaction');
  }

  /**
   * Another transaction spent our input. It may be a second copy of this wallet that paid the very same
   * keys: read what it paid, record those as included by it, and leave only what is really unpaid to be
   * issued again.
   */
  private async settleAgainstWinner(tx: StoredTransaction, input: string, winnerTxId: string): Promise<void> {
    const { api, store, log } = this.deps;
    const candidates = tx.keys.map((k) => store.get(k)).filter((p): p is Payment => p !== undefined);
    let paid: { key: string; outputId: string }[] = [];
    if (candidates.length > 0) {
      const [block, meta] = await Promise.all([
        api.includedBlock(winnerTxId).catch(notFound),
        api.includedBlockMetadata(winnerTxId).catch(notFound),
      ]);
      if (!block || meta?.referencedByMilestoneIndex === undefined) {
        // Spent, so included; the node should answer shortly (or has pruned it: then we cannot know).
        throw new LedgerError('NOT_FOUND', `winning transaction ${winnerTxId} is not readable yet`);
      }
      paid = paidByWinner(block, winnerTxId, candidates, { payer: this.deps.address, tag: PAYMENT_TAG });
      if (paid.length > 0) {
        const milestone = await api.milestoneByIndex(meta.referencedByMilestoneIndex);
        await store.recordIncludedElsewhere(
          {
            txId: winnerTxId,
            blockId: meta.blockId,
            milestoneIndex: milestone.index,
            milestoneTimestamp: milestone.timestamp,
          },
          paid,
        );
      }
    }
    await store.recordConflicting(tx.txId, `input ${input} was spent by transaction ${winnerTxId}`);
    log.warn(
      {
        txId: tx.txId,
        input,
        winner: winnerTxId,
        paidByWinner: paid.length,
        reissue: candidates.length - paid.length,
      },
      'transaction conflicts; payments the winner did not pay will be re-issued from fresh inputs',
    );
  }

  /** Plain outputs not used by an open transaction (nor made by a transaction not read yet), largest first. */
  private freeOutputs(): OutputSummary[] {
    const locked = this.lockedInputs();
    return this.deps.ledger
      .spendable()
      .filter((o) => !locked.has(o.outputId) && !this.isUnreadForeign(o))
      .sort((a, b) => (a.amount === b.amount ? 0 : a.amount > b.amount ? -1 : 1));
  }

  /** Inputs covering `need` whose change is either nothing or a valid output of its own. */
  private selectInputs(need: bigint, candidates: OutputSummary[]): OutputSummary[] | undefined {
    const chosen: OutputSummary[] = [];
    let sum = 0n;
    for (const o of candidates) {
      if (chosen.length >= MAX_INPUTS - 1) break;
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

  /** Why a payment can never be paid as it stands, if so. */
  private impossible(p: Payment): string | undefined {
    if (!isBech32Address(p.to, this.deps.bech32Hrp))
      return `to: not a bech32 Ed25519 address of this network (starting "${this.deps.bech32Hrp}1")`;
    if (this.outputFor(p).amount > this.deps.tokenSupply)
      return `amount: more than the network's total supply of ${this.deps.tokenSupply} base units`;
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
    const oldestMs = Math.min(...waiting.map((p) => Date.parse(p.createdAt)));
    if (waiting.length < config.maxOutputsPerTransaction && Date.now() - oldestMs < config.lingerMs)
      return false;

    const invalid = waiting.filter((p) => this.impossible(p) !== undefined);
    for (const p of invalid) await store.recordFailed([p.idempotencyKey], this.impossible(p)!);
    const valid = waiting.filter((p) => !invalid.includes(p));

    const free = this.freeOutputs();
    const { batch, unfundable } = planBatch(valid, {
      maxOutputs: config.maxOutputsPerTransaction,
      maxDescriptionBytes: MAX_DESCRIPTION_BYTES,
      outputAmount: (p) => this.outputFor(p).amount,
      canFund: (need) => this.selectInputs(need, free) !== undefined,
    });
    const spendable = free.reduce((s, o) => s + o.amount, 0n);
    for (const p of unfundable) {
      skipped.add(p.idempotencyKey);
      await store.note(
        p.idempotencyKey,
        `waiting for funds: needs ${this.outputFor(p).amount} base units, ${spendable} spendable now`,
      );
    }
    // Those failed or skipped no longer count: look again at the rest.
    if (batch.length === 0) return invalid.length + unfundable.length > 0;

    // A batch the SDK will not sign, or whose block would be too large, is halved down to one payment.
    for (const size of halvings(batch.length)) {
      const part = batch.slice(0, size);
      const result = await this.submitPayments(part, free);
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
  private async submitPayments(part: Payment[], free: OutputSummary[]): Promise<SubmitResult> {
    const { client, store, signer, account, address, log } = this.deps;
    const keys = part.map((p) => p.idempotencyKey);
    const outputs = part.map((p) => this.outputFor(p));
    const need = outputs.reduce((s, o) => s + o.amount, 0n);
    const inputs = this.selectInputs(need, free);
    if (!inputs) return { ok: false, reason: `needs ${need} base units`, final: false, unfundable: true };
    const description = JSON.stringify({ v: 1, payments: part.map((p, i) => describe(p, i)) });
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
        outputIndexes: keys.map((_, i) => i),
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
    await this.follow(tx).catch((error: unknown) => {
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

  /**
   * Claims received micro-payments: keeps the amounts, sends each deposit back to its payer. The kept
   * amounts must together make a valid output (at least a basic output's deposit): the protocol has no
   * other place to put them. So the largest ones are claimed together, and an output of our own is merged
   * in only when they do not reach that deposit; without one, the claim waits for more to arrive.
   */
  async claim(): Promise<void> {
    const { ledger, address, bech32Hrp, log } = this.deps;
    const locked = this.lockedInputs();
    const kept = (o: OutputSummary) => o.amount - o.depositReturn!.amount;
    const claimable = ledger
      .claimable(Math.floor(Date.now() / 1000))
      .filter((o) => !locked.has(o.outputId))
      .sort((a, b) => (kept(a) === kept(b) ? 0 : kept(a) > kept(b) ? -1 : 1))
      .slice(0, 100);
    if (claimable.length === 0) return;
    const returns = new Map<string, bigint>();
    let keptTotal = 0n;
    for (const o of claimable) {
      const back = o.depositReturn!;
      returns.set(back.addressHex, (returns.get(back.addressHex) ?? 0n) + back.amount);
      keptTotal += kept(o);
    }
    const inputs = claimable.map((o) => o.outputId);
    if (keptTotal < this.basicDeposit) {
      // Too little to stand as an output of its own: merge it into one of ours.
      const own = this.freeOutputs()[0];
      if (!own) {
        log.info(
          { claimable: claimable.length, kept: keptTotal.toString(), needs: this.basicDeposit.toString() },
          'claim waits: the kept amounts are below a basic deposit and there is no own output to merge them into',
        );
        return;
      }
      inputs.push(own.outputId);
      keptTotal += own.amount;
    }
    const outputs: OutputSpec[] = [
      ...[...returns].map(
        ([hex, amount]): OutputSpec => ({ kind: 'basic', address: hexToBech32(hex, bech32Hrp), amount }),
      ),
      { kind: 'basic', address, amount: keptTotal },
    ];
    await this.submit('claim', inputs, outputs, JSON.stringify({ v: 1, claim: claimable.length }));
  }

  /**
   * Micro-payments we sent whose payee let them expire: the payee can no longer claim them, so take them
   * back now. Once that transaction is included, their payments go back to the queue to be paid again.
   */
  private async takeBackExpired(): Promise<void> {
    if (this.deps.store.openTransactions().length >= this.deps.config.maxInFlight) return;
    const locked = this.lockedInputs();
    const expired = this.deps.ledger
      .spendable()
      .filter((o) => o.ownerHex !== this.deps.ledger.addressHex && !locked.has(o.outputId))
      .slice(0, MAX_INPUTS);
    if (expired.length === 0) return;
    const total = expired.reduce((s, o) => s + o.amount, 0n);
    await this.submit(
      'consolidation',
      expired.map((o) => o.outputId),
      [{ kind: 'basic', address: this.deps.address, amount: total }],
      JSON.stringify({ v: 1, takeBack: expired.length }),
    );
  }

  private async consolidateIfNeeded(): Promise<void> {
    if (this.deps.store.awaitingTransaction().length > 0) return;
    if (this.deps.store.openTransactions().length > 0) return;
    const free = this.freeOutputs();
    if (free.length <= this.deps.config.consolidateAbove) return;
    const inputs = free.slice(0, MAX_INPUTS - 1);
    const total = inputs.reduce((s, o) => s + o.amount, 0n);
    await this.submit(
      'consolidation',
      inputs.map((o) => o.outputId),
      [{ kind: 'basic', address: this.deps.address, amount: total }],
      JSON.stringify({ v: 1, consolidate: inputs.length }),
    );
  }
}

/** How many outputs a signed transaction payload (as journaled) has. */
function outputCountOf(payloadJson: string): number {
  try {
    const payload = JSON.parse(payloadJson) as { essence?: { outputs?: unknown[] } };
    return Math.max(1, payload.essence?.outputs?.length ?? 1);
  } catch {
    return 1;
  }
}

/** The public description of one payment inside its transaction's tagged data. */
export function describe(p: Payment, outputIndex: number): Record<string, unknown> {
  return { k: p.idempotencyKey, o: outputIndex, a: p.amount, ...(p.metadata ?? {}) };
}
