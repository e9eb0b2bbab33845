/**
 * Node only: a meter DID named by a payment (or given by hand) resolved through the node into the keys its
 * document history lists. The channels CLI and bills share this one resolver.
 */
import { isError } from '@tanglewatt/errors';
import { assertChannelOfDid, resolveMeterDid } from './did.js';
import type { SignerResolution } from './verify-payment.js';

/** Resolves the DID a payment (or the command line) names, through the node, into the keys it lists. */
export function didResolver(nodeUrl: string | undefined) {
  return async (did: string, originOutputId: string, channelId: string): Promise<SignerResolution> => {
    if (!nodeUrl) return { error: `${did}: resolving a DID needs --node` };
    try {
      const resolved = await resolveMeterDid({ nodeUrl, ref: { did, originOutputId } });
      assertChannelOfDid(channelId, resolved);
      return { signers: resolved.signers, source: `${did} (${resolved.versions.length} document versions)` };
    } catch (error) {
      if (isError(error, 'DID_ERROR') || isError(error, 'DID_NOT_BOUND'))
        return { error: `${did}: ${(error as Error).message}` };
      throw error;
    }
  };
}
