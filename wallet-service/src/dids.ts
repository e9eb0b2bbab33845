import { type MeterDidRef, resolveMeterDid } from '@tanglewatt/channels/node';
import type { DidResolution } from '@tanglewatt/contract';
import { isError } from '@tanglewatt/errors';
import { DidUnresolvedError } from './errors.js';

/** Resolves a DID as GET /dids/{did} answers it: every document version with its verification methods. */
export type DidResolver = (ref: MeterDidRef) => Promise<DidResolution>;

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
