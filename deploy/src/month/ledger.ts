/**
 * The month added up against the ledger, read from the node (not from the bills, nor the indexer): every
 * transaction the households' wallet-services had included, and what its outputs gave anyone but the payer
 * (producer, operator, grid; less any deposit owed back). The bills must add up to that to the unit, and
 * every period a household's agent paid must be on its bill exactly once.
 */
import type { BillJson } from '@tanglewatt/contract';
import { bech32ToHex, type NodeApi } from '@tanglewatt/ledger';
import type { PeriodView } from '@tanglewatt/meter-agent';

const ADDRESS_UNLOCK = 0;
const DEPOSIT_RETURN_UNLOCK = 1;

interface OutputJson {
  amount: string;
  unlockConditions?: { type: number; amount?: string; address?: { pubKeyHash?: string } }[];
}

export interface MonthCheck {
  transactions: number;
  payments: number;
  /** Sum over the run's transactions of what their outputs gave others than the payer. */
  ledgerPaidUnits: bigint;
  /** Sum of the bills' paid totals, and of their energy, operator and grid parts. */
  billsPaidUnits: bigint;
  billsEnergyPaidUnits: bigint;
  billsOperatorUnits: bigint;
  billsGridUnits: bigint;
  billsEarnedUnits: bigint;
  boughtMWs: bigint;
  /** Empty when everything adds up. */
  problems: string[];
}

export interface MonthLedgerInput {
  node: Pick<NodeApi, 'includedBlock'>;
  wallets: readonly { address: string }[];
  /** Each household's included payments (its wallet-service's store). */
  included: readonly (readonly { transactionId?: string; idempotencyKey: string }[])[];
  /** Each household's periods of the month, as its agent closed them. */
  periods: readonly (readonly PeriodView[])[];
  bills: readonly BillJson[];
}

/** What a transaction's outputs give others than its payer. */
async function paidOut(node: MonthLedgerInput['node'], transactionId: string, payerHex: string) {
  const block = await node.includedBlock(transactionId);
  const outputs = ((block.payload as { essence?: { outputs?: OutputJson[] } }).essence?.outputs ??
    []) as OutputJson[];
  let units = 0n;
  for (const o of outputs) {
    const owner = o.unlockConditions?.find((c) => c.type === ADDRESS_UNLOCK)?.address?.pubKeyHash;
    if (owner?.toLowerCase() === payerHex) continue;
    const deposit = o.unlockConditions?.find((c) => c.type === DEPOSIT_RETURN_UNLOCK)?.amount ?? '0';
    units += BigInt(o.amount) - BigInt(deposit);
  }
  return units;
}

export async function checkMonth(input: MonthLedgerInput): Promise<MonthCheck> {
  const problems: string[] = [];
  let ledgerPaidUnits = 0n;
  let transactions = 0;
  let payments = 0;
  for (const [i, w] of input.wallets.entries()) {
    const payerHex = bech32ToHex(w.address).toLowerCase();
    const ids = new Set<string>();
    for (const p of input.included[i]!) {
      payments++;
      if (p.transactionId) ids.add(p.transactionId);
      else problems.push(`H${i + 1}: payment ${p.idempotencyKey} is included without a transaction id`);
    }
    for (const id of ids) ledgerPaidUnits += await paidOut(input.node, id, payerHex);
    transactions += ids.size;
  }
  const sum = (pick: (b: BillJson) => string) => input.bills.reduce((t, b) => t + BigInt(pick(b)), 0n);
  const billsPaidUnits = sum((b) => b.totals.paidUnits);
  if (billsPaidUnits !== ledgerPaidUnits)
    problems.push(
      `the bills' paid add up to ${billsPaidUnits} units, the ledger's payment outputs to ${ledgerPaidUnits}`,
    );
  const billsEnergyPaidUnits = sum((b) => b.totals.energyPaidUnits);
  const billsEarnedUnits = sum((b) => b.totals.earnedUnits);
  if (billsEarnedUnits !== billsEnergyPaidUnits)
    problems.push(
      `the bills' earned add up to ${billsEarnedUnits} units, their energy paid to ${billsEnergyPaidUnits}`,
    );

  for (const [i, bill] of input.bills.entries()) {
    const billed = bill.lines.filter((l) => l.direction === 'bought').map((l) => l.periodId ?? `(${l.key})`);
    const once = new Set(billed);
    if (once.size !== billed.length)
      problems.push(`H${i + 1}: ${billed.length - once.size} period(s) billed twice`);
    const paid = input.periods[i]!.filter((p) => p.paymentState === 'accepted').map((p) => p.id);
    const missing = paid.filter((id) => !once.has(id));
    const extra = [...once].filter((id) => !paid.includes(id));
    if (missing.length) problems.push(`H${i + 1}: paid but not billed: ${missing.join(', ')}`);
    if (extra.length) problems.push(`H${i + 1}: billed but not paid by its agent: ${extra.join(', ')}`);
    const unpaid = input.periods[i]!.filter(
      (p) => p.paymentState !== 'accepted' && p.paymentState !== 'nothing-due',
    );
    if (unpaid.length)
      problems.push(
        `H${i + 1}: ${unpaid.length} period(s) of the month not paid: ${unpaid.map((p) => `${p.id} ${p.paymentState}`).join(', ')}`,
      );
  }
  return {
    transactions,
    payments,
    ledgerPaidUnits,
    billsPaidUnits,
    billsEnergyPaidUnits,
    billsOperatorUnits: sum((b) => b.totals.operatorFeeUnits),
    billsGridUnits: sum((b) => b.totals.gridFeeUnits),
    billsEarnedUnits,
    boughtMWs: sum((b) => b.totals.boughtMWs),
    problems,
  };
}
