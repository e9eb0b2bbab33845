import { blake2b } from '@noble/hashes/blake2.js';
import { ChannelError, type DidDocumentVersion, resolveMeterDid } from '@tanglewatt/channels/node';
import { isError } from '@tanglewatt/errors';
import {
  type BlockJson,
  bech32ToHex,
  hexToUtf8,
  type NodeApi,
  taggedDataOf,
  utf8ToHex,
} from '@tanglewatt/ledger';
import {
  type Book,
  type MatchingRule,
  rebuildBook,
  type SignedMessage,
  type VerifiedMessage,
  type Window,
} from '@tanglewatt/market';
import type { Logger } from 'pino';
import { capacityFromHistory, type PaidDelivery, paymentEntriesOf } from './delivery-history.js';
import { ConeReader, type MarketReader } from './market-reader.js';
import { PAYMENT_TAG } from './settlement.js';

/** Tag of the tagged-data blocks that carry market messages. */
export const MARKET_TAG = 'tanglewatt/market/v1';
const MARKET_TAG_HEX = utf8ToHex(MARKET_TAG);
const PAYMENT_TAG_HEX = utf8ToHex(PAYMENT_TAG);

/**
 * The market read model: every market message the confirmed milestones carried (read from each
 * milestone's cone in white-flag order, or from the community indexer's tagged blocks: market-reader.ts;
 * either way every household sees the same messages with the same observation times), the payments that bound producers' offers and settle trades, and the book rebuilt
 * from them. It holds no key: this household's own messages go out through the publisher.
 */

/** The market journal's records: what was read from the milestones, and this household's own messages. */
export type MarketEvent =
  | { t: 'seen'; milestoneIndex: number; observedAtMs: number; blockId: string; message: unknown }
  | { t: 'checkpoint'; milestoneIndex: number; timestampMs: number }
  /** A delivery paid for, or a trade's payment: read from an included payment transaction. */
  | {
      t: 'paid';
      milestoneIndex: number;
      payeeHex: string;
      units: string;
      tradeId?: string;
      energyMWs?: string;
      periodMs?: number;
    }
  | { t: 'seq'; next: number }
  | { t: 'format'; v: number }
  /** A message of ours, journaled before its first post: after a crash it is posted (again). */
  | { t: 'outgoing'; message: SignedMessage }
  | { t: 'posted'; signature: string; blockId: string };

/** Appends events to the market journal and applies them to the book and the publisher. */
export type RecordMarketEvents = (events: MarketEvent[]) => Promise<void>;

const TRADE_KEY = /^market\/([0-9a-f]{64})\//;

/** The book as GET /market serves it: as of milestone `ledgerIndex`, with each trade's payments. */
export type MarketBookView = Book & { ledgerIndex: number; settlements: TradeSettlement[] };

/** What the ledger shows paid for one trade, to its payee. */
export interface TradeSettlement {
  tradeId: string;
  paidUnits: string;
  payments: number;
  lastMilestoneIndex: number;
}
export interface MarketConfig {
  id: string;
  rule: MatchingRule;
  /** "paid-history": a producer's capacity comes from the payments made to it on the tangle. */
  capacity: 'paid-history' | 'configured';
  /** Wh a producer without history (or any, with capacity "configured") may offer in one window. */
  defaultCapacityWh: number;
  /** First milestone a new household reads the market from. */
  fromMilestone: number;
  /** Speak as this DID (its document lists the wallet address's key) rather than as the address. */
  did?: { did: string; originOutputId: string };
}

/** A DID's document history as resolved from the tangle, complete up to milestone `through`. */
type ResolvedDid = { versions: DidDocumentVersion[]; through: number } | { error: string; through: number };

/** The document version in force at milestone `index` lists `publicKeyHex` (and is not deactivated). */
export function didKeyInForce(
  versions: readonly DidDocumentVersion[],
  index: number,
  publicKeyHex: string,
): boolean {
  const version = versions.find(
    (v) => v.fromMilestone <= index && (v.untilMilestone === undefined || index < v.untilMilestone),
  );
  return !!version && !version.deactivated && version.methods.some((m) => m.publicKey === publicKeyHex);
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

export class MarketBooks {
  private readonly messages: { observedAtMs: number; message: unknown; blockId: string }[] = [];
  /** Paid deliveries by payee (address hash): the producers' history that bounds what they may offer. */
  private readonly deliveries = new Map<string, PaidDelivery[]>();
  /** Payments keyed `market/<trade>/…`, by trade: what the ledger shows each trade paid. */
  private readonly tradePayments = new Map<
    string,
    { payeeHex: string; units: bigint; milestoneIndex: number }[]
  >();
  /** The milestone that first confirmed each message (by signature). */
  private readonly milestoneOf = new Map<string, number>();
  private readonly addressHexCache = new Map<string, string | undefined>();
  /** DID identities by `did origin`: resolved once, again when a later message needs a later version. */
  private readonly dids = new Map<string, ResolvedDid>();
  /** Bumped by everything the book depends on; the last book is served again while it stands. */
  private version = 0;
  private cached: { version: number; book: MarketBookView } | undefined;
  private checkpoint = 0;
  private lastMilestoneMs = 0;
  /** Signatures already verified: a rebuild checks each message's signature once, not on every request. */
  private readonly signatureCache = new Set<string>();

  private journaledCheckpoint = 0;
  private readonly reader: MarketReader;

  constructor(
    private readonly deps: {
      api: NodeApi;
      config: MarketConfig;
      log: Logger;
      record: RecordMarketEvents;
      /** Where the milestones' blocks come from; the node's cones when not given. */
      reader?: MarketReader;
    },
  ) {
    this.reader = deps.reader ?? new ConeReader(deps.api);
  }

  apply(e: MarketEvent): void {
    this.version++;
    if (e.t === 'seen') {
      this.messages.push({ observedAtMs: e.observedAtMs, message: e.message, blockId: e.blockId });
      const signature = (e.message as { signature?: unknown }).signature;
      if (typeof signature === 'string' && !this.milestoneOf.has(signature))
        this.milestoneOf.set(signature, e.milestoneIndex);
    } else if (e.t === 'paid') {
      if (e.energyMWs !== undefined && e.periodMs !== undefined) {
        const list = this.deliveries.get(e.payeeHex) ?? [];
        list.push({
          payeeHex: e.payeeHex,
          energyMWs: BigInt(e.energyMWs),
          periodMs: e.periodMs,
          milestoneIndex: e.milestoneIndex,
        });
        this.deliveries.set(e.payeeHex, list);
      }
      if (e.tradeId !== undefined) {
        const list = this.tradePayments.get(e.tradeId) ?? [];
        list.push({ payeeHex: e.payeeHex, units: BigInt(e.units), milestoneIndex: e.milestoneIndex });
        this.tradePayments.set(e.tradeId, list);
      }
    } else if (e.t === 'checkpoint') {
      this.checkpoint = e.milestoneIndex;
      this.lastMilestoneMs = e.timestampMs;
    }
  }

  /**
   * Reads the market messages of every confirmed milestone up to `confirmedIndex` not read yet, strictly in
   * order, recording each milestone's as one batch; a failure stops the run and the next call resumes where
   * it stopped, so no milestone is skipped. A new household starts from `fromMilestone` (default 1): the
   * whole market history the node keeps.
   */
  async readUpTo(confirmedIndex: number): Promise<void> {
    const from = Math.max(this.checkpoint, this.deps.config.fromMilestone - 1);
    for await (const step of this.reader.read(from, confirmedIndex)) {
      if (step.kind === 'pruned') {
        await this.deps.record([
          { t: 'checkpoint', milestoneIndex: step.to, timestampMs: this.lastMilestoneMs },
        ]);
        continue;
      }
      const { index, timestamp, blocks } = step.milestone;
      const events: MarketEvent[] = [];
      for (const { blockId, block } of blocks) {
        const tagged = taggedDataOf(blockId, block);
        if (tagged?.tag === PAYMENT_TAG_HEX) {
          events.push(...(await this.paymentEvents(blockId, block, index)));
          continue;
        }
        if (!tagged || tagged.tag !== MARKET_TAG_HEX) continue;
        let message: unknown;
        try {
          message = JSON.parse(hexToUtf8(tagged.data));
        } catch {
          message = { malformed: tagged.data.slice(0, 200) };
        }
        events.push({ t: 'seen', milestoneIndex: index, observedAtMs: timestamp * 1000, blockId, message });
      }
      if (events.length === 0 && index - this.journaledCheckpoint < this.reader.checkpointEvery) {
        // A quiet milestone: the checkpoint moves in memory; reading it again after a restart finds nothing.
        this.checkpoint = index;
        this.lastMilestoneMs = timestamp * 1000;
        this.version++;
        continue;
      }
      await this.deps.record([
        ...events,
        { t: 'checkpoint', milestoneIndex: index, timestampMs: timestamp * 1000 },
      ]);
      this.journaledCheckpoint = index;
    }
  }

  /** What an included payment transaction paid: deliveries and trade settlements (a conflicting one, nothing). */
  private async paymentEvents(
    blockId: string,
    block: BlockJson,
    milestoneIndex: number,
  ): Promise<MarketEvent[]> {
    const found = paymentEntriesOf(block, PAYMENT_TAG_HEX).filter(
      (p) => p.delivery !== undefined || TRADE_KEY.test(p.key),
    );
    if (found.length === 0) return [];
    if (!(await this.reader.isIncluded(blockId))) return [];
    return found.map((p) => {
      const tradeId = TRADE_KEY.exec(p.key)?.[1];
      return {
        t: 'paid',
        milestoneIndex,
        payeeHex: p.payeeHex,
        units: p.units.toString(),
        ...(tradeId ? { tradeId } : {}),
        ...(p.delivery ? { energyMWs: p.delivery.energyMWs.toString(), periodMs: p.delivery.periodMs } : {}),
      };
    });
  }

  /** Each trade's payments on the ledger, counting only outputs to the trade's payee. */
  private settlementsOf(trades: readonly Book['trades'][number][]): TradeSettlement[] {
    const out: TradeSettlement[] = [];
    for (const trade of trades) {
      const payments = this.tradePayments.get(trade.id);
      if (!payments) continue;
      const payee = this.hexOf(trade.payTo ?? trade.seller);
      const toPayee = payments.filter((p) => p.payeeHex === payee);
      if (toPayee.length === 0) continue;
      out.push({
        tradeId: trade.id,
        paidUnits: toPayee.reduce((sum, p) => sum + p.units, 0n).toString(),
        payments: toPayee.length,
        lastMilestoneIndex: Math.max(...toPayee.map((p) => p.milestoneIndex)),
      });
    }
    return out;
  }

  /** An address's Ed25519 hash (lowercase), or undefined for an identity that is no address. */
  private hexOf(address: string): string | undefined {
    if (!this.addressHexCache.has(address)) {
      let hex: string | undefined;
      try {
        hex = bech32ToHex(address).toLowerCase();
      } catch {
        hex = undefined;
      }
      this.addressHexCache.set(address, hex);
    }
    return this.addressHexCache.get(address);
  }

  /** Wh `producer` may offer in `window`, by its paid history as of the milestone that confirmed `asOf`. */
  private capacityWh(producer: string, window: Window, asOf: VerifiedMessage): number {
    const { capacity, defaultCapacityWh } = this.deps.config;
    if (capacity === 'configured') return defaultCapacityWh;
    const hex = this.hexOf(producer); // a DID or name: no payments can name it
    const history = hex === undefined ? undefined : this.deliveries.get(hex);
    const before = this.milestoneOf.get(asOf.message.signature) ?? Number.POSITIVE_INFINITY;
    const fromHistory = history && capacityFromHistory(history, window.endMs - window.startMs, before);
    return fromHistory === undefined ? defaultCapacityWh : Number(fromHistory);
  }

  /**
   * Resolves the DIDs that messages read so far speak as, from the alias history on the tangle. A DID is
   * resolved again only when a message was confirmed after its last resolution. A DID that cannot be
   * resolved (not an alias from that origin, no document) authorizes nothing; a node that does not answer
   * is not a verdict, so it is tried again on the next read.
   */
  private async resolveIdentities(): Promise<void> {
    const wanted = new Map<string, { did: string; origin: string; latest: number }>();
    for (const m of this.messages) {
      const { identity, didOrigin, signature } = (m.message ?? {}) as {
        identity?: unknown;
        didOrigin?: unknown;
        signature?: unknown;
      };
      if (typeof identity !== 'string' || !identity.startsWith('did:') || typeof didOrigin !== 'string')
        continue;
      const key = `${identity} ${didOrigin}`;
      const at = typeof signature === 'string' ? (this.milestoneOf.get(signature) ?? 0) : 0;
      const entry = wanted.get(key);
      if (!entry || at > entry.latest) wanted.set(key, { did: identity, origin: didOrigin, latest: at });
    }
    for (const [key, { did, origin, latest }] of wanted) {
      const known = this.dids.get(key);
      if (known && known.through >= latest) continue;
      const through = this.checkpoint;
      try {
        const resolved = await resolveMeterDid({
          nodeUrl: this.deps.api.url,
          ref: { did, originOutputId: origin },
        });
        this.dids.set(key, { versions: resolved.versions, through });
        this.version++;
      } catch (error) {
        const permanent = error instanceof ChannelError || isError(error, 'NOT_FOUND');
        if (!permanent) throw error;
        this.dids.set(key, { error: (error as Error).message, through });
        this.version++;
        this.deps.log.info(
          { did, origin, err: (error as Error).message },
          'market identity does not resolve',
        );
      }
    }
  }

  /** Whether `publicKey` may speak for `identity` in message `m`: the address's own key, or the DID's. */
  private isAuthorized(identity: string, publicKey: string, m: VerifiedMessage): boolean {
    if (!identity.startsWith('did:')) return addressOwnsKey(identity, publicKey);
    const origin = m.message.didOrigin;
    const resolved = origin === undefined ? undefined : this.dids.get(`${identity} ${origin}`);
    if (!resolved || 'error' in resolved) return false;
    const at = this.milestoneOf.get(m.message.signature);
    return at !== undefined && didKeyInForce(resolved.versions, at, publicKey);
  }

  /** The milestone that first confirmed a market message (by its signature), once this view has read it. */
  confirmedAt(signature: string): number | undefined {
    return this.milestoneOf.get(signature);
  }

  /** The book every household computes from the same messages: as of the last milestone read. */
  async book(): Promise<MarketBookView> {
    // Nothing read since the last book (and so no identity to resolve): serve it again.
    if (this.cached?.version === this.version) return this.cached.book;
    await this.resolveIdentities();
    const version = this.version;
    // When the network first saw each message: the milestone that confirmed its first copy.
    const observed = new Map<string, number>();
    for (const m of this.messages) {
      const signature = (m.message as { signature?: unknown }).signature;
      if (typeof signature === 'string' && !observed.has(signature)) observed.set(signature, m.observedAtMs);
    }
    // Other communities' markets share the tangle: their messages are theirs, not this book's rejections.
    // A message posted again (its first block was left behind) is the same message: one copy goes in.
    // (A copy is the whole message, byte for byte: a doctored body under the same signature is another.)
    const copies = new Set<string>();
    const ours = this.messages.filter((m) => {
      const market = (m.message as { market?: unknown } | null)?.market;
      if (typeof market === 'string' && market !== this.deps.config.id) return false;
      const whole = JSON.stringify(m.message);
      if (copies.has(whole)) return false;
      copies.add(whole);
      return true;
    });
    const book = rebuildBook(
      ours.map((m) => m.message),
      {
        market: this.deps.config.id,
        rule: this.deps.config.rule,
        nowMs: this.lastMilestoneMs,
        capacityWh: (producer, window, asOf) => this.capacityWh(producer, window, asOf),
        isAuthorized: (identity, key, m) => this.isAuthorized(identity, key, m),
        signatureCache: this.signatureCache,
        observedAtMs: (m: VerifiedMessage) => observed.get(m.message.signature),
      },
    );
    const result = { ...book, ledgerIndex: this.checkpoint, settlements: this.settlementsOf(book.trades) };
    this.cached = { version, book: result };
    return result;
  }
}
