/** What a channel writer is opened with, and what it reports of each message it posts. */
import type { RandomSource } from './crypto.js';
import type { ChannelMode, MessageKind } from './format.js';
import type { WriterStore } from './writer-journal.js';

/** Posts a message; resolves with the id of the block that carries it. */
export type PostMessage = (tag: string, bytes: Uint8Array) => Promise<string>;

export interface ChannelWriterOptions {
  store: WriterStore;
  /** The meter's current Ed25519 secret key (32 bytes). */
  signingKey: Uint8Array;
  /** Mode of a new channel; must match the journal's for an existing one. */
  mode: ChannelMode;
  /** Restricted mode: X25519 public keys of the readers. A different set on reopen starts a new epoch. */
  readers?: Uint8Array[];
  post: PostMessage;
  /** Seconds between scheduled messages (default 60). */
  batchSeconds?: number;
  /** Largest wire message before a batch is split (default 16 KiB; at most MAX_WIRE_BYTES). */
  maxMessageBytes?: number;
  /** Restricted mode: a fresh epoch key for every period (default true), so a period reads on its own. */
  newEpochEachPeriod?: boolean;
  /** Clock for announcement times of a channel with no data yet (default Date.now). */
  now?: () => number;
  random?: RandomSource;
  /** Failures of scheduled flushes (the next one retries). */
  onError?: (error: unknown) => void;
  /** Compact the store after this many appended records (default 2000). */
  compactAfterRecords?: number;
}

export interface PostedMessage {
  seq: number;
  hash: string;
  blockId: string;
  tag: string;
  kind: MessageKind;
  epoch: number;
  fromMs: number;
  toMs: number;
  wireBytes: number;
}
