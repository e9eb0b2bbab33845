import {
  type BlockJson,
  bech32ToHex,
  hexToUtf8,
  OutputType,
  outputIdOf,
  UnlockConditionType,
  utf8ToHex,
} from '@tanglewatt/ledger';
import type { Payment } from '@tanglewatt/payments-api';

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

interface TransactionPayloadJson {
  type: number;
  essence?: { outputs?: OutputJson[]; payload?: { type: number; tag?: string; data?: string } };
}

/** The payment description a transaction carries in its tagged data, if it is ours and well formed. */
function describedPayments(
  payload: TransactionPayloadJson,
  tag: string,
): { k: string; o: number; a: string }[] {
  const tagged = payload.essence?.payload;
  if (tagged?.type !== 5 || tagged.tag?.toLowerCase() !== utf8ToHex(tag) || !tagged.data) return [];
  try {
    const parsed = JSON.parse(hexToUtf8(tagged.data)) as { v?: number; payments?: unknown };
    if (parsed.v !== 1 || !Array.isArray(parsed.payments)) return [];
    return parsed.payments.filter(
      (d): d is { k: string; o: number; a: string } =>
        typeof d?.k === 'string' && Number.isInteger(d?.o) && typeof d?.a === 'string',
    );
  } catch {
    return [];
  }
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
  const payload = block.payload as TransactionPayloadJson | undefined;
  return payload?.type === 6 && describedPayments(payload, tag).length > 0;
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
  const payload = block.payload as TransactionPayloadJson | undefined;
  if (payload?.type !== 6) return [];
  const outputs = payload.essence?.outputs ?? [];
  const payerHex = bech32ToHex(options.payer).toLowerCase();
  const byKey = new Map(candidates.map((p) => [p.idempotencyKey, p]));
  const paid: { key: string; outputId: string }[] = [];
  for (const d of describedPayments(payload, options.tag)) {
    const p = byKey.get(d.k);
    if (!p || d.a !== p.amount || !pays(outputs[d.o], p, payerHex)) continue;
    byKey.delete(d.k);
    paid.push({ key: d.k, outputId: outputIdOf(txId, d.o) });
  }
  return paid;
}
