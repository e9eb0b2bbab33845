import type { LedgerClient, NodeApi } from '@tanglewatt/ledger';
import { type SignedMessage, signingBytes, type UnsignedMessage, unsignedMessage } from '@tanglewatt/market';
import type { Logger } from 'pino';
import { MARKET_TAG, type MarketConfig, type MarketEvent, type RecordMarketEvents } from './market-books.js';
import type { AddressKey } from './wallet-keys.js';

/** A message of ours not yet seen in a confirmed milestone, with the blocks that carried it so far. */
interface Outgoing {
  message: SignedMessage;
  blockIds: string[];
  promotedAtMs: number;
}

const PROMOTE_EVERY_MS = 3_000;

/**
 * This household's own market messages: signed with the wallet address's key (so the address, or the DID
 * whose document lists that key, is the identity), journaled before their first post, and posted again
 * until a confirmed milestone carries them.
 */
export class MarketPublisher {
  /** Our messages until a milestone confirms them: promoted, or posted again, when the node says so. */
  private readonly outgoing = new Map<string, Outgoing>();
  /** How often our blocks needed help since start: promoted, and posted again. */
  readonly resends = { promoted: 0, reposted: 0 };
  private nextSeq = 1;

  constructor(
    private readonly deps: {
      api: NodeApi;
      client: LedgerClient;
      key: AddressKey;
      address: string;
      config: Pick<MarketConfig, 'id' | 'did'>;
      log: Logger;
      record: RecordMarketEvents;
      /** The milestone that confirmed a message (by signature), as the book read it. */
      confirmedAt: (signature: string) => number | undefined;
    },
  ) {}

  apply(e: MarketEvent): void {
    if (e.t === 'seen') {
      const signature = (e.message as { signature?: unknown }).signature;
      if (typeof signature === 'string') this.outgoing.delete(signature);
    } else if (e.t === 'outgoing') {
      if (this.deps.confirmedAt(e.message.signature) === undefined)
        this.outgoing.set(e.message.signature, { message: e.message, blockIds: [], promotedAtMs: 0 });
    } else if (e.t === 'posted') {
      this.outgoing.get(e.signature)?.blockIds.push(e.blockId);
    } else if (e.t === 'seq') this.nextSeq = Math.max(this.nextSeq, e.next);
  }

  /**
   * Our messages no milestone has confirmed yet: a burst of blocks can leave one unapproved until it is too
   * old for tip selection. Such a block is promoted, and when the node says to reattach (or it was never
   * posted, after a crash), the same signed message goes out in a new block; books keep one copy.
   */
  async nudge(): Promise<void> {
    const { api, client, log } = this.deps;
    for (const [signature, pending] of this.outgoing) {
      const last = pending.blockIds.at(-1);
      const meta = last ? await api.blockMetadata(last).catch(() => undefined) : undefined;
      if (meta?.referencedByMilestoneIndex !== undefined) continue; // seen with that milestone's cone
      if (last && !meta?.shouldReattach) {
        if (meta?.shouldPromote && Date.now() - pending.promotedAtMs > PROMOTE_EVERY_MS) {
          pending.promotedAtMs = Date.now();
          await client.promote(last).then(
            () => this.resends.promoted++,
            () => undefined,
          );
        }
        continue;
      }
      const blockId = await client.postTaggedData(MARKET_TAG, JSON.stringify(pending.message));
      await this.deps.record([{ t: 'posted', signature, blockId }]);
      if (last) this.resends.reposted++;
      log.info(
        { kind: pending.message.kind, seq: pending.message.seq, blockId, attempt: pending.blockIds.length },
        last
          ? 'market message posted again: its block was left behind'
          : 'market message posted after a restart',
      );
    }
  }

  /** Signs a market message with this wallet's address key and posts it as a tagged-data block. */
  async publish(
    content: Pick<UnsignedMessage, 'kind' | 'body'>,
  ): Promise<{ message: SignedMessage; blockId: string }> {
    const seq = this.nextSeq;
    // The key is the address's own: fetch its public key with a first signature over the draft.
    const probe = await this.deps.key.sign(new Uint8Array());
    const { did } = this.deps.config;
    // As a DID, a sell names the wallet address to be paid (the DID itself holds no coins).
    const body =
      did && content.kind === 'sell' && (content.body as { payTo?: unknown }).payTo === undefined
        ? { ...(content.body as object), payTo: this.deps.address }
        : content.body;
    const unsigned = unsignedMessage.parse({
      v: 1,
      market: this.deps.config.id,
      author: probe.publicKey,
      identity: did?.did ?? this.deps.address,
      ...(did ? { didOrigin: did.originOutputId } : {}),
      timestampMs: Date.now(),
      seq,
      kind: content.kind,
      body,
    });
    const { signature } = await this.deps.key.sign(signingBytes(unsigned));
    const message = { ...unsigned, signature } as SignedMessage;
    // Journaled before posting: the sequence number is spent, and after a crash the message still goes out.
    await this.deps.record([
      { t: 'seq', next: seq + 1 },
      { t: 'outgoing', message },
    ]);
    const blockId = await this.deps.client.postTaggedData(MARKET_TAG, JSON.stringify(message));
    await this.deps.record([{ t: 'posted', signature: message.signature, blockId }]);
    this.deps.log.info({ kind: content.kind, seq, blockId }, 'market message posted');
    return { message, blockId };
  }
}
