/**
 * `allocate verify`: a member's allocation payment held to the statement recomputed from the signed
 * readings. The payment is found on the ledger through the indexer by its key; its transaction must be
 * signed by the member's address and pay the producer and each fee payee exactly the recomputed units,
 * and its description must name the same readings, keys and tariff. One verdict: PASS or the first FAIL.
 */
import { indexedPayments, type RecordIndexer } from '@tanglewatt/channels';
import { type AllocationStatement, allocationPayment } from './allocation.js';
import type { AllocationConfig } from './allocation-config.js';
import { BillError } from './errors.js';
import { ownedValue, ownerOf, signerOf, type TransactionJson } from './reader.js';

export type AllocationFailureCode =
  | 'NOT_PAID'
  | 'PAID_TWICE'
  | 'PAYER_MISMATCH'
  | 'PAYEE_MISMATCH'
  | 'AMOUNT_MISMATCH'
  | 'SHARE_MISMATCH'
  | 'READINGS_MISMATCH'
  | 'TERMS_MISMATCH';

export type AllocationVerdict =
  | { ok: true; detail: string }
  | { ok: false; code: AllocationFailureCode; detail: string };

/** One included transaction carrying the member's payment, as the ledger holds it. */
export interface LedgerAllocationPayment {
  transactionId: string;
  /** The payment's entry in the transaction's `tanglewatt/pay/v1` description. */
  description: Record<string, unknown>;
  /** Ed25519 address (0x hash) that signed the transaction. */
  signer: string | undefined;
  /** Each output's owner (0x hash) and what it gives the owner (less any deposit owed back). */
  outputs: { owner: string | undefined; units: bigint }[];
}

const fail = (code: AllocationFailureCode, detail: string): AllocationVerdict => ({
  ok: false,
  code,
  detail,
});

export function checkAllocationPayment(
  statement: AllocationStatement,
  meterId: string,
  payees: AllocationConfig['payees'],
  found: readonly LedgerAllocationPayment[],
  hexOf: (bech32: string) => string,
): AllocationVerdict {
  const m = statement.members.find((x) => x.meterId === meterId);
  if (!m) throw new BillError('INVALID_CONFIG', `member: no member with meterId "${meterId}" in the config`);
  const transactions = [...new Set(found.map((f) => f.transactionId))];
  if (transactions.length === 0)
    return m.units.producer === '0'
      ? { ok: true, detail: `${meterId} owes nothing for ${statement.cycle.id}, and nothing was paid` }
      : fail('NOT_PAID', `no included payment "${m.paymentKey}" in the indexer`);
  if (transactions.length > 1)
    return fail(
      'PAID_TWICE',
      `"${m.paymentKey}" is paid by ${transactions.length} transactions: ${transactions.join(', ')}`,
    );
  const p = found[0]!;
  const d = p.description;
  const same = (a: string | undefined, b: string) => a?.toLowerCase() === hexOf(b).toLowerCase();
  if (!same(p.signer, m.address))
    return fail(
      'PAYER_MISMATCH',
      `${p.transactionId} is signed by ${p.signer ?? 'nobody'}, not ${m.address}`,
    );
  const paid = (o: unknown, role: string, to: string, units: string): AllocationVerdict | undefined => {
    const output = typeof o === 'number' ? p.outputs[o] : undefined;
    if (!output || !same(output.owner, to))
      return fail('PAYEE_MISMATCH', `${role}: output ${String(o)} does not pay ${to}`);
    if (output.units !== BigInt(units))
      return fail(
        role === 'producer' ? 'AMOUNT_MISMATCH' : 'SHARE_MISMATCH',
        `${role}: the ledger pays ${output.units}, the readings give ${units}`,
      );
    return undefined;
  };
  const producer = paid(d.o, 'producer', payees.producer, m.units.producer);
  if (producer) return producer;
  const shares = Array.isArray(d.shares) ? (d.shares as { role?: unknown; o?: unknown }[]) : [];
  for (const role of ['operator', 'grid'] as const) {
    const share = shares.find((s) => s.role === role);
    if (m.units[role] === '0') {
      if (share) return fail('SHARE_MISMATCH', `${role}: paid a share, the readings give 0`);
      continue;
    }
    if (!share) return fail('SHARE_MISMATCH', `${role}: no share paid, the readings give ${m.units[role]}`);
    const wrong = paid(share.o, role, payees[role]!, m.units[role]);
    if (wrong) return wrong;
  }
  if (d.readingsHash !== statement.readingsHash)
    return fail(
      'READINGS_MISMATCH',
      `the payment names readings ${String(d.readingsHash)}, the channels now give ${statement.readingsHash}`,
    );
  const tariff = d.tariff as { id?: unknown } | undefined;
  if (tariff?.id !== statement.tariff.id)
    return fail(
      'TERMS_MISMATCH',
      `tariff: the payment names ${String(tariff?.id)}, the config ${statement.tariff.id}`,
    );
  const covered = allocationPayment(statement, meterId, payees)?.metadata?.energyMWs;
  if (d.energyMWs !== covered)
    return fail(
      'TERMS_MISMATCH',
      `covered: the payment states ${String(d.energyMWs)} mW·s, the readings give ${covered}`,
    );
  if (typeof d.note !== 'string' || !d.note.includes(statement.keysHash))
    return fail(
      'TERMS_MISMATCH',
      `keys: the payment does not name the config's keys (sha256 ${statement.keysHash})`,
    );
  const units = BigInt(m.totalUnits);
  return {
    ok: true,
    detail: `${meterId} paid ${units} units for ${statement.cycle.id} (producer ${m.units.producer}, operator ${m.units.operator}, grid ${m.units.grid}; covered ${m.coveredWh} Wh) in ${p.transactionId}`,
  };
}

/** The included transactions carrying `key`, found through the indexer's payment tag. */
export async function findAllocationPayments(
  indexer: RecordIndexer,
  key: string,
): Promise<LedgerAllocationPayment[]> {
  const out: LedgerAllocationPayment[] = [];
  for (const entry of await indexedPayments(indexer)) {
    const description = entry.payment as Record<string, unknown> | null;
    if (description?.k !== key) continue;
    const tx = (await indexer.block(entry.blockId)) as { payload?: TransactionJson } | undefined;
    const payload = tx?.payload;
    out.push({
      transactionId: entry.transactionId,
      description,
      signer: payload ? signerOf(payload) : undefined,
      outputs: (payload?.essence?.outputs ?? []).map((o) => ({ owner: ownerOf(o), units: ownedValue(o) })),
    });
  }
  return out;
}

export const verdictLine = (v: AllocationVerdict) =>
  v.ok ? `PASS: ${v.detail}` : `FAIL ${v.code}: ${v.detail}`;
