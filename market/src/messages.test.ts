import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { MarketError } from './errors.js';
import {
  MarketAuthor,
  messageIdOf,
  type SignedMessage,
  secretKeyFromPhrase,
  signMessage,
  verifyMessage,
  withoutSignature,
} from './messages.js';
import { at, author, MARKET, W1 } from './testing.js';
import { formatPrice, normalizePrice, parsePrice, unitsForMWs, unitsForWh, whToMWs } from './units.js';

describe('canonical JSON', () => {
  it('sorts keys by code unit, drops undefined members, writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, B: { z: 'é', y: 0 } })).toBe(
      '{"B":{"y":0,"z":"é"},"a":[true,null,"x"],"b":1}',
    );
  });
  it('refuses what has no single encoding: fractions, unsafe integers, bigint, NaN, class instances', () => {
    for (const bad of [1.5, 2 ** 53, 1n, Number.NaN, new Date(0), { x: () => 1 }])
      expect(() => canonicalJson(bad)).toThrow(MarketError);
  });
});

describe('prices and amounts', () => {
  it('parses decimals exactly and prints them canonically', () => {
    expect(parsePrice('0.25')).toBe(250_000_000_000_000_000n);
    expect(formatPrice(parsePrice('12.50'))).toBe('12.5');
    expect(normalizePrice('0.50')).toBe('0.5');
    expect(formatPrice(1n)).toBe('0.000000000000000001');
    expect(() => parsePrice('1e3')).toThrow(RangeError);
    expect(() => parsePrice('0.1234567890123456789')).toThrow(RangeError);
  });
  it('floors amounts to whole base units', () => {
    expect(unitsForWh(3, parsePrice('0.5'))).toBe(1n); // 1.5 → 1
    expect(unitsForWh(10_000, parsePrice('10000'))).toBe(100_000_000n);
    expect(unitsForMWs(whToMWs(1) - 1n, parsePrice('1'))).toBe(0n); // just under 1 Wh
    expect(unitsForMWs(whToMWs(1), parsePrice('1'))).toBe(1n);
  });
});

describe('message format and signatures', () => {
  const golden = new MarketAuthor(secretKeyFromPhrase('golden'), 'P101', 'golden-market');
  const goldenSell = golden.sell(1_717_200_000_000, {
    energyWh: 1500,
    priceUnitsPerWh: '0.250',
    window: { startMs: 1_717_203_600_000, endMs: 1_717_207_200_000 },
    minLotWh: 100,
  });

  it('has fixed canonical bytes, id and signature (checked against OpenSSL through Python)', () => {
    expect(canonicalJson(withoutSignature(goldenSell))).toBe(
      '{"author":"31a8493737739950b91e52bd23344669600ae91964bea552628f93c8c1693f48","body":{"energyWh":1500,"minLotWh":100,"priceUnitsPerWh":"0.25","window":{"endMs":1717207200000,"startMs":1717203600000}},"identity":"P101","kind":"sell","market":"golden-market","seq":1,"timestampMs":1717200000000,"v":1}',
    );
    expect(messageIdOf(goldenSell)).toBe('368964f5c2b1f208201a84bd9f755b369d01e66dbaf910cb15e7e8245602f3d4');
    expect(goldenSell.signature).toBe(
      '2bb777085fc73a433c92206a9a447e3e9f601c8eacb638c274360bc0bd71d573693c784ac5f29e488f8aa56040f12703aef3fdf48af6c44d1acbdff58c0dc404',
    );
  });

  it('verifies after a JSON round trip, whatever the key order on the wire', () => {
    const { signature, ...rest } = goldenSell;
    const wire = JSON.parse(JSON.stringify({ signature, ...rest })); // signature first on the wire
    const verdict = verifyMessage(wire, { market: 'golden-market' });
    expect(verdict.ok && verdict.verified.id).toBe(messageIdOf(goldenSell));
  });

  // biome-ignore lint/suspicious/noExplicitAny: tampering reaches into any field of a parsed message
  type Loose = Record<string, any>;
  const tamperings: [string, (m: Loose) => void][] = [
    ['energy', (m) => (m.body.energyWh += 1)],
    ['price', (m) => (m.body.priceUnitsPerWh = '0.26')],
    ['window end', (m) => (m.body.window.endMs += 1000)],
    ['minimum lot', (m) => (m.body.minLotWh = 1)],
    ['timestamp', (m) => (m.timestampMs -= 1)],
    ['sequence number', (m) => (m.seq += 1)],
    ['claimed identity', (m) => (m.identity = 'P102')],
    ['market', (m) => (m.market = 'other-market')],
    ['author key', (m) => (m.author = author('mallory').publicKey)],
    [
      'signature',
      (m) =>
        (m.signature = `${m.signature.slice(0, 10)}${m.signature[10] === '0' ? '1' : '0'}${m.signature.slice(11)}`),
    ],
    [
      'signature of another message',
      (m) => (m.signature = golden.buy(1, { energyWh: 1, maxPriceUnitsPerWh: '1', window: W1 }).signature),
    ],
  ];
  for (const [what, tamper] of tamperings)
    it(`rejects a changed ${what} as BAD_SIGNATURE`, () => {
      const copy = structuredClone(goldenSell) as Loose;
      tamper(copy);
      const verdict = verifyMessage(copy);
      expect(verdict.ok).toBe(false);
      if (!verdict.ok) expect(verdict.rejection.reason).toBe('BAD_SIGNATURE');
    });

  it('rejects a key that is not a curve point and a signature that is not hex', () => {
    const noPoint = { ...goldenSell, author: 'ff'.repeat(32) };
    const notHex = { ...goldenSell, signature: 'zz'.repeat(64) };
    for (const m of [noPoint, notHex]) {
      const verdict = verifyMessage(m);
      expect(!verdict.ok && verdict.rejection.reason).toBe('BAD_SIGNATURE');
    }
  });

  it('tells UNSIGNED from MALFORMED', () => {
    const { signature: _s, ...unsigned } = goldenSell;
    for (const m of [unsigned, { ...goldenSell, signature: '' }, { ...goldenSell, signature: null }]) {
      const verdict = verifyMessage(m);
      expect(!verdict.ok && verdict.rejection.reason).toBe('UNSIGNED');
    }
    const malformed: unknown[] = [
      null,
      [],
      'sell',
      { ...goldenSell, extra: 1 },
      { ...goldenSell, kind: 'gift' },
      { ...goldenSell, v: 2 },
      { ...goldenSell, body: { ...goldenSell.body, energyWh: 1.5 } },
      { ...goldenSell, body: { ...goldenSell.body, priceUnitsPerWh: '0.250' } },
      { ...goldenSell, body: { ...goldenSell.body, priceUnitsPerWh: '-1' } },
      { ...goldenSell, body: { ...goldenSell.body, minLotWh: 2000 } },
      { ...goldenSell, body: { ...goldenSell.body, window: { startMs: 5, endMs: 5 } } },
      { ...goldenSell, kind: 'buy' }, // a sell's body under a buy
      { ...goldenSell, author: goldenSell.author.toUpperCase() },
    ];
    for (const m of malformed) {
      const verdict = verifyMessage(m);
      expect(!verdict.ok && verdict.rejection.reason, JSON.stringify(m)?.slice(0, 80)).toBe('MALFORMED');
    }
  });

  it('will not sign what could not validate, nor with a key that is not the author', () => {
    const message = withoutSignature(
      author('alice').sell(at(1), { energyWh: 10, priceUnitsPerWh: '1', window: W1 }),
    );
    expect(() => signMessage({ ...message, seq: -1 } as never, secretKeyFromPhrase('test/alice'))).toThrow(
      /INVALID|seq/,
    );
    expect(() => signMessage(message, secretKeyFromPhrase('test/bob'))).toThrow(
      'author is not the public key',
    );
  });

  it('gives the same content the same id, and a different id per market', () => {
    const a = author('alice');
    const m: SignedMessage = a.sell(at(1), { energyWh: 10, priceUnitsPerWh: '1', window: W1 });
    const other = author('alice', 'another-market').sell(at(1), {
      energyWh: 10,
      priceUnitsPerWh: '1',
      window: W1,
    });
    expect(messageIdOf(m)).toBe(messageIdOf(withoutSignature(m)));
    expect(messageIdOf(other)).not.toBe(messageIdOf(m));
    expect(m.market).toBe(MARKET);
  });
});
