/** Node only: rotating a meter's channel key in its DID and in its writer, in the order readers need. */
import { NodeApi } from '@tanglewatt/ledger';
import { ed25519PublicKey } from './crypto.js';
import { type Funding, type MeterDidRef, rotateMeterDidKey } from './did.js';
import type { ChannelWriter } from './writer.js';

/**
 * 1. seal and post what is pending, and wait until a milestone references the old key's latest messages;
 * 2. publish the DID document with the new key in place of the old one, and wait for its inclusion;
 * 3. sign every later message with the new key.
 * Readers judge each message by the document in force at the milestone that referenced it, so every
 * message lands on the right side of the change.
 */
export async function rotateMeterKey(options: {
  nodeUrl: string;
  writer: ChannelWriter;
  newSecretKey: Uint8Array;
  funding: Funding;
  ref: MeterDidRef;
  /** How many of the latest messages to wait for (older ones are referenced long since). Default 20. */
  recentMessages?: number;
}): Promise<Awaited<ReturnType<typeof rotateMeterDidKey>>> {
  const api = new NodeApi(options.nodeUrl);
  await options.writer.flush();
  for (const { blockId } of options.writer.blockIndex().slice(-(options.recentMessages ?? 20)))
    await api.waitForReferenced(blockId, 60_000);
  const rotated = await rotateMeterDidKey({
    nodeUrl: options.nodeUrl,
    funding: options.funding,
    ref: options.ref,
    newPublicKey: ed25519PublicKey(options.newSecretKey),
  });
  await options.writer.rotateSigningKey(options.newSecretKey);
  return rotated;
}
