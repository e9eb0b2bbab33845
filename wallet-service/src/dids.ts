import { type MeterDidRef, resolveMeterDid } from '@tanglewatt/channels/node';
import type { DidResolution } from '@tanglewatt/contract';
import { LedgerError } from '@tanglewatt/ledger';

/** Resolves a DID as GET /dids/{did} answers it: every document version with its verification methods. */
export type DidResolver = (ref: MeterDidRef) => Promise<DidResolution>;

/** The DID could not be resolved: no such alias, not a DID document, or a document of another DID. */
export class DidUnresolvedError extends Error {
  readonly code = 'DID_UNRESOLVED';
}

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
      if (error instanceof LedgerError && error.code === 'NODE_UNREACHABLE') throw error;
      throw new DidUnresolvedError(`${ref.did} cannot be resolved: ${(error as Error).message}`);
    }
  };
}
