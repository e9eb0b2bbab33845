/**
 * The one module that touches @iota/sdk-wasm. Everything else in the project goes through these
 * functions, so SDK quirks (CommonJS-only entry, JSON-string rejections) stay here.
 */
import { createRequire } from 'node:module';
import type * as IotaSdk from '@iota/sdk-wasm/node/lib/index.js';
import { InvalidInputError, sdkErrorFrom } from './errors.js';
import type { RentStructure } from './node-api.js';

// The ESM import of '@iota/sdk-wasm/node' fails (directory import); the CommonJS entry works.
const require = createRequire(import.meta.url);
const sdk = require('@iota/sdk-wasm/node') as typeof IotaSdk;

/** SLIP-44 coin type used for key derivation (Shimmer's, as Stardust networks use). */
export const DEFAULT_COIN_TYPE = 4219;

async function call<T>(operation: string, run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (rejection) {
    throw sdkErrorFrom(operation, rejection);
  }
}

export function generateMnemonic(): string {
  return sdk.Utils.generateMnemonic();
}

export function assertValidMnemonic(mnemonic: string): void {
  try {
    sdk.Utils.verifyMnemonic(mnemonic);
  } catch {
    throw new InvalidInputError('mnemonic', 'must be a valid 24-word BIP-39 English mnemonic');
  }
}

export interface AddressRange {
  coinType?: number;
  accountIndex?: number;
  start?: number;
  count: number;
  bech32Hrp: string;
  /** Internal (change) addresses instead of public ones. */
  internal?: boolean;
}

/** A key holder: derives addresses and signs. Holds the mnemonic in memory only. */
export class MnemonicSigner {
  /** @internal the SDK's secret manager descriptor; never serialised by this module. */
  readonly #secret: { mnemonic: string };
  readonly #manager: IotaSdk.SecretManager;

  constructor(mnemonic: string) {
    assertValidMnemonic(mnemonic);
    this.#secret = { mnemonic };
    this.#manager = new sdk.SecretManager(this.#secret);
  }

  addresses(range: AddressRange): Promise<string[]> {
    const start = range.start ?? 0;
    return call('generateEd25519Addresses', () =>
      this.#manager.generateEd25519Addresses({
        coinType: range.coinType ?? DEFAULT_COIN_TYPE,
        accountIndex: range.accountIndex ?? 0,
        range: { start, end: start + range.count },
        bech32Hrp: range.bech32Hrp,
        options: { internal: range.internal ?? false },
      }),
    );
  }

  /**
   * Signs arbitrary bytes with the Ed25519 key of one address, e.g. to speak for that address on the
   * market. Returns the public key (whose BLAKE2b-256 hash is the address) and the signature, as 0x hex.
   */
  async signEd25519(
    bytes: Uint8Array,
    chain: { coinType?: number; accountIndex?: number; addressIndex?: number },
  ): Promise<{ publicKey: string; signature: string }> {
    const signed = await call('signEd25519', () =>
      this.#manager.signEd25519(`0x${Buffer.from(bytes).toString('hex')}`, {
        coinType: chain.coinType ?? DEFAULT_COIN_TYPE,
        account: chain.accountIndex ?? 0,
        change: 0,
        addressIndex: chain.addressIndex ?? 0,
      }),
    );
    return { publicKey: signed.publicKey, signature: signed.signature };
  }

  /** @internal for LedgerClient only: signs a transaction prepared without the node. */
  signPrepared(prepared: IotaSdk.PreparedTransactionData): Promise<IotaSdk.TransactionPayload> {
    return call('signTransaction', () => this.#manager.signTransaction(prepared));
  }

  /** @internal for LedgerClient only. */
  secretManagerDescriptor(): { mnemonic: string } {
    return this.#secret;
  }

  toJSON(): string {
    return '[MnemonicSigner]';
  }
}

/** True for a well-formed bech32 Ed25519 address, with the given HRP when one is named. */
export function isBech32Address(address: string, bech32Hrp?: string): boolean {
  try {
    if (!sdk.Utils.isAddressValid(address)) return false;
    if (sdk.Utils.parseBech32Address(address).type !== sdk.AddressType.Ed25519) return false;
    return bech32Hrp === undefined || address.startsWith(`${bech32Hrp}1`);
  } catch {
    return false;
  }
}

export function bech32ToHex(address: string): string {
  try {
    return sdk.Utils.bech32ToHex(address);
  } catch {
    throw new InvalidInputError('address', 'must be a bech32 Ed25519 address');
  }
}

export function hexToBech32(hex: string, bech32Hrp: string): string {
  return sdk.Utils.hexToBech32(hex, bech32Hrp);
}

/** Minimum storage deposit of a basic output owned by `address` and holding nothing else. */
export function basicOutputDeposit(address: string, rent: RentStructure): bigint {
  const output = new sdk.BasicOutput(BigInt(1), [
    new sdk.AddressUnlockCondition(new sdk.Ed25519Address(bech32ToHex(address))),
  ]);
  return sdk.Utils.computeStorageDeposit(output, rent);
}

/** Minimum storage deposit of a micro-payment output: address + storage-deposit-return + expiration. */
export function microOutputDeposit(payee: string, payer: string, rent: RentStructure): bigint {
  const output = new sdk.BasicOutput(BigInt(1), [
    new sdk.AddressUnlockCondition(new sdk.Ed25519Address(bech32ToHex(payee))),
    new sdk.StorageDepositReturnUnlockCondition(new sdk.Ed25519Address(bech32ToHex(payer)), '1'),
    new sdk.ExpirationUnlockCondition(new sdk.Ed25519Address(bech32ToHex(payer)), 1),
  ]);
  return sdk.Utils.computeStorageDeposit(output, rent);
}

export function utf8ToHex(text: string): string {
  return `0x${Buffer.from(text, 'utf8').toString('hex')}`;
}

export function hexToUtf8(hex: string): string {
  return Buffer.from(hex.replace(/^0x/, ''), 'hex').toString('utf8');
}

/** An output this project creates: a plain payment, or a micro-payment that returns its deposit to the payer. */
export type OutputSpec =
  | { kind: 'basic'; address: string; amount: bigint }
  | {
      kind: 'micro';
      address: string;
      /** Deposit + the paid amount. */
      amount: bigint;
      returnAddress: string;
      /** Goes back to `returnAddress` when the payee claims. */
      returnAmount: bigint;
      /** Unix seconds after which the whole output belongs to `returnAddress`. */
      expiresAt: number;
    };

function toSdkOutput(spec: OutputSpec): IotaSdk.BasicOutput {
  const owner = new sdk.AddressUnlockCondition(new sdk.Ed25519Address(bech32ToHex(spec.address)));
  if (spec.kind === 'basic') return new sdk.BasicOutput(spec.amount, [owner]);
  const payer = new sdk.Ed25519Address(bech32ToHex(spec.returnAddress));
  return new sdk.BasicOutput(spec.amount, [
    owner,
    new sdk.StorageDepositReturnUnlockCondition(payer, spec.returnAmount),
    new sdk.ExpirationUnlockCondition(payer, spec.expiresAt),
  ]);
}

/** Minimum storage deposit of an output as specified. */
export function outputDeposit(spec: OutputSpec, rent: RentStructure): bigint {
  return sdk.Utils.computeStorageDeposit(toSdkOutput(spec), rent);
}

export interface SignedTransaction {
  transactionId: string;
  /** The signed transaction payload as JSON: stored before posting, so the very same transaction can be re-posted. */
  payloadJson: string;
  /** Amount of each essence output, in order (our outputs first, then the SDK's remainder, if any). */
  outputAmounts: bigint[];
  /** Serialized size of a block carrying it (see blockBytesOf), to hold against MAX_BLOCK_BYTES. */
  blockBytes: number;
}

export interface BuildTransactionRequest {
  signer: MnemonicSigner;
  coinType?: number;
  accountIndex?: number;
  inputs: string[];
  outputs: OutputSpec[];
  remainderAddress: string;
  tag?: string;
  data?: string;
  /**
   * Inputs created by a transaction that is signed but not confirmed yet: output id → that transaction's
   * signed payload (as `SignedTransaction.payloadJson`). The node cannot serve such an input, so the
   * transaction is built here from the given outputs instead of by the SDK from the node's ledger; then
   * every input must be listed, the remainder is the last output, and the SDK still signs and checks it.
   */
  unconfirmedInputs?: Record<string, string>;
}

export interface TransferRequest {
  /** Whose keys sign; inputs must belong to its addresses. */
  signer: MnemonicSigner;
  coinType?: number;
  accountIndex?: number;
  /** Explicit inputs (output ids); the SDK then needs no indexer. */
  inputs: string[];
  to: string;
  amount: bigint;
  /** Where the change goes; defaults to the first input's address. */
  remainderAddress?: string;
  /** Tagged-data payload carried in the same block. */
  tag?: string;
  data?: string;
}

export interface PostedTransfer {
  blockId: string;
  transactionId: string;
}

/**
 * For @tanglewatt/channels' meter DIDs only: @iota/identity-wasm's IotaIdentityClient works on the SDK's own
 * objects (Client, Address, AliasOutput, UTXOInput), so it needs this very module instance and a Client of
 * it. Everything else goes through LedgerClient and NodeApi.
 */
export function sdkForIdentity(nodeUrl: string): { sdk: typeof IotaSdk; client: IotaSdk.Client } {
  return { sdk, client: new sdk.Client({ nodes: [nodeUrl], localPow: false, ignoreNodeHealth: true }) };
}

/** The id of a signed transaction payload (as `SignedTransaction.payloadJson`). */
export function transactionIdOf(payloadJson: string): string {
  return sdk.Utils.transactionId(sdk.parsePayload(JSON.parse(payloadJson)) as IotaSdk.TransactionPayload);
}

/** Most parents a Stardust block may have (protocol constant). */
const MAX_PARENTS = 8;

/** Stardust's largest block, in serialized bytes (protocol constant). */
export const MAX_BLOCK_BYTES = 32_768;

/**
 * Size of the block that carries a signed payload (as `SignedTransaction.payloadJson`), counted with the
 * most parents a block may have (8), so the node's own choice of parents can never push it over.
 */
export function blockBytesOf(payloadJson: string): number {
  return blockBytesOfPayload(sdk.parsePayload(JSON.parse(payloadJson)));
}

function blockBytesOfPayload(payload: IotaSdk.Payload): number {
  const parents = Array.from({ length: MAX_PARENTS }, (_, i) => `0x${String(i).repeat(64)}`);
  const block = Object.assign(new sdk.Block(), { protocolVersion: 2, parents, payload, nonce: '0' });
  return sdk.Utils.blockBytes(block).length;
}

/** Builds, signs and posts blocks through one node. Reads go through NodeApi. */
export class LedgerClient {
  readonly #client: IotaSdk.Client;

  constructor(readonly nodeUrl: string) {
    // minPowScore is 0 on our network, so no local PoW; the node picks tips for us. HORNET reports a
    // node without gossip peers as unhealthy even when synced, which a one-node tangle always is.
    this.#client = new sdk.Client({ nodes: [nodeUrl], localPow: false, ignoreNodeHealth: true });
  }

  async transfer(request: TransferRequest): Promise<PostedTransfer> {
    if (request.amount <= 0n)
      throw new InvalidInputError('amount', 'must be a positive whole number of base units');
    const [blockId, block] = await call('buildAndPostBlock', () =>
      this.#client.buildAndPostBlock(request.signer.secretManagerDescriptor(), {
        coinType: request.coinType ?? DEFAULT_COIN_TYPE,
        accountIndex: request.accountIndex ?? 0,
        inputs: request.inputs.map((id) => sdk.UTXOInput.fromOutputId(id)),
        output: { address: request.to, amount: request.amount },
        ...(request.remainderAddress ? { customRemainderAddress: request.remainderAddress } : {}),
        ...(request.tag !== undefined ? { tag: utf8ToHex(request.tag) } : {}),
        ...(request.data !== undefined ? { data: utf8ToHex(request.data) } : {}),
      }),
    );
    const payload = block.payload;
    if (!(payload instanceof sdk.TransactionPayload)) {
      throw sdkErrorFrom('buildAndPostBlock', 'the posted block carries no transaction');
    }
    return { blockId, transactionId: sdk.Utils.transactionId(payload) };
  }

  /** Builds and signs a transaction with exactly the given inputs and outputs; posts nothing. */
  async signTransaction(request: BuildTransactionRequest): Promise<SignedTransaction> {
    const secret = request.signer.secretManagerDescriptor();
    // Without the node when the inputs are ours and unconfirmed: the node knows nothing of them yet.
    const payload = request.unconfirmedInputs
      ? await request.signer.signPrepared(prepareOffline(request, request.unconfirmedInputs))
      : await call('signTransaction', async () =>
          this.#client.signTransaction(secret, await this.prepare(request)),
        );
    const essence = payload.essence as IotaSdk.RegularTransactionEssence;
    const outputAmounts = essence.outputs.map((o) => BigInt(o.getAmount()));
    // The SDK keeps our outputs in order and appends the remainder; check rather than trust.
    request.outputs.forEach((spec, i) => {
      if (outputAmounts[i] !== spec.amount) {
        throw sdkErrorFrom(
          'signTransaction',
          `output ${i} holds ${outputAmounts[i]} instead of ${spec.amount}`,
        );
      }
    });
    return {
      transactionId: sdk.Utils.transactionId(payload),
      payloadJson: JSON.stringify(payload),
      outputAmounts,
      blockBytes: blockBytesOfPayload(payload),
    };
  }

  /** The SDK's own preparation: it reads each input from the node's ledger. */
  private prepare(request: BuildTransactionRequest): Promise<IotaSdk.PreparedTransactionData> {
    const secret = request.signer.secretManagerDescriptor();
    return call('prepareTransaction', () =>
      this.#client.prepareTransaction(secret, {
        coinType: request.coinType ?? DEFAULT_COIN_TYPE,
        accountIndex: request.accountIndex ?? 0,
        inputs: request.inputs.map((id) => sdk.UTXOInput.fromOutputId(id)),
        outputs: request.outputs.map(toSdkOutput),
        customRemainderAddress: request.remainderAddress,
        ...(request.tag !== undefined ? { tag: utf8ToHex(request.tag) } : {}),
        ...(request.data !== undefined ? { data: utf8ToHex(request.data) } : {}),
      }),
    );
  }

  /**
   * Posts a signed transaction in a new block. Posting the same transaction again is safe: the ledger
   * includes a transaction once, and any further block carrying it is marked conflicting.
   */
  async postTransaction(payloadJson: string, options: { approve?: string[] } = {}): Promise<string> {
    const payload = sdk.parsePayload(JSON.parse(payloadJson));
    // The block is built here rather than by postBlockPayload: two requests (tips, post), not more.
    // A transaction spending an output of a transaction not confirmed yet must approve that transaction's
    // block: white flag applies a milestone's cone in post-order (parents first), so the output is then
    // created before it is spent (HORNET pkg/whiteflag/white_flag.go, ComputeWhiteFlagMutations: an input
    // is looked up among the outputs created earlier in the same confirmation, then in the ledger; TIP-2).
    // minPoWScore is 0 on our network, so the block needs no nonce; the node's tips fill the other parents.
    const tips = await call('getTips', () => this.#client.getTips());
    const parents = [...new Set([...(options.approve ?? []), ...tips])].slice(0, MAX_PARENTS).sort();
    const block = Object.assign(new sdk.Block(), { protocolVersion: 2, parents, payload, nonce: '0' });
    return call('postBlock', () => this.#client.postBlock(block));
  }

  /** Posts an empty block that approves `blockId` and fresh tips, so a lazy block gets referenced. */
  async promote(blockId: string): Promise<string> {
    const [promoted] = await call('promote', () => this.#client.promoteUnchecked(blockId));
    return promoted;
  }

  /** Posts a block that carries only tagged data (no value). */
  async postTaggedData(tag: string, data: Uint8Array | string): Promise<string> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    const [blockId] = await call('postBlockPayload', () =>
      this.#client.postBlockPayload(new sdk.TaggedDataPayload(utf8ToHex(tag), `0x${bytes.toString('hex')}`)),
    );
    return blockId;
  }

  destroy(): Promise<void> {
    return call('destroy', () => this.#client.destroy());
  }
}

/**
 * A transaction prepared without the node: its inputs are outputs of signed transactions we hold (see
 * BuildTransactionRequest.unconfirmedInputs), all owned by the account's first address; the remainder, if
 * any, goes last to `remainderAddress`. Same network and inputs commitment rules as the SDK's own.
 */
function prepareOffline(
  request: BuildTransactionRequest,
  creators: Record<string, string>,
): IotaSdk.PreparedTransactionData {
  const inputsData = request.inputs.map((outputId) => {
    const creator = creators[outputId];
    if (!creator)
      throw new InvalidInputError('inputs', `${outputId} is not among the unconfirmed inputs given`);
    const payload = sdk.parsePayload(JSON.parse(creator)) as IotaSdk.TransactionPayload;
    const essence = payload.essence as IotaSdk.RegularTransactionEssence;
    const transactionId = sdk.Utils.transactionId(payload);
    const outputIndex = Buffer.from(outputId.slice(-4), 'hex').readUInt16LE(0);
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
    addressIndex: 0,
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
