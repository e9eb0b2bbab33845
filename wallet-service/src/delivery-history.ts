import { type BlockJson, hexToUtf8 } from '@tanglewatt/ledger';
import { MWS_PER_WH } from '@tanglewatt/market';

/** One payment for metered energy, as its transaction describes it on the tangle. */
export interface PaidDelivery {
  /** Ed25519 address (0x hash) of the payee: the producer that delivered the energy. */
  payeeHex: string;
  energyMWs: bigint;
  /** Length of the period (or trade window) the energy was delivered in. */
  periodMs: number;
  /** Milestone that confirmed the payment. */
  milestoneIndex: number;
}

const TRANSACTION_PAYLOAD = 6;
const ADDRESS_UNLOCK = 0;
const ED25519_ADDRESS = 0;

interface TransactionJson {
  type: number;
  essence?: {
    outputs?: { unlockConditions?: { type: number; address?: { type: number; pubKeyHash?: string } }[] }[];
    payload?: { type: number; tag?: string; data?: string };
  };
}

/** One payment as its transaction describes it: key, amount and payee, and the energy when it names one. */
export interface PaymentEntry {
  key: string;
  units: bigint;
  payeeHex: string;
  /** Essence index of the output that pays it. */
  outputIndex: number;
  /** The description's other fields: the metadata the payment was requested with. */
  metadata: Record<string, unknown>;
  /** With energy and a period: a paid delivery. */
  delivery?: { energyMWs: bigint; periodMs: number };
}

/**
 * The payments a payment transaction makes: each entry of its tagged-data description (`{v: 1, payments:
 * [{k, o, a, energyMWs?, periodStart?, periodEnd?}]}`, as the wallet-service writes it) joined with the
 * output it names. Entries that name no Ed25519-owned output, and blocks that are not such transactions,
 * give nothing.
 */
export function paymentEntriesOf(block: BlockJson, paymentTagHex: string): PaymentEntry[] {
  const payload = block.payload as TransactionJson | undefined;
  if (payload?.type !== TRANSACTION_PAYLOAD) return [];
  const tagged = payload.essence?.payload;
  if (tagged?.tag !== paymentTagHex || !tagged.data) return [];
  let description: { v?: unknown; payments?: unknown };
  try {
    description = JSON.parse(hexToUtf8(tagged.data)) as typeof description;
  } catch {
    return [];
  }
  if (description.v !== 1 || !Array.isArray(description.payments)) return [];
  const outputs = payload.essence?.outputs ?? [];
  const found: PaymentEntry[] = [];
  for (const entry of description.payments as Record<string, unknown>[]) {
    // A payment's shares (operator, grid) are outputs of their own, not part of what it says of the energy.
    const { k, o, a, shares: _shares, ...metadata } = entry ?? {};
    const { energyMWs, periodStart, periodEnd } = metadata;
    if (typeof k !== 'string' || typeof o !== 'number' || typeof a !== 'string' || !/^[0-9]{1,20}$/.test(a))
      continue;
    const address = outputs[o]?.unlockConditions?.find((c) => c.type === ADDRESS_UNLOCK)?.address;
    if (address?.type !== ED25519_ADDRESS || !address.pubKeyHash) continue;
    const payment: PaymentEntry = {
      key: k,
      units: BigInt(a),
      payeeHex: address.pubKeyHash.toLowerCase(),
      outputIndex: o,
      metadata,
    };
    const periodMs =
      typeof periodStart === 'string' && typeof periodEnd === 'string'
        ? Date.parse(periodEnd) - Date.parse(periodStart)
        : Number.NaN;
    if (
      typeof energyMWs === 'string' &&
      /^[0-9]{1,30}$/.test(energyMWs) &&
      Number.isFinite(periodMs) &&
      periodMs > 0
    )
      payment.delivery = { energyMWs: BigInt(energyMWs), periodMs };
    found.push(payment);
  }
  return found;
}

/** The deliveries a payment transaction pays for: its entries that name energy and a period. */
export function paidDeliveriesOf(
  block: BlockJson,
  paymentTagHex: string,
  milestoneIndex: number,
): PaidDelivery[] {
  return paymentEntriesOf(block, paymentTagHex).flatMap((p) =>
    p.delivery ? [{ payeeHex: p.payeeHex, ...p.delivery, milestoneIndex }] : [],
  );
}

/**
 * Wh a producer can deliver in a window by its history: its peak paid delivery rate (energy over the
 * period it came in) sustained for the window, floored; counting only payments confirmed before milestone
 * `beforeMilestone`. Undefined without such history.
 */
export function capacityFromHistory(
  deliveries: readonly PaidDelivery[],
  windowMs: number,
  beforeMilestone: number,
): bigint | undefined {
  let best: bigint | undefined;
  for (const d of deliveries) {
    if (d.milestoneIndex >= beforeMilestone) continue;
    const wh = (d.energyMWs * BigInt(Math.max(0, Math.floor(windowMs)))) / (BigInt(d.periodMs) * MWS_PER_WH);
    if (best === undefined || wh > best) best = wh;
  }
  return best;
}
