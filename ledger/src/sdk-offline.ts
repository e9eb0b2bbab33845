/**
 * Part of sdk.ts: a transaction prepared without the node, from inputs the caller knows in full. Split out
 * only to keep files small; nothing else uses it.
 */
import { createRequire } from 'node:module';
import type * as IotaSdk from '@iota/sdk-wasm/node/lib/index.js';
import { InvalidInputError, sdkErrorFrom } from './errors.js';
import { DEFAULT_COIN_TYPE, type OutputSpec, toSdkOutput, utf8ToHex } from './sdk-outputs.js';

/** What of a BuildTransactionRequest (sdk.ts) an offline preparation reads. */
export interface OfflineRequest {
  coinType?: number;
  accountIndex?: number;
  addressIndex?: number;
  inputs: string[];
  outputs: OutputSpec[];
  remainderAddress: string;
  tag?: string;
  data?: string;
}

// The same module instance sdk.ts loads (CommonJS entry, see there).
const sdk = createRequire(import.meta.url)('@iota/sdk-wasm/node') as typeof IotaSdk;

/**
 * A transaction prepared without the node: its inputs are outputs of signed transactions we hold (see
 * sdk.ts's BuildTransactionRequest.unconfirmedInputs) or confirmed outputs we know in full (`knownInputs`), all
 * owned by the account's address at `addressIndex`; the remainder, if any, goes last to
 * `remainderAddress`. Same network and inputs commitment rules as the SDK's own.
 */
export function prepareOffline(
  request: OfflineRequest,
  creators: Record<string, string>,
  known: Record<string, OutputSpec>,
  knownNetworkId: string | undefined,
): IotaSdk.PreparedTransactionData {
  const inputsData = request.inputs.map((outputId) => {
    const outputIndex = Buffer.from(outputId.slice(-4), 'hex').readUInt16LE(0);
    const creator = Object.hasOwn(creators, outputId) ? creators[outputId] : undefined;
    if (!creator) {
      const spec = Object.hasOwn(known, outputId) ? known[outputId] : undefined;
      if (!spec || knownNetworkId === undefined)
        throw new InvalidInputError('inputs', `${outputId} is not among the unconfirmed inputs given`);
      const transactionId = outputId.slice(0, -4);
      return { networkId: knownNetworkId, transactionId, outputIndex, output: toSdkOutput(spec) };
    }
    const payload = sdk.parsePayload(JSON.parse(creator)) as IotaSdk.TransactionPayload;
    const essence = payload.essence as IotaSdk.RegularTransactionEssence;
    const transactionId = sdk.Utils.transactionId(payload);
    const output = essence.outputs[outputIndex];
    if (!output || outputId !== `${transactionId}${outputId.slice(-4)}`)
      throw new InvalidInputError('inputs', `${outputId} is not an output of the transaction given for it`);
    return { networkId: essence.networkId, transactionId, outputIndex, output };
  });
  const networkId = inputsData[0]?.networkId;
  if (!networkId) throw new InvalidInputError('inputs', 'at least one input is needed');
  const outputs = request.outputs.map(toSdkOutput);
  const spent = inputsData.reduce((sum, i) => sum + BigInt(i.output.getAmount()), 0n);
  const remainder = spent - request.outputs.reduce((sum, o) => sum + o.amount, 0n);
  if (remainder < 0n) throw sdkErrorFrom('prepareTransaction', `insufficient funds: ${-remainder} short`);
  if (remainder > 0n)
    outputs.push(toSdkOutput({ kind: 'basic', address: request.remainderAddress, amount: remainder }));
  const payload =
    request.tag !== undefined || request.data !== undefined
      ? new sdk.TaggedDataPayload(utf8ToHex(request.tag ?? ''), utf8ToHex(request.data ?? ''))
      : undefined;
  const essence = new sdk.RegularTransactionEssence(
    networkId,
    sdk.Utils.computeInputsCommitment(inputsData.map((i) => i.output)),
    inputsData.map((i) => new sdk.UTXOInput(i.transactionId, i.outputIndex)),
    outputs,
    payload,
  );
  const chain = {
    coinType: request.coinType ?? DEFAULT_COIN_TYPE,
    account: request.accountIndex ?? 0,
    change: 0,
    addressIndex: request.addressIndex ?? 0,
  };
  return {
    essence,
    inputsData: inputsData.map((i) => ({
      output: i.output,
      chain,
      outputMetadata: {
        blockId: `0x${'0'.repeat(64)}`,
        transactionId: i.transactionId,
        outputIndex: i.outputIndex,
        isSpent: false,
        milestoneIndexBooked: 0,
        milestoneTimestampBooked: 0,
        ledgerIndex: 0,
      },
    })),
  };
}
