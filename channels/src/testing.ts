/**
 * Helpers for tests, test vectors and the benchmark: a deterministic byte source and simulated readings.
 * Not exported from index.ts. The deterministic source is HMAC-SHA-256 in counter mode: fine for
 * reproducible vectors, never for real keys or nonces.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ByteWriter, concatBytes, toHex, utf8ToBytes } from './bytes.js';
import type { RandomSource } from './crypto.js';
import type { ChannelMode } from './format.js';
import type { PeriodSummary, Sample } from './payload.js';
import type { PaymentApi, PaymentDescription } from './period.js';
import type { PaymentIndexer } from './period-refs.js';
import { ChannelWriter, type ChannelWriterOptions, MemoryWriterStore } from './writer.js';

export function deterministicRandom(seed: string): RandomSource {
  const key = sha256(utf8ToBytes(seed));
  let counter = 0;
  return (length) => {
    const blocks: Uint8Array[] = [];
    for (let got = 0; got < length; got += 32) {
      blocks.push(hmac(sha256, key, new ByteWriter().u32(counter++).finish()));
    }
    return concatBytes(...blocks).slice(0, length);
  };
}

/**
 * A household load at 1 Hz: 230 V mains scaled to a 12 V bus, a slow daily swing, some noise from a
 * deterministic source, and an hour of export (negative current and power) in the middle.
 */
export function simulatedSamples(count: number, startMs: number, stepMs = 1000, seed = 'samples'): Sample[] {
  const noise = deterministicRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const [a = 0, b = 0] = noise(2);
    const busVoltageMV = 12_000 + Math.round(150 * Math.sin(i / 300)) + (a % 21) - 10;
    const exporting = i % 7200 >= 3000 && i % 7200 < 3600;
    const currentMA = (exporting ? -1 : 1) * (800 + Math.round(400 * Math.sin(i / 45)) + (b % 31));
    return {
      timestampMs: startMs + i * stepMs,
      busVoltageMV,
      currentMA,
      powerMW: Math.round((busVoltageMV * currentMA) / 1000),
    };
  });
}

/** A summary over samples, as a meter-agent would close a period. */
export function summaryOf(
  periodId: string,
  samples: Sample[],
  startMs: number,
  endMs: number,
): PeriodSummary {
  let energy = 0n;
  for (let i = 1; i < samples.length; i++) {
    const dt = samples[i]!.timestampMs - samples[i - 1]!.timestampMs;
    energy += (BigInt(samples[i - 1]!.powerMW) * BigInt(dt)) / 1000n;
  }
  return { periodId, startMs, endMs, energyMWs: energy, sampleCount: samples.length };
}

/** What fakePoster returns: `post`, and the blocks it was given in order. */
export type FakePoster = ReturnType<typeof fakePoster>;

/** A fake `post`: block id = 0x + SHA-256 of the bytes; remembers what was posted. */
export function fakePoster(): {
  post: (tag: string, bytes: Uint8Array) => Promise<string>;
  blocks: Map<string, { tag: string; bytes: Uint8Array }>;
  order: string[];
} {
  const blocks = new Map<string, { tag: string; bytes: Uint8Array }>();
  const order: string[] = [];
  let n = 0;
  return {
    blocks,
    order,
    post: async (tag, bytes) => {
      const id = `0x${Array.from(sha256(concatBytes(bytes, new ByteWriter().u32(n++).finish())), (x) =>
        x.toString(16).padStart(2, '0'),
      ).join('')}`;
      blocks.set(id, { tag, bytes: bytes.slice() });
      order.push(id);
      return id;
    },
  };
}

/**
 * A writer on a fresh in-memory store posting to a fake poster, for a channel in `mode`; `options` adds or
 * replaces the rest (readers for a restricted channel, say).
 */
export async function memoryWriter(
  signingKey: Uint8Array,
  mode: ChannelMode,
  options: Partial<ChannelWriterOptions> = {},
): Promise<{ writer: ChannelWriter; poster: FakePoster }> {
  const poster = fakePoster();
  const writer = await ChannelWriter.open({
    store: new MemoryWriterStore(),
    signingKey,
    mode,
    post: poster.post,
    ...options,
  });
  return { writer, poster };
}

/** Payment transactions a fake node knows, by transaction id: the tagged data each carries. */
export type FakeTransactions = Map<string, { tag: string; data: unknown }>;

/**
 * A node that knows a poster's channel blocks and some payment transactions, answering in the REST shapes
 * NodeApi returns (tagged-data blocks, transactions with a tagged-data payload, NOT_FOUND otherwise).
 */
export function fakePaymentNode(poster: FakePoster, transactions: FakeTransactions): PaymentApi {
  const hex = (bytes: Uint8Array) => `0x${toHex(bytes)}`;
  const notFound = () => Object.assign(new Error('not found'), { code: 'NOT_FOUND' });
  return {
    async block(id) {
      const b = poster.blocks.get(id);
      if (!b) throw notFound();
      return { payload: { type: 5, tag: hex(utf8ToBytes(b.tag)), data: hex(b.bytes) } };
    },
    async blockMetadata() {
      return { referencedByMilestoneIndex: 42 };
    },
    async includedBlock(txId) {
      const tx = transactions.get(txId);
      if (!tx) throw notFound();
      const data = typeof tx.data === 'string' ? tx.data : JSON.stringify(tx.data);
      return {
        payload: {
          type: 6,
          essence: { payload: { type: 5, tag: hex(utf8ToBytes(tx.tag)), data: hex(utf8ToBytes(data)) } },
        },
      };
    },
  };
}

const HOUR = 3_600_000;

/** The payment of 1000 units for hour `index` (from `startMs`) of twoHourlyPeriods, naming its readings root. */
export function hourlyPayment(index: number, readingsHash: string, startMs: number): PaymentDescription {
  return {
    k: `meter-1/${index}`,
    o: 0,
    a: '1000',
    periodId: `meter-1/${index}`,
    periodStart: new Date(startMs + index * HOUR).toISOString(),
    periodEnd: new Date(startMs + (index + 1) * HOUR).toISOString(),
    readingsHash,
  };
}

/**
 * Two closed hourly periods `meter-1/0` and `meter-1/1` from `startMs` by a fresh in-memory writer:
 * 240 readings 30 s apart, flushed every 20 so each period has several data messages.
 */
export async function twoHourlyPeriods(
  signingKey: Uint8Array,
  mode: ChannelMode,
  readers: Uint8Array[],
  startMs: number,
) {
  const { writer, poster } = await memoryWriter(signingKey, mode, { readers });
  const samples = simulatedSamples(240, startMs, 30_000);
  const periods = [];
  for (const p of [0, 1]) {
    const from = startMs + p * HOUR;
    const mine = samples.filter((s) => s.timestampMs >= from && s.timestampMs < from + HOUR);
    for (let i = 0; i < mine.length; i += 20) {
      writer.addSamples(mine.slice(i, i + 20));
      if (i + 20 < mine.length) await writer.flush();
    }
    const summary = summaryOf(`meter-1/${p}`, mine, from, from + HOUR);
    periods.push({ closed: await writer.closePeriod(summary), summary });
  }
  return { writer, poster, periods };
}

/**
 * An indexer over a poster's channel blocks and some payment transactions, answering as the community
 * indexer's REST API does: blocks by tag prefix (hex tag and data), blocks and metadata by id (NOT_FOUND
 * otherwise), and each payer's outputs naming the transaction that spent them (`payers`: tx id → payer).
 */
export function fakeIndexer(
  poster: FakePoster,
  transactions: FakeTransactions,
  payers: Map<string, string> = new Map(),
): PaymentIndexer {
  const hex = (bytes: Uint8Array) => `0x${toHex(bytes)}`;
  const notFound = () => Object.assign(new Error('not found'), { code: 'NOT_FOUND' });
  const txBlock = (txId: string) => `0x${toHex(sha256(utf8ToBytes(txId)))}`;
  const items = () => [
    ...poster.order.map((blockId) => {
      const b = poster.blocks.get(blockId)!;
      return {
        blockId,
        tag: hex(utf8ToBytes(b.tag)),
        data: hex(b.bytes),
        milestoneIndex: 42,
        ledgerInclusionState: 'noTransaction',
      };
    }),
    ...[...transactions].map(([transactionId, tx]) => ({
      blockId: txBlock(transactionId),
      tag: hex(utf8ToBytes(tx.tag)),
      data: hex(utf8ToBytes(typeof tx.data === 'string' ? tx.data : JSON.stringify(tx.data))),
      milestoneIndex: 43,
      ledgerInclusionState: 'included',
      transactionId,
    })),
  ];
  const byTag = (tag: string) => {
    const prefix = hex(utf8ToBytes(tag));
    return items().filter((i) => i.tag.startsWith(prefix));
  };
  const node = fakePaymentNode(poster, transactions);
  return {
    allTagBlocks: async (tag) => byTag(tag),
    tagBlocks: async (tag) => ({ items: byTag(tag) }),
    async block(id) {
      const tx = [...transactions.keys()].find((t) => txBlock(t) === id);
      if (tx) return node.includedBlock(tx);
      return node.block(id);
    },
    async blockMetadata(id) {
      const found = items().find((i) => i.blockId === id);
      if (!found) throw notFound();
      return { milestoneIndex: found.milestoneIndex };
    },
    milestone: async (index) => ({ milestoneId: `0x${'ab'.repeat(32)}`, timestamp: 1_764_000_000 + index }),
    allAddressOutputs: async (bech32) =>
      [...payers]
        .filter(([, payer]) => payer === bech32)
        .map(([transactionIdSpent]) => ({
          metadata: { transactionId: `0x${'00'.repeat(32)}`, transactionIdSpent },
        })),
  };
}
