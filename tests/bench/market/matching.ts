// Market throughput: N signed offers and bids over a day of hourly windows, then
//   verify   — form + market + Ed25519 (noble, strict RFC 8032) per message, nothing else;
//   cold     — rebuildBook from scratch: validate, verify, order, match (what a household does once);
//   warm     — rebuildBook again with the signature cache filled (what a rebuild on each new message costs),
//              and of that, ordering + matching alone (warm rebuild minus the form checks);
// for both matching rules, and node:crypto's Ed25519 verify for comparison (Node-only; not the consensus
// verifier). Not a test. Run: npx tsx tests/bench/market/matching.ts [--offers 10000] [--households 200] [--runs 3]
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  type Book,
  MarketAuthor,
  matchingRules,
  randomInt,
  rebuildBook,
  type SignedMessage,
  secretKeyFromPhrase,
  seededRandom,
  signingBytes,
  verifyMessage,
} from '@tanglewatt/market';

const { values } = parseArgs({
  options: {
    offers: { type: 'string', default: '10000' },
    households: { type: 'string', default: '200' },
    runs: { type: 'string', default: '3' },
  },
});
const N = Number(values.offers);
const HOUSEHOLDS = Number(values.households);
const RUNS = Number(values.runs);
const MARKET = 'bench';
const START = Date.UTC(2024, 5, 1);
const HOUR = 3_600_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timed<T>(f: () => T): { result: T; ms: number } {
  const t0 = performance.now();
  const result = f();
  return { result, ms: performance.now() - t0 };
}

const perSecond = (count: number, ms: number) => Math.round((count * 1000) / ms).toLocaleString('en');

// Orders: households alternate producer/consumer; each order is for one of 24 hourly windows, posted in
// the hour before it, prices overlapping so that about half the energy trades.
const random = seededRandom(42);
const authors = Array.from(
  { length: HOUSEHOLDS },
  (_, i) => new MarketAuthor(secretKeyFromPhrase(`bench/${i}`), `H${i}`, MARKET),
);
const signing = timed(() => {
  const drafts = Array.from({ length: N }, (_, i) => {
    const slot = randomInt(random, 1, 24);
    return { i, slot, t: START + (slot - 1) * HOUR + randomInt(random, 0, HOUR - 1) };
  }).sort((a, b) => a.t - b.t || a.i - b.i); // each author's seq then rises with time
  return drafts.map(({ i, slot, t }): SignedMessage => {
    const author = authors[i % HOUSEHOLDS]!;
    const window = { startMs: START + slot * HOUR, endMs: START + (slot + 1) * HOUR };
    const energyWh = randomInt(random, 100, 3000);
    return i % HOUSEHOLDS < HOUSEHOLDS / 2
      ? author.sell(t, {
          energyWh,
          priceUnitsPerWh: String(randomInt(random, 180, 320)),
          window,
          minLotWh: 50,
        })
      : author.buy(t, { energyWh, maxPriceUnitsPerWh: String(randomInt(random, 200, 340)), window });
  });
});
const messages = signing.result;
const wire = messages.map((m) => JSON.parse(JSON.stringify(m)) as unknown);
const options = { market: MARKET, nowMs: START + 24 * HOUR, capacityWh: () => Number.MAX_SAFE_INTEGER };

console.log(
  `${N} orders (${HOUSEHOLDS} households, 24 hourly windows), signed in ${Math.round(signing.ms)} ms`,
);
console.log(`node ${process.version}, ${process.arch}; median of ${RUNS} runs\n`);

const verifyMs: number[] = [];
for (let r = 0; r < RUNS; r++)
  verifyMs.push(timed(() => wire.map((m) => verifyMessage(m, { market: MARKET }))).ms);
console.log(`verify (noble)            ${perSecond(N, median(verifyMs)).padStart(8)} messages/s`);

const spki = (hex: string) =>
  createPublicKey({ key: Buffer.from(`302a300506032b6570032100${hex}`, 'hex'), format: 'der', type: 'spki' });
const nodeMs: number[] = [];
for (let r = 0; r < RUNS; r++)
  nodeMs.push(
    timed(() =>
      messages.map((m) => nodeVerify(null, signingBytes(m), spki(m.author), Buffer.from(m.signature, 'hex'))),
    ).ms,
  );
console.log(
  `verify (node:crypto)      ${perSecond(N, median(nodeMs)).padStart(8)} messages/s  (comparison only)\n`,
);

for (const rule of matchingRules) {
  const cold: number[] = [];
  const warm: number[] = [];
  const validate: number[] = [];
  let book: Book | undefined;
  for (let r = 0; r < RUNS; r++) {
    const signatureCache = new Set<string>();
    const first = timed(() => rebuildBook(wire, { ...options, rule, signatureCache }));
    cold.push(first.ms);
    warm.push(timed(() => rebuildBook(wire, { ...options, rule, signatureCache })).ms);
    validate.push(timed(() => wire.map((m) => verifyMessage(m, { market: MARKET, signatureCache }))).ms);
    book = first.result;
  }
  const matchMs = Math.max(1e-3, median(warm) - median(validate));
  const tradedWh = book!.trades.reduce((a, t) => a + t.energyWh, 0);
  console.log(
    `${rule.padEnd(4)} cold rebuild         ${perSecond(N, median(cold)).padStart(8)} orders/s  (${Math.round(median(cold))} ms)`,
  );
  console.log(
    `${rule.padEnd(4)} warm rebuild         ${perSecond(N, median(warm)).padStart(8)} orders/s  (${Math.round(median(warm))} ms)`,
  );
  console.log(
    `${rule.padEnd(4)} order + match only   ${perSecond(N, matchMs).padStart(8)} orders/s  (warm rebuild − form checks, ${Math.round(matchMs)} ms)`,
  );
  console.log(
    `${rule.padEnd(4)} result               ${book!.accepted.length} accepted, ${book!.rejections.length} rejected, ${book!.trades.length} trades, ${(tradedWh / 1000).toFixed(1)} kWh\n`,
  );
}
