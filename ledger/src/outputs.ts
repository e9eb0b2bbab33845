import type { NodeApi, OutputWithMetadata } from './node-api.js';

/** Unlock condition types of TIP-18 as they appear in the REST API's JSON. */
export const UnlockConditionType = {
  Address: 0,
  StorageDepositReturn: 1,
  Timelock: 2,
  Expiration: 3,
} as const;

export const OutputType = { Basic: 3, Alias: 4, Foundry: 5, Nft: 6 } as const;

interface AddressJson {
  type: number;
  pubKeyHash?: string;
  aliasId?: string;
  nftId?: string;
}

interface UnlockConditionJson {
  type: number;
  address?: AddressJson;
  returnAddress?: AddressJson;
  amount?: string;
  unixTime?: number;
}

/** What the wallet and the explorer need to know of an output, read from its JSON. */
export interface OutputSummary {
  outputId: string;
  type: number;
  amount: bigint;
  /** Ed25519 address (0x hash) the output is locked to, if that is its kind of owner. */
  ownerHex?: string;
  /** Storage deposit return: who gets how much back when the owner spends it. */
  depositReturn?: { addressHex: string; amount: bigint };
  /** After this Unix time the output belongs to `addressHex`. */
  expiration?: { addressHex: string; unixTime: number };
  timelockUntil?: number;
  /** Holds native tokens or features other than a tag or metadata: not a plain coin output. */
  hasNativeTokens: boolean;
  isSpent: boolean;
  milestoneIndexBooked: number;
  transactionId: string;
  outputIndex: number;
}

function addressHex(address: AddressJson | undefined): string | undefined {
  return address?.type === 0 ? address.pubKeyHash?.toLowerCase() : undefined;
}

export function summarizeOutput(outputId: string, response: OutputWithMetadata): OutputSummary {
  const output = response.output as {
    type: number;
    amount: string;
    unlockConditions?: UnlockConditionJson[];
    nativeTokens?: unknown[];
  };
  const conditions = output.unlockConditions ?? [];
  const byType = (type: number) => conditions.find((c) => c.type === type);
  const sdr = byType(UnlockConditionType.StorageDepositReturn);
  const expiration = byType(UnlockConditionType.Expiration);
  const timelock = byType(UnlockConditionType.Timelock);
  const summary: OutputSummary = {
    outputId,
    type: output.type,
    amount: BigInt(output.amount),
    hasNativeTokens: (output.nativeTokens?.length ?? 0) > 0,
    isSpent: response.metadata.isSpent,
    milestoneIndexBooked: response.metadata.milestoneIndexBooked,
    transactionId: response.metadata.transactionId,
    outputIndex: response.metadata.outputIndex,
  };
  const owner = addressHex(byType(UnlockConditionType.Address)?.address);
  if (owner) summary.ownerHex = owner;
  const sdrAddress = addressHex(sdr?.returnAddress);
  if (sdr && sdrAddress)
    summary.depositReturn = { addressHex: sdrAddress, amount: BigInt(sdr.amount ?? '0') };
  const expAddress = addressHex(expiration?.returnAddress);
  if (expiration && expAddress)
    summary.expiration = { addressHex: expAddress, unixTime: expiration.unixTime ?? 0 };
  if (timelock?.unixTime) summary.timelockUntil = timelock.unixTime;
  return summary;
}

/** A basic output that only its owner's signature unlocks, with no strings attached. */
export function isPlainCoinOutput(o: OutputSummary): boolean {
  return (
    o.type === OutputType.Basic &&
    o.ownerHex !== undefined &&
    !o.depositReturn &&
    !o.expiration &&
    !o.timelockUntil &&
    !o.hasNativeTokens
  );
}

/** Output id from a transaction id and an output index (2 bytes little-endian). */
export function outputIdOf(transactionId: string, outputIndex: number): string {
  const index = Buffer.alloc(2);
  index.writeUInt16LE(outputIndex);
  return `${transactionId}${index.toString('hex')}`;
}

export interface MilestoneChanges {
  index: number;
  timestamp: number;
  created: OutputSummary[];
  consumed: string[];
}

/** The outputs a confirmed milestone created and consumed, each created one read in full. */
export async function milestoneChanges(
  api: NodeApi,
  index: number,
  concurrency = 8,
): Promise<MilestoneChanges> {
  const [milestone, changes] = await Promise.all([
    api.milestoneByIndex(index),
    api.utxoChangesByIndex(index),
  ]);
  const created: OutputSummary[] = [];
  const queue = [...changes.createdOutputs];
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        created.push(summarizeOutput(id, await api.output(id)));
      }
    }),
  );
  created.sort((a, b) => (a.outputId < b.outputId ? -1 : 1));
  return { index, timestamp: milestone.timestamp, created, consumed: changes.consumedOutputs };
}

/** An OutputSummary with its amounts as decimal strings, for JSON. */
export type OutputSummaryJson = Omit<OutputSummary, 'amount' | 'depositReturn'> & {
  amount: string;
  depositReturn?: { addressHex: string; amount: string };
};

export function outputSummaryToJson(o: OutputSummary): OutputSummaryJson {
  const { amount, depositReturn, ...rest } = o;
  return {
    ...rest,
    amount: amount.toString(),
    ...(depositReturn
      ? { depositReturn: { addressHex: depositReturn.addressHex, amount: depositReturn.amount.toString() } }
      : {}),
  };
}

export function outputSummaryFromJson(o: OutputSummaryJson): OutputSummary {
  const { amount, depositReturn, ...rest } = o;
  return {
    ...rest,
    amount: BigInt(amount),
    ...(depositReturn
      ? { depositReturn: { addressHex: depositReturn.addressHex, amount: BigInt(depositReturn.amount) } }
      : {}),
  };
}
