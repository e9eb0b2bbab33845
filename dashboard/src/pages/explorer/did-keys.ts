/**
 * A meter DID's document history (GET /dids/{did} on the wallet-service) as the channel reader's signer
 * keys, and which verification method a verified message was signed with.
 */
import {
  channelIdHex,
  didHistorySigners,
  fromHex,
  keyIdOf,
  type SignerKeys,
  toHex,
} from '@tanglewatt/channels';
import type { DidResolution } from '../../api/wallet';

/** Each message verifies with the keys of the document version in force when a milestone referenced it. */
export function didSigners(resolution: DidResolution): SignerKeys {
  return didHistorySigners(
    resolution.versions.map((v) => ({
      fromMilestone: v.fromMilestone,
      ...(v.untilMilestone !== undefined ? { untilMilestone: v.untilMilestone } : {}),
      // A deactivated document signs nothing from then on.
      publicKeys: v.deactivated ? [] : v.methods.map((m) => fromHex(m.publicKey, 32, 'DID key')),
    })),
  );
}

export interface DidSigner {
  methodId: string;
  publicKey: string;
  /** The document version (milestone it was confirmed in) that listed the key. */
  fromMilestone: number;
}

/**
 * The method that signed a message with key id `keyIdHex`: from the version in force at the milestone
 * that referenced it, or the current one for a block not referenced yet (as the reader chose).
 */
export function didSignerOf(
  resolution: DidResolution,
  keyIdHex: string,
  milestoneIndex?: number,
): DidSigner | undefined {
  const version =
    milestoneIndex === undefined
      ? resolution.versions.at(-1)
      : resolution.versions.find(
          (v) =>
            v.fromMilestone <= milestoneIndex &&
            (v.untilMilestone === undefined || milestoneIndex < v.untilMilestone),
        );
  const method = version?.methods.find((m) => toHex(keyIdOf(fromHex(m.publicKey, 32))) === keyIdHex);
  return method && version
    ? { methodId: method.id, publicKey: method.publicKey, fromMilestone: version.fromMilestone }
    : undefined;
}

/** The method of the DID's first document whose key the channel id is the hash of: the channel is the DID's. */
export function channelMethodOf(resolution: DidResolution, channelId: string): string | undefined {
  return resolution.versions[0]?.methods.find((m) => channelIdHex(fromHex(m.publicKey, 32)) === channelId)
    ?.id;
}
