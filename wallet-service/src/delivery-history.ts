import { type BlockJson, hexToUtf8 } from '@tanglewatt/ledger';

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
const MWS_PER_WH = 3_600_000n;

interface TransactionJson {
  type: number;
  essence?: {
    outputs?: { unlockConditions?: { type: number; address?: { type: number; pubKeyHash?: string } }[] }[];
    payload?: { type: number; tag?: string; data?: string };
  };
}

/**
 * The energy a payment transaction pays for: each entry of its tagged-data description (`{v: 1, payments:
 * [{o, energyMWs, periodStart, periodEnd}]}`, as the wallet-service writes it) joined with the output it
 * names. Entries without energy or a period, and blocks that are not such transactions, give nothing.
 */
export function paidDeliveriesOf(
  block: BlockJson,
  paymentTagHex: string,
  milestoneIndex: number,
): PaidDelivery[] {
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
  const found: PaidDelivery[] = [];
  for (const entry of description.payments as Record<string, unknown>[]) {
    const { o, energyMWs, periodStart, periodEnd } = entry ?? {};
    if (typeof o !== 'number' || typeof energyMWs !== 'string' || !/^[0-9]{1,30}$/.test(energyMWs)) continue;
    if (typeof periodStart !== 'string' || typeof periodEnd !== 'string') continue;
    const periodMs = Date.parse(periodEnd) - Date.parse(periodStart);
    if (!Number.isFinite(periodMs) || periodMs <= 0) continue;
    const address = outputs[o]?.unlockConditions?.find((c) => c.type === ADDRESS_UNLOCK)?.address;
    if (address?.type !== ED25519_ADDRESS || !address.pubKeyHash) continue;
    found.push({
      payeeHex: address.pubKeyHash.toLowerCase(),
      energyMWs: BigInt(energyMWs),
      periodMs,
      milestoneIndex,
    });
  }
  return found;
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
