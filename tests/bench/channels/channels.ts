/**
 * Channel benchmark: messages per second sealed (encode + sign + encrypt) and opened (decrypt + verify +
 * decode), and bytes per hour per meter at 1 Hz sampling with 60 s batches.
 *
 *   npx tsx tests/bench/channels/channels.ts                 # CPU figures, bytes computed for 8-parent blocks
 *   npx tsx tests/bench/channels/channels.ts --node <url>    # also posts an hour to that node, measures real blocks
 */
import { cpus } from 'node:os';
import {
  ChannelWriter,
  type EpochKey,
  ed25519PublicKey,
  epochKey,
  MemoryWriterStore,
  type SealedMessage,
  sealPublicData,
  sealRestrictedData,
  staticSigners,
  verifyEntries,
  x25519PublicKey,
} from '@tanglewatt/channels';
import { deterministicRandom, fakePoster, simulatedSamples, summaryOf } from '@tanglewatt/channels/testing';
import { LedgerClient, NodeApi } from '@tanglewatt/ledger';

const T0 = Date.parse('2026-11-24T05:00:00Z');
const HOUR = 3_600_000;
const keys = deterministicRandom('bench keys');
const meterKey = keys(32);
const signer = { secretKey: meterKey, publicKey: ed25519PublicKey(meterKey) };
const readers = [keys(32), keys(32)];
const signers = staticSigners([signer.publicKey]);

/** Bytes of a tagged-data block (TIP-24/TIP-23): version, parents, payload length, type, tag, data, nonce. */
function blockBytes(tag: string, dataBytes: number, parents: number): number {
  return 1 + 1 + 32 * parents + 4 + 4 + 1 + new TextEncoder().encode(tag).length + 4 + dataBytes + 8;
}

function rate(label: string, count: number, ms: number): number {
  const perSecond = (count / ms) * 1000;
  process.stdout.write(
    `${label.padEnd(52)} ${perSecond.toFixed(0).padStart(7)} msg/s  (${(ms / count).toFixed(3)} ms each)\n`,
  );
  return perSecond;
}

function timed<T>(run: () => T): [T, number] {
  const start = performance.now();
  const result = run();
  return [result, performance.now() - start];
}

/** Readings for `count` minutes, made before the clock starts. */
function minutes(count: number) {
  const all = simulatedSamples(60 * count, T0);
  return Array.from({ length: count }, (_, i) => all.slice(i * 60, (i + 1) * 60));
}

function sealMany(
  mode: 'public' | 'restricted',
  batches: ReturnType<typeof minutes>,
  epoch: EpochKey,
): SealedMessage[] {
  const channelId = new Uint8Array(32).fill(1);
  const out: SealedMessage[] = [];
  let prevHash: Uint8Array = new Uint8Array(32);
  for (const [i, samples] of batches.entries()) {
    const position = {
      channelId,
      seq: i + 1,
      prevHash: i === 0 ? new Uint8Array(32).fill(2) : prevHash,
      prevBlockId: new Uint8Array(32).fill(3),
      fromMs: samples[0]!.timestampMs,
      toMs: samples.at(-1)!.timestampMs,
    };
    const data = { samples, summaries: [] };
    const sealed =
      mode === 'public'
        ? sealPublicData(position, data, signer)
        : sealRestrictedData(position, data, signer, epoch);
    prevHash = sealed.hash;
    out.push(sealed);
  }
  return out;
}

/** One hour through the real writer: 3600 readings, a message a minute, the period closed at the end. */
async function anHour(
  mode: 'public' | 'restricted',
  post: (tag: string, bytes: Uint8Array) => Promise<string>,
) {
  const writer = await ChannelWriter.open({
    store: new MemoryWriterStore(),
    signingKey: meterKey,
    mode,
    readers: readers.map(x25519PublicKey),
    post,
  });
  const samples = simulatedSamples(3600, T0);
  const posted = [];
  for (let m = 0; m < 59; m++) {
    writer.addSamples(samples.slice(m * 60, (m + 1) * 60));
    posted.push(...(await writer.flush()));
  }
  writer.addSamples(samples.slice(59 * 60));
  await writer.closePeriod(summaryOf('meter-1/h', samples, T0, T0 + HOUR));
  // Everything the writer posted in the hour, including the next period's epoch announcement.
  return writer.blockIndex().map(({ seq }) => writer.message(seq)!);
}

async function main(): Promise<void> {
  const nodeArg = process.argv.indexOf('--node');
  const nodeUrl = nodeArg > 0 ? process.argv[nodeArg + 1] : undefined;
  process.stdout.write(
    `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores)\n\n`,
  );

  const epoch = epochKey(1, keys(32));
  const N = 2000;
  const batches = minutes(N);
  sealMany('restricted', batches.slice(0, 100), epoch); // warm-up
  const [publicSealed, publicMs] = timed(() => sealMany('public', batches, epoch));
  rate('seal public (encode + deflate + sign), 60 readings', N, publicMs);
  const [restrictedSealed, restrictedMs] = timed(() => sealMany('restricted', batches, epoch));
  rate('seal restricted (… + AES-256-GCM), 60 readings', N, restrictedMs);
  const publicEntries = publicSealed.map((s) => ({ bytes: s.bytes }));
  const restrictedEntries = restrictedSealed.map((s) => ({ bytes: s.bytes }));
  const read = (entries: { bytes: Uint8Array }[], restricted: boolean) => {
    const result = verifyEntries(entries, {
      channelId: new Uint8Array(32).fill(1),
      signers,
      startAnywhere: true,
      ...(restricted ? { epochKeys: [[1, epoch.key] as [number, Uint8Array]] } : {}),
    });
    if (!result.ok) throw new Error(JSON.stringify(result.failures[0]));
  };
  rate('open public (verify + inflate + decode + chain)', N, timed(() => read(publicEntries, false))[1]);
  rate('open restricted (decrypt + verify + … + chain)', N, timed(() => read(restrictedEntries, true))[1]);

  process.stdout.write('\nOne meter, one hour: 1 Hz readings, a message every 60 s, period closed hourly\n');
  for (const mode of ['public', 'restricted'] as const) {
    const hour = await anHour(mode, fakePoster().post);
    const data = hour.reduce((n, m) => n + m.wireBytes, 0);
    const blocks8 = hour.reduce((n, m) => n + blockBytes(m.tag, m.wireBytes, 8), 0);
    const blocks2 = hour.reduce((n, m) => n + blockBytes(m.tag, m.wireBytes, 2), 0);
    process.stdout.write(
      `  ${mode.padEnd(10)} ${hour.length} messages, ${data} B of message data (${Math.round(data / hour.length)} B each); ` +
        `blocks: ${blocks2} B with 2 parents … ${blocks8} B with 8 parents per hour\n`,
    );
  }

  if (nodeUrl) {
    process.stdout.write(`\nThe same restricted hour posted to ${nodeUrl}\n`);
    const client = new LedgerClient(nodeUrl);
    const api = new NodeApi(nodeUrl);
    const started = performance.now();
    const ids: string[] = [];
    await anHour('restricted', async (tag, bytes) => {
      const id = await client.postTaggedData(tag, bytes);
      ids.push(id);
      return id;
    });
    const postMs = performance.now() - started;
    let total = 0;
    let parents = 0;
    for (const id of ids) {
      const res = await fetch(`${api.url}/api/core/v2/blocks/${id}`, {
        headers: { accept: 'application/vnd.iota.serializer-v1' },
      });
      total += (await res.arrayBuffer()).byteLength;
      parents += (await api.block(id)).parents.length;
    }
    await client.destroy();
    process.stdout.write(
      `  ${ids.length} blocks posted in ${(postMs / 1000).toFixed(1)} s; ${total} B of blocks on the Tangle per hour ` +
        `(${Math.round(total / ids.length)} B per block, ${(parents / ids.length).toFixed(1)} parents on average)\n`,
    );
  }
}

await main();
