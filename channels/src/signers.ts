/**
 * Which Ed25519 keys may sign a given message. The reader asks a SignerKeys for the candidates; a message
 * verifies only under one of them. Three policies: a fixed set of keys handed over out of band, a schedule
 * by sequence number, and the history of a DID document (see node.ts for resolving it from the Tangle).
 */
import { equalBytes, toHex } from './bytes.js';
import { keyIdOf } from './crypto.js';
import type { MessageHeader } from './format.js';

export interface SignerQuery {
  header: MessageHeader;
  /** Milestone that referenced the message's block, when the source knows it. */
  milestoneIndex?: number;
}

export interface SignerCandidates {
  keys: Uint8Array[];
  /** Why no key applies, for the failure's detail. */
  why?: string;
}

export interface SignerKeys {
  candidates(query: SignerQuery): SignerCandidates;
}

function matching(keys: Uint8Array[], keyId: Uint8Array): Uint8Array[] {
  return keys.filter((k) => equalBytes(keyIdOf(k), keyId));
}

/** Keys distributed out of band: any of them may sign any message. */
export function staticSigners(publicKeys: Uint8Array[]): SignerKeys {
  return {
    candidates: ({ header }) => {
      const keys = matching(publicKeys, header.keyId);
      return keys.length
        ? { keys }
        : {
            keys,
            why: `signed with key id ${toHex(header.keyId)}, not one of the ${publicKeys.length} given`,
          };
    },
  };
}

export interface ScheduledKey {
  publicKey: Uint8Array;
  fromSeq: number;
  /** Exclusive; open-ended when absent. */
  untilSeq?: number;
}

/** Each key signs a range of sequence numbers (e.g. from the writer's journal). */
export function seqScheduleSigners(schedule: ScheduledKey[]): SignerKeys {
  return {
    candidates: ({ header }) => {
      const inForce = schedule.filter(
        (k) => header.seq >= k.fromSeq && (k.untilSeq === undefined || header.seq < k.untilSeq),
      );
      const keys = matching(
        inForce.map((k) => k.publicKey),
        header.keyId,
      );
      return keys.length
        ? { keys }
        : { keys, why: `key id ${toHex(header.keyId)} is not scheduled for seq ${header.seq}` };
    },
  };
}

/** One version of a DID document, as the ledger kept it: in force from one milestone until the next version. */
export interface DidKeyVersion {
  /** Milestone that confirmed this version. */
  fromMilestone: number;
  /** Milestone that confirmed the next version (exclusive); absent for the current one. */
  untilMilestone?: number;
  /** Ed25519 verification methods of this version. */
  publicKeys: Uint8Array[];
}

/**
 * Keys from a DID's history. A message verifies with the keys of the document version that was in force at
 * the milestone that referenced its block, so a key removed from the document signs nothing confirmed after
 * the removal. Without a milestone (block not yet referenced) only the current document's keys count.
 */
export function didHistorySigners(versions: DidKeyVersion[]): SignerKeys {
  const current = versions.at(-1);
  return {
    candidates: ({ header, milestoneIndex }) => {
      const keyHex = toHex(header.keyId);
      if (milestoneIndex === undefined) {
        const keys = matching(current?.publicKeys ?? [], header.keyId);
        return keys.length
          ? { keys }
          : { keys, why: `block not referenced yet and key id ${keyHex} is not in the current DID document` };
      }
      const version = versions.find(
        (v) =>
          v.fromMilestone <= milestoneIndex &&
          (v.untilMilestone === undefined || milestoneIndex < v.untilMilestone),
      );
      if (!version) return { keys: [], why: `no DID document was in force at milestone ${milestoneIndex}` };
      const keys = matching(version.publicKeys, header.keyId);
      return keys.length
        ? { keys }
        : {
            keys,
            why: `key id ${keyHex} is not in the DID document in force at milestone ${milestoneIndex}`,
          };
    },
  };
}
