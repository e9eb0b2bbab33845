import { type MeterDidRef, resolveMeterDid } from '@tanglewatt/channels/node';
import { isError } from '@tanglewatt/errors';
import { DidUnresolvedError } from './errors.js';

/** A DID as GET /dids/{did} answers it: every document version with its Ed25519 verification methods. */
export interface DidResolutionJson {
  did: string;
  originOutputId: string;
  aliasId: string;
  versions: {
    outputId: string;
    /** Milestone that confirmed this version. */
    fromMilestone: number;
    /** Milestone that confirmed the next one (exclusive); absent for the current version. */
    untilMilestone?: number;
    deactivated: boolean;
    /** Verification method ids with their Ed25519 public keys (hex, no 0x). */
    methods: { id: string; publicKey: string }[];
  }[];
  /** The current document as the identity library resolves it. */
  document: unknown;
}

export type DidResolver = (ref: MeterDidRef) => Promise<DidResolutionJson>;

/** Resolves a meter DID from the ledger through the node (the alias chain from its origin output). */
export function didResolver(nodeUrl: string): DidResolver {
  return async (ref) => {
    try {
      const resolved = await resolveMeterDid({ nodeUrl, ref });
      return {
        did: resolved.did,
        originOutputId: resolved.originOutputId,
        aliasId: resolved.aliasId,
        versions: resolved.versions.map((v) => ({
          outputId: v.outputId,
          fromMilestone: v.fromMilestone,
          ...(v.untilMilestone !== undefined ? { untilMilestone: v.untilMilestone } : {}),
          deactivated: v.deactivated,
          methods: v.methods,
        })),
        document: resolved.document,
      };
    } catch (error) {
      // The node being down is the node's problem (503); anything else is this DID's.
      if (isError(error, 'NODE_UNREACHABLE')) throw error;
      throw new DidUnresolvedError(`${ref.did} cannot be resolved: ${(error as Error).message}`, {
        cause: error,
      });
    }
  };
}
