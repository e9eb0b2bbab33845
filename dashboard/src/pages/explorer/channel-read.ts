/**
 * Reading a meter's channel for the explorer: its newest blocks, listed by the agent and fetched through the
 * wallet-service, verified in the browser with @tanglewatt/channels against whose keys the page trusts.
 */
import {
  fetchBlockEntry,
  fromHex,
  type ReadResult,
  type SignerKeys,
  type SourceEntry,
  staticSigners,
  verifyEntries,
} from '@tanglewatt/channels';
import type { RequestOptions } from '../../api/http';
import type { AgentChannelView, ChannelBlocks } from '../../api/meter';
import type { DidResolution } from '../../api/wallet';
import { didSigners } from './did-keys';

/** How many of the newest messages the view reads. */
export const CHANNEL_MESSAGES = 20;

/** Where a channel's blocks come from. */
export interface ChannelSources {
  /** The agent's GET /channel/blocks. */
  channelBlocks(limit: number, o?: RequestOptions): Promise<ChannelBlocks>;
  /** The wallet-service's GET /node/blocks/:id. */
  block(id: string, o?: RequestOptions): Promise<unknown>;
  /** The wallet-service's GET /node/blocks/:id/metadata: the milestone that referenced each message. */
  blockMetadata(id: string, o?: RequestOptions): Promise<{ referencedByMilestoneIndex?: number }>;
}

/** Whose keys the messages are checked against. */
export type Trust =
  | { kind: 'did'; resolution: DidResolution }
  | { kind: 'agent'; publicKey: string }
  | { kind: 'resolving'; did: string }
  | { kind: 'unresolved'; did: string; error: unknown };

/** Keys to check against, known: a resolved DID document or the agent's reported key. */
export type CheckedTrust = Trust & { kind: 'did' | 'agent' };

export interface Fetched {
  entries: SourceEntry[];
  /** The agent has no /channel/blocks (an older agent), or lists nothing yet. */
  note?: string;
}

export async function fetchEntries(sources: ChannelSources, signal: AbortSignal): Promise<Fetched> {
  let index: ChannelBlocks;
  try {
    index = await sources.channelBlocks(CHANNEL_MESSAGES, { signal });
  } catch (error) {
    if ((error as { status?: number }).status === 404)
      return {
        entries: [],
        note: 'This meter agent does not list its channel’s blocks (GET /channel/blocks).',
      };
    throw error;
  }
  if (index.items.length === 0)
    return { entries: [], note: 'No message of a closed period is on the Tangle yet.' };
  const api = {
    block: (id: string) => sources.block(id, { signal }) as Promise<{ payload?: { type: number } }>,
    // A DID's keys apply by the milestone that referenced a message; without one, the current document's.
    blockMetadata: (id: string) => sources.blockMetadata(id, { signal }).catch(() => ({})),
  };
  const entries = await Promise.all(
    index.items.map(async (i) => ({ ...(await fetchBlockEntry(api, i.blockId)), seq: i.seq })),
  );
  return { entries };
}

function signersOf(trust: CheckedTrust): SignerKeys {
  return trust.kind === 'did'
    ? didSigners(trust.resolution)
    : // The agent's word for the signing key: used only when the meter names no DID, and said so.
      staticSigners([fromHex(trust.publicKey, 32, 'signing key')]);
}

/** Verifies the entries as the channel's messages; a restricted channel's with the reader's key. */
export function read(
  entries: SourceEntry[],
  channel: AgentChannelView,
  trust: CheckedTrust,
  readerSecretKey?: Uint8Array,
): ReadResult {
  return verifyEntries(entries, {
    channelId: channel.channelId,
    signers: signersOf(trust),
    mode: channel.mode,
    startAnywhere: true,
    allFailures: true,
    ...(readerSecretKey ? { readerSecretKey } : {}),
  });
}
