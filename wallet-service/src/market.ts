import { join } from 'node:path';
import { blake2b } from '@noble/hashes/blake2.js';
import { Journal } from '@tanglewatt/journal';
import {
  bech32ToHex,
  hexToUtf8,
  type LedgerClient,
  LedgerError,
  type MilestoneCone,
  type MnemonicSigner,
  milestoneCone,
  type NodeApi,
  taggedDataOf,
  utf8ToHex,
} from '@tanglewatt/ledger';
import {
  type Book,
  type MatchingRule,
  rebuildBook,
  type SignedMessage,
  signingBytes,
  type UnsignedMessage,
  unsignedMessage,
  type VerifiedMessage,
} from '@tanglewatt/market';
import type { Logger } from 'pino';

/** Tag of the tagged-data blocks that carry market messages. */
export const MARKET_TAG = 'tanglewatt/market/v1';

/**
 * This household's view of the community market: every market message the confirmed milestones carried
 * (read from each milestone's cone, in white-flag order, so every household sees the same messages with
 * the same observation times), and the book rebuilt from them. It also publishes this household's own
 * offers and orders, signed with the key of its wallet address, so the address is the identity.
 */

type Event =
  | { t: 'seen'; milestoneIndex: number; observedAtMs: number; blockId: string; message: unknown }
  | { t: 'checkpoint'; milestoneIndex: number; timestampMs: number }
  | { t: 'seq'; next: number };

export interface MarketConfig {
  id: string;
  rule: MatchingRule;
  /** Wh a producer may offer in one window, until meter histories are published on the tangle. */
  defaultCapacityWh: number;
  /** First milestone a new household reads the market from. */
  fromMilestone: number;
}

/** An address speaks for itself: its key's BLAKE2b-256 hash is the address. */
export function addressOwnsKey(address: string, publicKeyHex: string): boolean {
  try {
    const hash = blake2b(Buffer.from(publicKeyHex, 'hex'), { dkLen: 32 });
    return `0x${Buffer.from(hash).toString('hex')}` === bech32ToHex(address).toLowerCase();
  } catch {
    return false;
  }
}

export class MarketView {
  private readonly messages: { observedAtMs: number; message: unknown; blockId: string }[] = [];
  private checkpoint = 0;
  private lastMilestoneMs = 0;
  private nextSeq = 1;
  private queue: Promise<void> = Promise.resolve();
  /** Signatures already verified: a rebuild checks each message's signature once, not on every request. */
  private readonly signatureCache = new Set<string>();

  private constructor(
    private readonly journal: Journal<Event>,
    private readonly deps: {
      api: NodeApi;
      client: LedgerClient;
      signer: MnemonicSigner;
      chain: { coinType: number; accountIndex: number; addressIndex: number };
      address: string;
      config: MarketConfig;
      log: Logger;
    },
  ) {}

  static async open(deps: MarketView['deps'] & { dataDir: string }): Promise<MarketView> {
    const { journal, records } = await Journal.open<Event>(join(deps.dataDir, 'market.journal'));
    const view = new MarketView(journal, deps);
    for (const e of records) view.apply(e);
    return view;
  }

  private apply(e: Event): void {
    if (e.t === 'seen')
      this.messages.push({ observedAtMs: e.observedAtMs, message: e.message, blockId: e.blockId });
    else if (e.t === 'checkpoint') {
      this.checkpoint = e.milestoneIndex;
      this.lastMilestoneMs = e.timestampMs;
    } else this.nextSeq = Math.max(this.nextSeq, e.next);
  }

  private async commit(events: Event[]): Promise<void> {
    await this.journal.appendMany(events);
    for (const e of events) this.apply(e);
  }

  /**
   * Reads the market messages of every confirmed milestone up to `confirmedIndex` not read yet, strictly in
   * order; a failure stops the run and the next call resumes where it stopped, so no milestone is skipped.
   * A new household starts from `fromMilestone` (default 1): the whole market history the node keeps.
   */
  catchUp(confirmedIndex: number): Promise<void> {
    this.queue = this.queue
      .then(async () => {
        for (
          let index = Math.max(this.checkpoint + 1, this.deps.config.fromMilestone);
          index <= confirmedIndex;
          index++
        ) {
          let cone: MilestoneCone;
          try {
            cone = await milestoneCone(this.deps.api, index);
          } catch (error) {
            // Pruned by the node: what it no longer has cannot be read by anyone.
            if (error instanceof LedgerError && error.code === 'NOT_FOUND') {
              const info = await this.deps.api.info();
              if (index <= info.status.pruningIndex) {
                await this.commit([
                  {
                    t: 'checkpoint',
                    milestoneIndex: info.status.pruningIndex,
                    timestampMs: this.lastMilestoneMs,
                  },
                ]);
                index = info.status.pruningIndex;
                continue;
              }
            }
            throw error;
          }
          const events: Event[] = [];
          for (const { blockId, block } of cone.blocks) {
            const tagged = taggedDataOf(blockId, block);
            if (!tagged || tagged.tag !== utf8ToHex(MARKET_TAG)) continue;
            let message: unknown;
            try {
              message = JSON.parse(hexToUtf8(tagged.data));
            } catch {
              message = { malformed: tagged.data.slice(0, 200) };
            }
            events.push({
              t: 'seen',
              milestoneIndex: index,
              observedAtMs: cone.timestamp * 1000,
              blockId,
              message,
            });
          }
          events.push({ t: 'checkpoint', milestoneIndex: index, timestampMs: cone.timestamp * 1000 });
          await this.commit(events);
        }
      })
      .catch((error: unknown) => {
        this.deps.log.warn({ err: (error as Error).message }, 'reading market messages failed; will resume');
      });
    return this.queue;
  }

  /** The book every household computes from the same messages: as of the last milestone read. */
  book(): Book & { ledgerIndex: number } {
    // When the network first saw each message: the milestone that confirmed its first copy.
    const observed = new Map<string, number>();
    for (const m of this.messages) {
      const signature = (m.message as { signature?: unknown }).signature;
      if (typeof signature === 'string' && !observed.has(signature)) observed.set(signature, m.observedAtMs);
    }
    const book = rebuildBook(
      this.messages.map((m) => m.message),
      {
        market: this.deps.config.id,
        rule: this.deps.config.rule,
        nowMs: this.lastMilestoneMs,
        capacityWh: () => this.deps.config.defaultCapacityWh,
        isAuthorized: addressOwnsKey,
        signatureCache: this.signatureCache,
        observedAtMs: (m: VerifiedMessage) => observed.get(m.message.signature),
      },
    );
    return { ...book, ledgerIndex: this.checkpoint };
  }

  /** Signs a market message with this wallet's address key and posts it as a tagged-data block. */
  async publish(
    content: Pick<UnsignedMessage, 'kind' | 'body'>,
  ): Promise<{ message: SignedMessage; blockId: string }> {
    const seq = this.nextSeq;
    // The key is the address's own: fetch its public key with a first signature over the draft.
    const probe = await this.deps.signer.signEd25519(new Uint8Array(), this.deps.chain);
    const unsigned = unsignedMessage.parse({
      v: 1,
      market: this.deps.config.id,
      author: probe.publicKey.replace(/^0x/, ''),
      identity: this.deps.address,
      timestampMs: Date.now(),
      seq,
      ...content,
    });
    const { signature } = await this.deps.signer.signEd25519(signingBytes(unsigned), this.deps.chain);
    const message = { ...unsigned, signature: signature.replace(/^0x/, '') } as SignedMessage;
    // The sequence number is spent before posting, so a retry after a crash never reuses it.
    await this.commit([{ t: 'seq', next: seq + 1 }]);
    const blockId = await this.deps.client.postTaggedData(MARKET_TAG, JSON.stringify(message));
    this.deps.log.info({ kind: content.kind, seq, blockId }, 'market message posted');
    return { message, blockId };
  }

  async close(): Promise<void> {
    await this.queue;
    await this.journal.close();
  }
}
