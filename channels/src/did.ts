/**
 * Node only. Meter identities: a DID on our Stardust network (an Alias output holding the DID document,
 * through @iota/identity-wasm 1.5.1 over the SDK's Client), with the meter's Ed25519 channel key as a
 * verification method; and its resolution, with history, so readers take keys from the Tangle.
 *
 * Our network runs no indexer (see README: inx-indexer cannot be built here), and the identity library's
 * IotaIdentityClient finds an alias's latest output and a publisher's inputs through the indexer. So:
 * - getAliasOutput is overridden: it walks the alias chain from its origin output (the output that created
 *   the alias; aliasId = BLAKE2b-256(originOutputId), so the origin is checked, not trusted) through each
 *   spending transaction, with core REST calls only;
 * - publishing names its inputs explicitly (the alias output, a funding output).
 * Everything else (document building, packing, newDidOutput/updateDidOutput, resolveDid) is the library's.
 */
import { createRequire } from 'node:module';
import type * as Identity from '@iota/identity-wasm/node/index.js';
import { blake2b } from '@noble/hashes/blake2.js';
import {
  DEFAULT_COIN_TYPE,
  type MnemonicSigner,
  NodeApi,
  type OutputWithMetadata,
  outputIdOf,
  sdkForIdentity,
} from '@tanglewatt/ledger';
import { equalBytes, fromHex, toHex } from './bytes.js';
import { channelIdOf, keyIdOf } from './crypto.js';
import { ChannelError } from './errors.js';
import { type DidKeyVersion, didHistorySigners, type SignerKeys } from './signers.js';

// The package's Node entry is CommonJS and needs the same @iota/sdk-wasm instance as ledger's (hoisted).
const require = createRequire(import.meta.url);
let identityModule: typeof Identity | undefined;
/** Loaded on first use: its wasm build adds about 45 MB of RSS to a process that never touches a DID. */
function identity(): typeof Identity {
  identityModule ??= require('@iota/identity-wasm/node') as typeof Identity;
  return identityModule;
}

type Sdk = ReturnType<typeof sdkForIdentity>['sdk'];
type SdkClient = ReturnType<typeof sdkForIdentity>['client'];
type AliasOutput = Awaited<ReturnType<Identity.IotaIdentityClient['getAliasOutput']>>[1];

const ALIAS_OUTPUT = 4;

function didError(message: string, cause?: unknown): ChannelError {
  return new ChannelError('DID_ERROR', message, cause === undefined ? undefined : { cause });
}

/** The SDK rejects with JSON strings; keep their text. */
async function sdkCall<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw didError(`${what}: ${error instanceof Error ? error.message : String(error)}`, error);
  }
}

/** aliasId = BLAKE2b-256 of the id of the output that created the alias (TIP-18). */
export function aliasIdOf(originOutputId: string): string {
  return `0x${toHex(blake2b(fromHex(originOutputId, 34, 'output id'), { dkLen: 32 }))}`;
}

export function aliasIdOfDid(did: string): string {
  const match = /^did:iota:(?:[a-z0-9]{1,6}:)?(0x[0-9a-f]{64})$/.exec(did);
  if (!match) throw didError(`${did}: not an IOTA DID`);
  return match[1]!;
}

export interface AliasVersion {
  outputId: string;
  output: OutputWithMetadata['output'];
  /** Milestone that confirmed this version. */
  milestoneIndexBooked: number;
  /** Milestone that confirmed the next version (or the alias's destruction). */
  milestoneIndexSpent?: number;
}

/** Every state of an alias, oldest first, from its origin output: core REST calls only, no indexer. */
export async function aliasHistory(
  api: NodeApi,
  aliasId: string,
  originOutputId: string,
): Promise<AliasVersion[]> {
  if (aliasIdOf(originOutputId) !== aliasId.toLowerCase())
    throw didError(`output ${originOutputId} did not create alias ${aliasId}`);
  const versions: AliasVersion[] = [];
  for (let outputId: string | undefined = originOutputId; outputId !== undefined; ) {
    const { output, metadata }: OutputWithMetadata = await api.output(outputId);
    if (output.type !== ALIAS_OUTPUT) throw didError(`output ${outputId} is not an alias output`);
    versions.push({
      outputId,
      output,
      milestoneIndexBooked: metadata.milestoneIndexBooked,
      ...(metadata.milestoneIndexSpent !== undefined
        ? { milestoneIndexSpent: metadata.milestoneIndexSpent }
        : {}),
    });
    outputId = undefined;
    if (metadata.isSpent && metadata.transactionIdSpent) {
      const spender = metadata.transactionIdSpent;
      const block = await api.includedBlock(spender);
      const outputs =
        (block.payload as { essence?: { outputs?: { type: number; aliasId?: string }[] } } | undefined)
          ?.essence?.outputs ?? [];
      const next = outputs.findIndex(
        (o) => o.type === ALIAS_OUTPUT && o.aliasId?.toLowerCase() === aliasId.toLowerCase(),
      );
      if (next >= 0) outputId = outputIdOf(spender, next); // else the alias was destroyed
    }
  }
  return versions;
}

type TangleIdentityClient = Identity.IotaIdentityClient;
let tangleIdentityClientClass:
  | (new (
      client: SdkClient,
      api: NodeApi,
      origins: Map<string, string>,
    ) => TangleIdentityClient)
  | undefined;

/** The identity library's client, with the alias lookup it does through an indexer done without one. */
function newTangleIdentityClient(
  client: SdkClient,
  api: NodeApi,
  origins: Map<string, string>,
): TangleIdentityClient {
  tangleIdentityClientClass ??= class extends identity().IotaIdentityClient {
    constructor(
      client: SdkClient,
      private readonly api: NodeApi,
      private readonly origins: Map<string, string>,
    ) {
      super(client);
    }

    override async getAliasOutput(aliasId: string): Promise<[string, AliasOutput]> {
      const origin = this.origins.get(aliasId.toLowerCase());
      if (!origin)
        throw didError(`alias ${aliasId}: its origin output id is needed to find it without an indexer`);
      const latest = (await aliasHistory(this.api, aliasId, origin)).at(-1)!;
      const response = await sdkCall('getOutput', () => this.client.getOutput(latest.outputId));
      return [latest.outputId, response.output as AliasOutput];
    }
  };
  return new tangleIdentityClientClass(client, api, origins);
}

/** Where a meter's DID lives: the DID and the output that created its alias (to find it without an indexer). */
export interface MeterDidRef {
  did: string;
  originOutputId: string;
}

export interface Funding {
  /** Holds the keys of the account that pays the storage deposit and controls the DID. */
  signer: MnemonicSigner;
  accountIndex: number;
  coinType?: number;
  /** An unspent basic output of that account's first address. */
  outputId: string;
}

export interface PublishedDid extends MeterDidRef {
  aliasId: string;
  blockId: string;
  transactionId: string;
  /** The funding account's change, to fund the next transaction. */
  remainderOutputId?: string;
  milestoneIndex: number;
}

const METHOD_FRAGMENT_PREFIX = 'channel-key-';

function verificationMethod(doc: Identity.IotaDocument, publicKey: Uint8Array): Identity.VerificationMethod {
  // The library's JwkType/EdCurve are const enums (unusable under verbatimModuleSyntax): their values.
  const jwk = new (identity().Jwk)({
    kty: 'OKP' as Identity.JwkType.Okp,
    crv: 'Ed25519' as Identity.EdCurve.Ed25519,
    x: Buffer.from(publicKey).toString('base64url'),
  });
  // Fragment names the key id, so a rotated key gets a new method id.
  return identity().VerificationMethod.newFromJwk(
    doc.id(),
    jwk,
    `#${METHOD_FRAGMENT_PREFIX}${toHex(keyIdOf(publicKey))}`,
  );
}

async function withSdk<T>(nodeUrl: string, run: (sdk: Sdk, client: SdkClient) => Promise<T>): Promise<T> {
  const { sdk, client } = sdkForIdentity(nodeUrl);
  try {
    return await run(sdk, client);
  } finally {
    await client.destroy();
  }
}

/** Posts a transaction with exactly these inputs and outputs and waits until the ledger includes it. */
async function postAndInclude(
  api: NodeApi,
  sdk: Sdk,
  client: SdkClient,
  funding: Funding,
  inputs: string[],
  outputs: AliasOutput[],
): Promise<{
  blockId: string;
  transactionId: string;
  essenceOutputs: { type: number; aliasId?: string; unlockConditions?: unknown[] }[];
  milestoneIndex: number;
}> {
  const [blockId, block] = await sdkCall('buildAndPostBlock', () =>
    client.buildAndPostBlock(funding.signer.secretManagerDescriptor(), {
      coinType: funding.coinType ?? DEFAULT_COIN_TYPE,
      accountIndex: funding.accountIndex,
      inputs: inputs.map((id) => sdk.UTXOInput.fromOutputId(id)),
      outputs,
    }),
  );
  const payload = block.payload;
  if (!(payload instanceof sdk.TransactionPayload)) throw didError('the posted block carries no transaction');
  const transactionId = sdk.Utils.transactionId(payload);
  await api.waitForReferenced(blockId, 60_000);
  const included = await api.includedBlockMetadata(transactionId);
  if (included.ledgerInclusionState !== 'included' || included.referencedByMilestoneIndex === undefined)
    throw didError(`transaction ${transactionId} was not included (${included.ledgerInclusionState})`);
  const json = JSON.parse(JSON.stringify(payload)) as { essence: { outputs: { type: number }[] } };
  return {
    blockId,
    transactionId,
    essenceOutputs: json.essence.outputs,
    milestoneIndex: included.referencedByMilestoneIndex,
  };
}

/** Creates the meter's DID: a new Alias output, controlled by the funding address, listing `publicKey`. */
export async function publishMeterDid(options: {
  nodeUrl: string;
  funding: Funding;
  /** The meter's Ed25519 channel public key. */
  publicKey: Uint8Array;
}): Promise<PublishedDid> {
  const api = new NodeApi(options.nodeUrl);
  return withSdk(options.nodeUrl, async (sdk, client) => {
    const identityClient = newTangleIdentityClient(client, api, new Map());
    const hrp = await sdkCall('getNetworkHrp', () => identityClient.getNetworkHrp());
    const doc = new (identity().IotaDocument)(hrp);
    doc.insertMethod(verificationMethod(doc, options.publicKey), identity().MethodScope.VerificationMethod());
    const funding = await api.output(options.funding.outputId);
    const owner = (
      funding.output as { unlockConditions?: { type: number; address?: { pubKeyHash?: string } }[] }
    ).unlockConditions?.find((c) => c.type === 0)?.address?.pubKeyHash;
    if (!owner)
      throw didError(`funding output ${options.funding.outputId} is not owned by an Ed25519 address`);
    const aliasOutput = await sdkCall('newDidOutput', () =>
      identityClient.newDidOutput(new sdk.Ed25519Address(owner), doc),
    );
    const posted = await postAndInclude(
      api,
      sdk,
      client,
      options.funding,
      [options.funding.outputId],
      [aliasOutput],
    );
    const aliasIndex = posted.essenceOutputs.findIndex((o) => o.type === ALIAS_OUTPUT);
    const remainderIndex = posted.essenceOutputs.findIndex((o) => o.type !== ALIAS_OUTPUT);
    const originOutputId = outputIdOf(posted.transactionId, aliasIndex);
    const aliasId = aliasIdOf(originOutputId);
    return {
      did: identity().IotaDID.fromAliasId(aliasId, hrp).toString(),
      originOutputId,
      aliasId,
      blockId: posted.blockId,
      transactionId: posted.transactionId,
      milestoneIndex: posted.milestoneIndex,
      ...(remainderIndex >= 0 ? { remainderOutputId: outputIdOf(posted.transactionId, remainderIndex) } : {}),
    };
  });
}

/**
 * Replaces the channel key in the DID document: the new key becomes the only channel-key method, the old
 * ones are removed, and the updated document is published (a state transition of the alias). Messages
 * confirmed from the milestone that includes it on verify with the new key only.
 */
export async function rotateMeterDidKey(options: {
  nodeUrl: string;
  funding: Funding;
  ref: MeterDidRef;
  newPublicKey: Uint8Array;
}): Promise<{ outputId: string; blockId: string; transactionId: string; milestoneIndex: number }> {
  const api = new NodeApi(options.nodeUrl);
  const aliasId = aliasIdOfDid(options.ref.did);
  return withSdk(options.nodeUrl, async (sdk, client) => {
    const identityClient = newTangleIdentityClient(
      client,
      api,
      new Map([[aliasId, options.ref.originOutputId]]),
    );
    const did = identity().IotaDID.parse(options.ref.did);
    const doc = await sdkCall('resolveDid', () => identityClient.resolveDid(did));
    for (const method of doc.methods()) {
      if (method.id().fragment()?.startsWith(METHOD_FRAGMENT_PREFIX)) doc.removeMethod(method.id());
    }
    doc.insertMethod(
      verificationMethod(doc, options.newPublicKey),
      identity().MethodScope.VerificationMethod(),
    );
    const [currentOutputId] = await identityClient.getAliasOutput(aliasId);
    const params = await sdkCall('updateDidOutput', () =>
      identity().IotaIdentityClientExt.updateDidOutput(identityClient, doc),
    );
    const rent = (await api.info()).protocol.rentStructure;
    const unfunded = await sdkCall('buildAliasOutput', () => client.buildAliasOutput(params));
    const needed = sdk.Utils.computeStorageDeposit(unfunded, rent);
    const inputs = [currentOutputId];
    let output = unfunded;
    if (needed > BigInt(unfunded.getAmount())) {
      // A bigger document needs a bigger deposit: take it from the funding output, change goes back.
      inputs.push(options.funding.outputId);
      output = await sdkCall('buildAliasOutput', () =>
        client.buildAliasOutput({ ...params, amount: needed.toString() }),
      );
    }
    const posted = await postAndInclude(api, sdk, client, options.funding, inputs, [output]);
    const index = posted.essenceOutputs.findIndex(
      (o) => o.type === ALIAS_OUTPUT && o.aliasId?.toLowerCase() === aliasId,
    );
    return {
      outputId: outputIdOf(posted.transactionId, index),
      blockId: posted.blockId,
      transactionId: posted.transactionId,
      milestoneIndex: posted.milestoneIndex,
    };
  });
}

export interface DidDocumentVersion extends DidKeyVersion {
  outputId: string;
  /** Verification method ids with their Ed25519 keys (hex). */
  methods: { id: string; publicKey: string }[];
  deactivated: boolean;
}

export interface ResolvedMeterDid extends MeterDidRef {
  aliasId: string;
  /** The current document as JSON, as the identity library resolves it. */
  document: unknown;
  /** Every version, oldest first, with the milestones it was in force between. */
  versions: DidDocumentVersion[];
  /** Keys to verify the channel with: each message by the version in force when it was confirmed. */
  signers: SignerKeys;
}

interface DocumentJson {
  id?: string;
  verificationMethod?: { id: string; publicKeyJwk?: { kty?: string; crv?: string; x?: string } }[];
}

function ed25519Methods(doc: DocumentJson): { id: string; publicKey: string }[] {
  return (doc.verificationMethod ?? [])
    .filter((m) => m.publicKeyJwk?.kty === 'OKP' && m.publicKeyJwk.crv === 'Ed25519' && m.publicKeyJwk.x)
    .map((m) => ({ id: m.id, publicKey: toHex(Buffer.from(m.publicKeyJwk!.x!, 'base64url')) }))
    .filter((m) => m.publicKey.length === 64);
}

/**
 * Resolves the meter's DID from the Tangle: the current document through the identity library, and every
 * earlier version from the alias's history, each unpacked by the library and checked to name the same DID.
 */
export async function resolveMeterDid(options: {
  nodeUrl: string;
  ref: MeterDidRef;
}): Promise<ResolvedMeterDid> {
  const api = new NodeApi(options.nodeUrl);
  const aliasId = aliasIdOfDid(options.ref.did);
  const did = identity().IotaDID.parse(options.ref.did);
  const history = await aliasHistory(api, aliasId, options.ref.originOutputId);
  const versions: DidDocumentVersion[] = history.map((v) => {
    let doc: Identity.IotaDocument;
    try {
      doc = identity().IotaDocument.unpackFromOutput(did, v.output as never, true);
    } catch (error) {
      throw didError(`output ${v.outputId}: no DID document in it (${String(error)})`, error);
    }
    const json = doc.toJSON() as { doc?: DocumentJson; meta?: { deactivated?: boolean } };
    const document = json.doc ?? (json as DocumentJson);
    if (document.id !== options.ref.did)
      throw didError(`output ${v.outputId} holds the document of ${document.id}`);
    const methods = ed25519Methods(document);
    return {
      outputId: v.outputId,
      fromMilestone: v.milestoneIndexBooked,
      ...(v.milestoneIndexSpent !== undefined ? { untilMilestone: v.milestoneIndexSpent } : {}),
      methods,
      publicKeys: methods.map((m) => fromHex(m.publicKey, 32)),
      deactivated: doc.metadataDeactivated() === true,
    };
  });
  // The current version once more, the library's way (IotaIdentityClientExt.resolveDid via getAliasOutput).
  const current = await withSdk(options.nodeUrl, (_sdk, client) =>
    sdkCall('resolveDid', () =>
      newTangleIdentityClient(client, api, new Map([[aliasId, options.ref.originOutputId]])).resolveDid(did),
    ),
  );
  const currentJson = current.toJSON() as { doc?: DocumentJson };
  const last = versions.at(-1)!;
  const currentKeys = ed25519Methods(currentJson.doc ?? (currentJson as DocumentJson)).map(
    (m) => m.publicKey,
  );
  if (currentKeys.join() !== last.methods.map((m) => m.publicKey).join())
    throw didError('the resolved document differs from the last version of the alias history');
  // A deactivated document signs nothing from then on.
  const inForce = versions.map((v) => (v.deactivated ? { ...v, publicKeys: [] } : v));
  return {
    ...options.ref,
    aliasId,
    document: current.toJSON(),
    versions,
    signers: didHistorySigners(inForce),
  };
}

/** The channel id must be SHA-256 of a key the DID listed in its first version: the channel is this meter's. */
export function assertChannelOfDid(channelId: string, resolved: ResolvedMeterDid): void {
  const id = fromHex(channelId, 32, 'channel id');
  const first = resolved.versions[0];
  if (!first?.publicKeys.some((k) => equalBytes(channelIdOf(k), id)))
    throw new ChannelError(
      'DID_NOT_BOUND',
      `channel ${channelId} is not derived from a key in the first document of ${resolved.did}`,
    );
}
