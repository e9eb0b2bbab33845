/**
 * The one module that touches @iota/sdk-wasm. Everything else in the project goes through these
 * functions, so SDK quirks (CommonJS-only entry, JSON-string rejections) stay here.
 */
import { createRequire } from 'node:module';
import type * as IotaSdk from '@iota/sdk-wasm/node/lib/index.js';
import { InvalidInputError, sdkErrorFrom } from './errors.js';
import { type BlockJson, NodeApi, type RentStructure } from './node-api.js';
import { prepareOffline } from './sdk-offline.js';
import { bech32ToHex, DEFAULT_COIN_TYPE, type OutputSpec, toSdkOutput, utf8ToHex } from './sdk-outputs.js';

export {
  bech32ToHex,
  DEFAULT_COIN_TYPE,
  hexToUtf8,
  type OutputSpec,
  toSdkOutput,
  utf8ToHex,
} from './sdk-outputs.js';

// The ESM import of '@iota/sdk-wasm/node' fails (directory import); the CommonJS entry works.
const require = createRequire(import.meta.url);
const sdk = require('@iota/sdk-wasm/node') as typeof IotaSdk;

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
  /** The address (of the account's public ones) that owns the inputs built offline; default 0. */
  addressIndex?: number;
  inputs: string[];
  outputs: OutputSpec[];
  remainderAddress: string;
  tag?: string;
  data?: string;
  /**
   * Inputs created by a transaction that is signed but not confirmed yet: output id → that transaction's
   * signed payload (as `SignedTransaction.payloadJson`). The node cannot serve such an input, so the
   * transaction is built here from the given outputs instead of by the SDK from the node's ledger; then
   * every input must be listed here or in `knownInputs`, the remainder is the last output, and the SDK
   * still signs and checks it.
   */
  unconfirmedInputs?: Record<string, string>;
  /**
   * Confirmed inputs the caller knows in full (a transaction of its own created them): output id → the
   * output exactly as it was specified. When every input is here (or in `unconfirmedInputs`) the
   * transaction is built here too, without asking the node for each input. The caller vouches that each is
   * unspent (its own ledger view says so); should one not be, the transaction conflicts on the ledger like
   * any other that lost an input.
   */
  knownInputs?: Record<string, OutputSpec>;
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
  readonly #api: NodeApi;
  #networkId: Promise<string> | undefined;

  constructor(readonly nodeUrl: string) {
    // minPowScore is 0 on our network, so no local PoW; the node picks tips for us. HORNET reports a
    // node without gossip peers as unhealthy even when synced, which a one-node tangle always is.
    this.#client = new sdk.Client({ nodes: [nodeUrl], localPow: false, ignoreNodeHealth: true });
    this.#api = new NodeApi(nodeUrl);
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
    const known = request.knownInputs ?? {};
    const unconfirmed = request.unconfirmedInputs ?? {};
    // Without the node when the inputs are ours: unconfirmed ones it knows nothing of yet, and confirmed
    // ones we made need no round trip each.
    const offline =
      request.unconfirmedInputs !== undefined ||
      (request.inputs.length > 0 &&
        request.inputs.every((id) => Object.hasOwn(known, id) || Object.hasOwn(unconfirmed, id)));
    const networkId =
      offline && request.inputs.some((id) => Object.hasOwn(known, id) && !Object.hasOwn(unconfirmed, id))
        ? await this.networkId()
        : undefined;
    const payload = offline
      ? await request.signer.signPrepared(prepareOffline(request, unconfirmed, known, networkId))
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

  /** The network's id (as in every essence), asked of the node once. */
  private networkId(): Promise<string> {
    this.#networkId ??= call('getNetworkId', () => this.#client.getNetworkId()).catch((error: unknown) => {
      this.#networkId = undefined;
      throw error;
    });
    return this.#networkId;
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
    const payload = JSON.parse(payloadJson) as BlockJson['payload'];
    // The block is built here rather than by postBlockPayload: two requests (tips, post), not more.
    // A transaction spending an output of a transaction not confirmed yet must approve that transaction's
    // block: white flag applies a milestone's cone in post-order (parents first), so the output is then
    // created before it is spent (HORNET pkg/whiteflag/white_flag.go, ComputeWhiteFlagMutations: an input
    // is looked up among the outputs created earlier in the same confirmation, then in the ledger; TIP-2).
    // minPoWScore is 0 on our network, so the block needs no nonce; the node's tips fill the other parents.
    // Both go over NodeApi's kept-alive connections; the payload is posted as journaled (JSON).
    const tips = await this.#api.tips();
    const parents = [...new Set([...(options.approve ?? []), ...tips])].slice(0, MAX_PARENTS).sort();
    return this.#api.postBlock({ protocolVersion: 2, parents, ...(payload ? { payload } : {}), nonce: '0' });
  }

  /** Posts an empty block that approves `blockId` and fresh tips, so a lazy block gets referenced. */
  async promote(blockId: string): Promise<string> {
    const [promoted] = await call('promote', () => this.#client.promoteUnchecked(blockId));
    return promoted;
  }

  /** Posts a block that carries only tagged data (no value). */
  async postTaggedData(tag: string, data: Uint8Array | string): Promise<string> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    // As JSON over NodeApi (TIP-25's tagged data payload, type 5): no SDK round trip through WASM.
    const tips = await this.#api.tips();
    return this.#api.postBlock({
      protocolVersion: 2,
      parents: tips.slice(0, MAX_PARENTS).sort(),
      payload: { type: 5, tag: utf8ToHex(tag), data: `0x${bytes.toString('hex')}` },
      nonce: '0',
    });
  }

  destroy(): Promise<void> {
    return call('destroy', () => this.#client.destroy());
  }
}
