/**
 * Settlement's upkeep transactions, which pay no payment: claiming received micro-payments, taking back
 * those whose payee let them expire, and merging small outputs.
 */
import { hexToBech32, type OutputSpec, type OutputSummary } from '@tanglewatt/ledger';
import type { TransactionKind } from './payments-store.js';
import type { SettlementDeps } from './settlement-deps.js';
import { MAX_INPUTS } from './settlement-plan.js';

export interface Upkeep {
  deps: SettlementDeps;
  basicDeposit: bigint;
  lockedInputs(): Set<string>;
  freeOutputs(): OutputSummary[];
  submit(kind: TransactionKind, inputs: string[], outputs: OutputSpec[], description: string): Promise<void>;
}

/**
 * Claims received micro-payments: keeps the amounts, sends each deposit back to its payer. The kept
 * amounts must together make a valid output (at least a basic output's deposit): the protocol has no
 * other place to put them. So the largest ones are claimed together, and an output of our own is merged
 * in only when they do not reach that deposit; without one, the claim waits for more to arrive.
 */
export async function claimReceived(u: Upkeep): Promise<void> {
  const { ledger, address, bech32Hrp, log } = u.deps;
  const locked = u.lockedInputs();
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
  if (keptTotal < u.basicDeposit) {
    // Too little to stand as an output of its own: merge it into one of ours.
    const own = u.freeOutputs()[0];
    if (!own) {
      log.info(
        { claimable: claimable.length, kept: keptTotal.toString(), needs: u.basicDeposit.toString() },
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
  await u.submit('claim', inputs, outputs, JSON.stringify({ v: 1, claim: claimable.length }));
}

/**
 * Micro-payments we sent whose payee let them expire: the payee can no longer claim them, so take them
 * back now. Once that transaction is included, each output's amount is owed again: the payments journal's
 * fold adds a payment that pays it (payments-state.ts, repayExpired).
 */
export async function takeBackExpired(u: Upkeep): Promise<void> {
  if (u.deps.store.openTransactions().length >= u.deps.config.maxInFlight) return;
  const locked = u.lockedInputs();
  const expired = u.deps.ledger
    .spendable()
    .filter((o) => o.ownerHex !== u.deps.ledger.addressHex && !locked.has(o.outputId))
    .slice(0, MAX_INPUTS);
  if (expired.length === 0) return;
  const total = expired.reduce((s, o) => s + o.amount, 0n);
  await u.submit(
    'consolidation',
    expired.map((o) => o.outputId),
    [{ kind: 'basic', address: u.deps.address, amount: total }],
    JSON.stringify({ v: 1, takeBack: expired.length }),
  );
}

export async function consolidateIfNeeded(u: Upkeep): Promise<void> {
  if (u.deps.store.awaitingTransaction().length > 0) return;
  if (u.deps.store.openTransactions().length > 0) return;
  const free = u.freeOutputs();
  if (free.length <= u.deps.config.consolidateAbove) return;
  const inputs = free.slice(0, MAX_INPUTS - 1);
  const total = inputs.reduce((s, o) => s + o.amount, 0n);
  await u.submit(
    'consolidation',
    inputs.map((o) => o.outputId),
    [{ kind: 'basic', address: u.deps.address, amount: total }],
    JSON.stringify({ v: 1, consolidate: inputs.length }),
  );
}
