/**
 * Builds the channel test vectors from fixed inputs. `npx tsx channels/test-vectors/generate.ts` rewrites
 * the JSON files; channels/src/vectors.test.ts checks that the code still produces exactly them and reads
 * them back. Keys here are test keys: never use them for anything else.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromHex, toHex } from '../src/bytes.js';
import { channelIdHex, ed25519PublicKey, x25519PublicKey } from '../src/crypto.js';
import { merkleRootHex } from '../src/merkle.js';
import { decodeDataPayload, encodeDataPayload, type PeriodSummary, type Sample } from '../src/payload.js';
import { verifyEntries } from '../src/reader.js';
import { staticSigners } from '../src/signers.js';
import type { SourceEntry } from '../src/sources.js';
import { deterministicRandom, fakePoster, simulatedSamples, summaryOf } from '../src/testing.js';
import { ChannelWriter, MemoryWriterStore } from '../src/writer.js';

export const RANDOM_DESCRIPTION =
  'bytes from HMAC-SHA-256(key = SHA-256(UTF-8 seed), message = counter as u32 big-endian), counter from 0, ' +
  'outputs concatenated and cut to length per call; the writer draws, in order: per announcement the epoch ' +
  'key (32), per reader the ephemeral X25519 secret (32), then the nonce (12); per sealed data message the nonce (12)';

type SampleRow = [timestampMs: number, busVoltageMV: number, currentMA: number, powerMW: number];
const row = (s: Sample): SampleRow => [s.timestampMs, s.busVoltageMV, s.currentMA, s.powerMW];
export const fromRow = ([timestampMs, busVoltageMV, currentMA, powerMW]: SampleRow): Sample => ({
  timestampMs,
  busVoltageMV,
  currentMA,
  powerMW,
});
const summaryJson = (s: PeriodSummary) => ({ ...s, energyMWs: s.energyMWs.toString() });

const T0 = Date.parse('2026-11-24T05:00:00Z');

async function channelVector(mode: 'public' | 'restricted') {
  const keySeed = deterministicRandom(`tanglewatt channel v1 vectors: ${mode} keys`);
  const meter = keySeed(32);
  const consumer = keySeed(32);
  const auditor = keySeed(32);
  const seed = `tanglewatt channel v1 vectors: ${mode} writer`;
  const poster = fakePoster();
  const writer = await ChannelWriter.open({
    store: new MemoryWriterStore(),
    signingKey: meter,
    mode,
    readers: [x25519PublicKey(consumer), x25519PublicKey(auditor)],
    post: poster.post,
    random: deterministicRandom(seed),
  });
  const samples = simulatedSamples(8, T0, 15_000, `${mode} samples`);
  writer.addSamples(samples.slice(0, 4));
  await writer.flush();
  writer.addSamples(samples.slice(4, 6));
  await writer.flush();
  const period = await writer.closePeriod({
    ...summaryOf('meter-1/2026-11-24T05', samples.slice(0, 6), T0, T0 + 90_000),
  });
  if (mode === 'restricted') await writer.setReaders([x25519PublicKey(consumer)]);
  writer.addSamples(samples.slice(6));
  await writer.flush();

  const entries: SourceEntry[] = writer
    .blockIndex()
    .map(({ seq, blockId }) => ({ seq, ...poster.blocks.get(blockId)! }));
  const read = verifyEntries(entries, {
    channelId: writer.channelId,
    signers: staticSigners([ed25519PublicKey(meter)]),
    readerSecretKey: consumer,
  });
  if (!read.ok) throw new Error(`vector channel does not verify: ${JSON.stringify(read.failures)}`);
  const auditorRead = verifyEntries(entries, {
    channelId: writer.channelId,
    signers: staticSigners([ed25519PublicKey(meter)]),
    readerSecretKey: auditor,
  });

  const small = read.messages.find((m) => m.kind === 'data')!;
  return {
    description: `A ${mode} channel: two data messages, a period close${mode === 'restricted' ? ' (and the new epoch it starts), the auditor removed' : ''}, one more data message.`,
    format: 'tanglewatt channel v1 (channels/README.md)',
    random: { seed, algorithm: RANDOM_DESCRIPTION },
    meter: {
      ed25519SecretKey: toHex(meter),
      ed25519PublicKey: toHex(ed25519PublicKey(meter)),
      channelId: channelIdHex(ed25519PublicKey(meter)),
    },
    readers:
      mode === 'restricted'
        ? Object.fromEntries(
            Object.entries({ consumer, auditor }).map(([name, k]) => [
              name,
              { x25519SecretKey: toHex(k), x25519PublicKey: toHex(x25519PublicKey(k)) },
            ]),
          )
        : {},
    messages: read.messages.map((m, i) => ({
      seq: m.seq,
      kind: m.kind,
      epoch: m.epoch,
      tag: entries[i]!.tag,
      hash: m.hash,
      wire: toHex(entries[i]!.bytes!),
      samples: m.samples.map(row),
      summaries: m.summaries.map(summaryJson),
      ...(m.readers ? { readers: m.readers } : {}),
    })),
    epochKeys: writer.epochKeys().map(([epoch, key]) => ({ epoch, key: toHex(key) })),
    periods: [{ ...period, rootOf: `merkleRoot(hash of seq ${period.fromSeq}..${period.toSeq})` }],
    reads: [
      {
        reader: mode === 'restricted' ? 'consumer' : 'anyone',
        verified: read.messages.map((m) => m.seq),
        failures: [],
      },
      ...(mode === 'restricted'
        ? [
            {
              reader: 'auditor',
              verified: auditorRead.messages.map((m) => m.seq),
              failures: auditorRead.failures.map(({ reason, seq }) => ({ reason, seq })),
            },
            { reader: 'none', verified: [], failures: [{ reason: 'WRONG_KEY', seq: 0 }] },
          ]
        : []),
    ],
    /** Single-byte changes of the message with seq `seq` (XOR with `xor`), and what the reader must say. */
    tampering: tamperCases(mode, entries, small.seq),
  };
}

function tamperCases(mode: 'public' | 'restricted', entries: SourceEntry[], seq: number) {
  const length = entries[seq]!.bytes!.length;
  const at =
    mode === 'public'
      ? [
          [0, 'MALFORMED', 'version'],
          [2, 'MALFORMED', 'kind'],
          [10, 'WRONG_CHANNEL', 'channel id'],
          [38, 'BAD_SIGNATURE', 'seq'],
          [50, 'BAD_SIGNATURE', 'prev hash'],
          [90, 'BAD_SIGNATURE', 'prev block id'],
          [110, 'BAD_SIGNATURE', 'fromMs (low byte)'],
          [104, 'MALFORMED', 'fromMs (top byte: beyond 2^53)'],
          [126, 'BAD_SIGNATURE', 'key id'],
          [135, 'MALFORMED', 'payload length'],
          [140, 'BAD_SIGNATURE', 'payload'],
          [length - 1, 'BAD_SIGNATURE', 'signature'],
        ]
      : [
          [0, 'MALFORMED', 'version'],
          [1, 'MALFORMED', 'mode'],
          [3, 'MALFORMED', 'wrap count'],
          [5, 'BAD_SIGNATURE', 'nonce'],
          [30, 'BAD_SIGNATURE', 'key check'],
          [60, 'BAD_SIGNATURE', 'ciphertext'],
          [length - 1, 'BAD_SIGNATURE', 'GCM tag'],
        ];
  return at.map(([byte, reason, field]) => ({ seq, byte, xor: 1, field, reason }));
}

function payloadVector() {
  const samples = simulatedSamples(5, T0, 1000, 'payload vector');
  const summaries = [summaryOf('meter-1/p', samples, T0, T0 + 5000)];
  const cases = [
    { name: 'one reading (stored raw)', samples: samples.slice(0, 1), summaries: [] as PeriodSummary[] },
    { name: 'five readings and a summary', samples, summaries },
    { name: 'a minute at 1 Hz (deflated)', samples: simulatedSamples(60, T0, 1000, 'minute'), summaries: [] },
  ];
  return {
    description: 'Data payloads: readings (timestampMs, mV, mA, mW) and summaries, times relative to baseMs.',
    cases: cases.map((c) => {
      const encoded = encodeDataPayload({ samples: c.samples, summaries: c.summaries }, T0);
      const back = decodeDataPayload(encoded, T0);
      if (JSON.stringify(back.samples) !== JSON.stringify(c.samples)) throw new Error('payload round trip');
      return {
        name: c.name,
        baseMs: T0,
        samples: c.samples.map(row),
        summaries: c.summaries.map(summaryJson),
        encoded: toHex(encoded),
      };
    }),
  };
}

function merkleVector() {
  const hashes = Array.from({ length: 7 }, (_, i) => toHex(deterministicRandom(`leaf ${i}`)(32)));
  return {
    description:
      'RFC 6962 Merkle tree hash over SHA-256 of 32-byte message hashes (leaf 0x00, node 0x01 prefixes).',
    cases: [1, 2, 3, 5, 7].map((n) => ({
      leaves: hashes.slice(0, n),
      root: merkleRootHex(hashes.slice(0, n).map((h) => fromHex(h))),
    })),
  };
}

export async function buildVectors(): Promise<Record<string, unknown>> {
  return {
    'public-channel.json': await channelVector('public'),
    'restricted-channel.json': await channelVector('restricted'),
    'payload.json': payloadVector(),
    'merkle.json': merkleVector(),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = fileURLToPath(new URL('.', import.meta.url));
  for (const [name, vector] of Object.entries(await buildVectors())) {
    writeFileSync(`${dir}${name}`, `${JSON.stringify(vector, null, 2)}\n`);
    process.stdout.write(`wrote ${dir}${name}\n`);
  }
}
