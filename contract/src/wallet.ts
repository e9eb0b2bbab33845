import type { ReceivedPayment } from './schemas.js';

/** Answers of the wallet-service's read routes that have no zod schema (nothing parses them on the way in). */

/** GET /received-payments: one page, newest first. */
export interface ReceivedPage {
  total: number;
  items: ReceivedPayment[];
  /** The outputId to pass as `before` for the next page; null on the last. */
  next: string | null;
  /** The milestone the wallet's history of received payments began at (earlier ones only if unspent then). */
  since: number | null;
}

/** GET /dids/{did}: a meter DID's document versions with their Ed25519 verification methods. */
export interface DidResolution {
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
