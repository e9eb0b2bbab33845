import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import type { Book } from './book.js';
import { type RejectionReason, rejectionReasons, rejectionText } from './errors.js';
import {
  MarketAuthor,
  messageIdOf,
  type SignedMessage,
  secretKeyFromPhrase,
  signingBytes,
  verifyMessage,
} from './messages.js';
import { at, author, book, HOUR, MARKET, reasons, T0, W1, W2 } from './testing.js';

const offer = (who: string, t: number, energyWh: number, window = W1) =>
  author(who).sell(at(t), { energyWh, priceUnitsPerWh: '10', window });
const bid = (who: string, t: number, energyWh: number, window = W1) =>
  author(who).buy(at(t), { energyWh, maxPriceUnitsPerWh: '10', window });

function only(b: Book, reason: RejectionReason) {
  expect(reasons(b)).toEqual([reason]);
  return b.rejections[0]!;
}

describe('validation on read', () => {
  it('MALFORMED: not a message, with the offending field named', () => {
    const good = offer('alice', 1, 100);
    const b = book([good, { ...good, body: { ...good.body, energyWh: -5 } }]);
    expect(only(b, 'MALFORMED').detail).toMatch(/^body\.energyWh: /);
    expect(b.accepted).toEqual([messageIdOf(good)]);
  });

  it('WRONG_MARKET: a message signed for another market', () => {
    const b = book([
      author('alice', 'elsewhere').sell(at(1), { energyWh: 100, priceUnitsPerWh: '1', window: W1 }),
    ]);
    expect(only(b, 'WRONG_MARKET').detail).toContain('elsewhere');
  });

  it('UNSIGNED and BAD_SIGNATURE', () => {
    const m = offer('alice', 1, 100);
    const { signature: _s, ...unsigned } = m;
    expect(reasons(book([unsigned]))).toEqual(['UNSIGNED']);
    const forged = { ...m, body: { ...m.body, minLotWh: 100 } } as SignedMessage;
    const b = book([forged]);
    expect(only(b, 'BAD_SIGNATURE')).toMatchObject({
      kind: 'sell',
      identity: 'alice',
      messageId: messageIdOf(forged),
    });
    expect(b.orders).toEqual([]);
  });

  it('IDENTITY_MISMATCH: a key not registered for the identity it claims', () => {
    const registered = new Map([['alice', author('alice').publicKey]]);
    // Mallory's key, claiming to be alice: the signature is fine, the binding is not.
    const signed = new MarketAuthor(secretKeyFromPhrase('test/mallory'), 'alice', MARKET).sell(at(1), {
      energyWh: 100,
      priceUnitsPerWh: '1',
      window: W1,
    });
    const b = book([signed, offer('alice', 2, 100)], 'cda', {
      isAuthorized: (identity, key) => registered.get(identity) === key,
    });
    expect(only(b, 'IDENTITY_MISMATCH').identity).toBe('alice');
    expect(b.orders.map((o) => o.ownerKey)).toEqual([author('alice').publicKey]);
  });

  it('CLOCK_SKEW: a timestamp far from when the network first saw the message', () => {
    const backdated = offer('alice', 1, 100);
    const honest = offer('bob', 2, 100);
    const seen = new Map([
      [messageIdOf(backdated), at(1) + 10 * 60_000],
      [messageIdOf(honest), at(2) + 2_000],
    ]);
    const b = book([backdated, honest], 'cda', { observedAtMs: (m) => seen.get(m.id) });
    expect(only(b, 'CLOCK_SKEW').messageId).toBe(messageIdOf(backdated));
  });

  it('DUPLICATE: the same message twice, or a second ack of the same trade by the same party', () => {
    const m = offer('alice', 1, 100);
    expect(reasons(book([m, structuredClone(m)]))).toEqual(['DUPLICATE']);

    const alice = author('alice');
    const bob = author('bob');
    const orders = [
      alice.sell(at(1), { energyWh: 100, priceUnitsPerWh: '10', window: W1 }),
      bob.buy(at(2), { energyWh: 100, maxPriceUnitsPerWh: '10', window: W1 }),
    ];
    const tradeId = book(orders).trades[0]!.id;
    const b = book([
      ...orders,
      alice.ack(at(3), tradeId),
      bob.ack(at(4), tradeId),
      alice.ack(at(5), tradeId),
    ]);
    expect(only(b, 'DUPLICATE').detail).toBe('trade already acknowledged by its seller');
    expect(b.acks.map((a) => a.party)).toEqual(['seller', 'buyer']);
  });

  it('DUPLICATE: a second valid signature over the same content is the same message', () => {
    const alice = author('alice');
    const m = alice.sell(at(1), { energyWh: 100, priceUnitsPerWh: '10', window: W1 });
    const other = { ...m, signature: signWithNonce(m, secretKeyFromPhrase('test/alice'), 12_345_678_901n) };
    expect(verifyMessage(other).ok).toBe(true);
    expect(other.signature).not.toBe(m.signature);
    const books = [book([m, other]), book([other, m])];
    expect(books[0]).toEqual(books[1]);
    expect(reasons(books[0]!)).toEqual(['DUPLICATE']);
    expect(books[0]!.accepted).toEqual([messageIdOf(m)]);
  });

  it('REPLAY: a sequence number not above the author’s previous one', () => {
    const alice = author('alice');
    const first = alice.sell(at(1), { energyWh: 100, priceUnitsPerWh: '10', window: W1 }); // seq 1
    alice.nextSeq = 1;
    const reused = alice.sell(at(2), { energyWh: 999, priceUnitsPerWh: '10', window: W1 }); // seq 1 again
    alice.nextSeq = 0;
    const lower = alice.sell(at(3), { energyWh: 5, priceUnitsPerWh: '10', window: W1 }); // seq 0 after 1
    const b = book([lower, reused, first]);
    expect(reasons(b)).toEqual(['REPLAY', 'REPLAY']);
    expect(b.accepted).toEqual([messageIdOf(first)]);
  });

  it('EXPIRED: the window had ended by the message time', () => {
    const ended = { startMs: T0 - 2 * HOUR, endMs: T0 - HOUR };
    expect(reasons(book([offer('alice', 1, 100, ended), bid('bob', 1, 100, ended)]))).toEqual([
      'EXPIRED',
      'EXPIRED',
    ]);
  });

  it('OVER_COMMITTED: more offered in a window than the meter can deliver, sold energy included', () => {
    const capacityWh = () => 1000;
    const alice = author('alice');
    const first = alice.sell(at(1), { energyWh: 600, priceUnitsPerWh: '10', window: W1 });
    const over = alice.sell(at(2), { energyWh: 500, priceUnitsPerWh: '10', window: W1 });
    const otherWindow = alice.sell(at(3), { energyWh: 1000, priceUnitsPerWh: '10', window: W2 });
    const b = book([first, over, otherWindow], 'cda', { capacityWh });
    expect(only(b, 'OVER_COMMITTED')).toMatchObject({ messageId: messageIdOf(over) });
    expect(b.rejections[0]!.detail).toContain('1100 Wh offered');

    // Cancelling frees only the unsold part: 400 sold + 700 new > 1000.
    const carol = author('carol');
    const sold = carol.sell(at(1), { energyWh: 600, priceUnitsPerWh: '10', window: W1 });
    const afterCancel = book(
      [
        sold,
        bid('dave', 2, 400),
        carol.cancel(at(3), messageIdOf(sold)),
        carol.sell(at(4), { energyWh: 700, priceUnitsPerWh: '10', window: W1 }),
        carol.sell(at(5), { energyWh: 600, priceUnitsPerWh: '10', window: W1 }),
      ],
      'cda',
      { capacityWh },
    );
    expect(reasons(afterCancel)).toEqual(['OVER_COMMITTED']);
    expect(afterCancel.orders.filter((o) => o.owner === 'carol').map((o) => o.energyWh)).toEqual([600, 600]);

    // An amend that enlarges an offer is checked the same way, and changes nothing when refused.
    const erin = author('erin');
    const base = erin.sell(at(1), { energyWh: 800, priceUnitsPerWh: '10', window: W1 });
    const amended = book([base, erin.amend(at(2), messageIdOf(base), { energyWh: 1200 })], 'cda', {
      capacityWh,
    });
    expect(reasons(amended)).toEqual(['OVER_COMMITTED']);
    expect(amended.orders[0]!.energyWh).toBe(800);

    // A capacity feed that answers NaN fails closed.
    expect(reasons(book([offer('frank', 1, 1)], 'cda', { capacityWh: () => Number.NaN }))).toEqual([
      'OVER_COMMITTED',
    ]);
  });

  it('UNKNOWN_OFFER: cancel or amend of an order that does not exist or is someone else’s', () => {
    const target = offer('alice', 1, 100);
    const mallory = author('mallory');
    const b = book([
      target,
      mallory.cancel(at(2), messageIdOf(target)),
      mallory.amend(at(3), messageIdOf(target), { priceUnitsPerWh: '1' }),
      mallory.cancel(at(4), 'ab'.repeat(32)),
    ]);
    expect(reasons(b)).toEqual(['UNKNOWN_OFFER', 'UNKNOWN_OFFER', 'UNKNOWN_OFFER']);
    expect(b.orders[0]).toMatchObject({ status: 'open', priceUnitsPerWh: '10' });
  });

  it('ORDER_CLOSED: cancel or amend of a filled, cancelled or expired order', () => {
    const alice = author('alice');
    const filled = alice.sell(at(1), { energyWh: 100, priceUnitsPerWh: '10', window: W1 });
    const short = { startMs: T0, endMs: at(5) };
    const expiring = alice.sell(at(2), { energyWh: 100, priceUnitsPerWh: '10', window: short });
    const b = book([
      filled,
      expiring,
      bid('bob', 3, 100),
      alice.cancel(at(4), messageIdOf(filled)),
      alice.amend(at(6), messageIdOf(expiring), { energyWh: 50 }),
    ]);
    expect(reasons(b)).toEqual(['ORDER_CLOSED', 'ORDER_CLOSED']);
    expect(b.rejections.map((r) => r.detail.split(' is ')[1])).toEqual(['filled', 'expired']);

    const carol = author('carol');
    const o = carol.sell(at(1), { energyWh: 100, priceUnitsPerWh: '10', window: W1 });
    expect(
      reasons(book([o, carol.cancel(at(2), messageIdOf(o)), carol.cancel(at(3), messageIdOf(o))])),
    ).toEqual(['ORDER_CLOSED']);
  });

  it('UNKNOWN_TRADE: an ack of a trade that does not exist or by someone who is no party to it', () => {
    const bob = author('bob');
    const orders = [
      offer('alice', 1, 100),
      bob.buy(at(2), { energyWh: 100, maxPriceUnitsPerWh: '10', window: W1 }),
    ];
    const tradeId = book(orders).trades[0]!.id;
    const b = book([...orders, author('mallory').ack(at(3), tradeId), bob.ack(at(4), 'cd'.repeat(32))]);
    expect(reasons(b)).toEqual(['UNKNOWN_TRADE', 'UNKNOWN_TRADE']);
    expect(b.accepted).toHaveLength(2);
  });

  it('keeps messages stamped after the book time pending, neither taken nor rejected', () => {
    const future = offer('alice', 3600, 100, W2);
    const b = book([future], 'cda', { nowMs: at(60) });
    expect(b.pending).toEqual([messageIdOf(future)]);
    expect(b.orders).toEqual([]);
    expect(b.rejections).toEqual([]);
    expect(book([future], 'cda', { nowMs: at(3600) }).orders).toHaveLength(1);
  });

  it('has a one-line text for every reason', () => {
    for (const reason of rejectionReasons) expect(rejectionText[reason]).toMatch(/^[a-z].{10,}[^.]$/);
  });
});

/** A valid Ed25519 signature with a chosen nonce instead of RFC 8032's derived one: same content, other bytes. */
function signWithNonce(message: SignedMessage, secretKey: Uint8Array, nonce: bigint): string {
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const le = (bytes: Uint8Array) => bytes.reduceRight((n, byte) => (n << 8n) + BigInt(byte), 0n);
  const le32 = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
  const { scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(secretKey);
  const R = ed25519.Point.BASE.multiply(nonce).toBytes();
  const k = le(sha512(concatBytes(R, pointBytes, signingBytes(message)))) % L;
  return bytesToHex(concatBytes(R, le32((nonce + k * scalar) % L)));
}
