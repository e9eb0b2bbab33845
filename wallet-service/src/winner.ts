import type { Payment } from '@tanglewatt/contract';
import {
  type BlockJson,
  bech32ToHex,
  OutputType,
  outputIdOf,
  UnlockConditionType,
  utf8ToHex,
} from '@tanglewatt/ledger';
import { paymentEntriesOf } from './delivery-history.js';

interface OutputJson {
  type: number;
  amount: string;
  unlockConditions?: {
    type: number;
    address?: { type: number; pubKeyHash?: string };
    returnAddress?: { type: number; pubKeyHash?: string };
    amount?: string;
  }[];
}

/** True when `output` pays `p` exactly: to its payee, its amount (a micro-payment: deposit back to `payerHex`). */
function pays(output: OutputJson | undefined, p: Payment, payerHex: string): boolean {
  if (output?.type !== OutputType.Basic) return false;
  const conditions = output.unlockConditions ?? [];
  const owner = conditions.find((c) => c.type === UnlockConditionType.Address)?.address;
  if (owner?.type !== 0 || owner.pubKeyHash?.toLowerCase() !== bech32ToHex(p.to).toLowerCase()) return false;
  const sdr = conditions.find((c) => c.type === UnlockConditionType.StorageDepositReturn);
  if (conditions.some((c) => c.type === UnlockConditionType.Timelock)) return false;
  if (!p.micro) return !sdr && BigInt(output.amount) === BigInt(p.amount);
  if (!sdr || sdr.returnAddress?.pubKeyHash?.toLowerCase() !== payerHex) return false;
  return BigInt(output.amount) - BigInt(sdr.amount ?? '0') === BigInt(p.amount);
}

/** True for a transaction block whose tagged data describes payments of this project's form. */
export function isPaymentBlock(block: BlockJson, tag: string): boolean {
  return paymentEntriesOf(block, utf8ToHex(tag)).length > 0;
}

/**
 * Which of `candidates` the included transaction `txId` (in `block`) paid: its tagged data names the key,
 * and the output it points to pays that payee that amount. Such payments must not be paid again.
 */
export function paidByWinner(
  block: BlockJson,
  txId: string,
  candidates: Payment[],
  options: { payer: string; tag: string },
): { key: string; outputId: string }[] {
  const outputs =
    (block.payload as { essence?: { outputs?: OutputJson[] } } | undefined)?.essence?.outputs ?? [];
  const payerHex = bech32ToHex(options.payer).toLowerCase();
  const byKey = new Map(candidates.map((p) => [p.idempotencyKey, p]));
  const paid: { key: string; outputId: string }[] = [];
  for (const entry of paymentEntriesOf(block, utf8ToHex(options.tag))) {
    const p = byKey.get(entry.key);
    if (!p || entry.units !== BigInt(p.amount) || !pays(outputs[entry.outputIndex], p, payerHex)) continue;
    byKey.delete(entry.key);
    paid.push({ key: entry.key, outputId: outputIdOf(txId, entry.outputIndex) });
  }
  return paid;
}
