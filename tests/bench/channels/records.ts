/**
 * Records benchmark: a day of one meter's restricted channel (1 Hz readings, 60 s messages, hourly periods,
 * each its own epoch), exported as verifiable records and checked offline: bytes per record and per day,
 * records exported and verified per second.
 *
 *   npx tsx tests/bench/channels/records.ts
 */
import {
  ed25519PublicKey,
  exportRecords,
  recordLine,
  staticSigners,
  verifyRecords,
  x25519PublicKey,
} from '@tanglewatt/channels';
import {
  deterministicRandom,
  fakePaymentNode,
  memoryWriter,
  simulatedSamples,
  summaryOf,
} from '@tanglewatt/channels/testing';

const T0 = Date.parse('2026-11-24T00:00:00Z');
const HOUR = 3_600_000;
const HOURS = 24;
const keys = deterministicRandom('records bench keys');
const meterKey = keys(32);
const readerKey = keys(32);
const publicKey = ed25519PublicKey(meterKey);

const { writer, poster } = await memoryWriter(meterKey, 'restricted', {
  readers: [x25519PublicKey(readerKey)],
});
const payments = [];
for (let h = 0; h < HOURS; h++) {
  const samples = simulatedSamples(3600, T0 + h * HOUR, 1000, `hour ${h}`);
  for (let i = 0; i < samples.length; i += 60) {
    writer.addSamples(samples.slice(i, i + 60));
    if (i + 60 < samples.length) await writer.flush();
  }
  const closed = await writer.closePeriod(
    summaryOf(`bench/${h}`, samples, T0 + h * HOUR, T0 + (h + 1) * HOUR),
  );
  const first = writer.message(closed.fromSeq)!;
  payments.push({
    id: writer.channelId,
    fromSeq: closed.fromSeq,
    toSeq: closed.toSeq,
    lastBlockId: writer.message(closed.toSeq)!.blockId!,
    epochs: { [String(first.epoch)]: first.blockId! },
  });
}

let started = performance.now();
const exported = await exportRecords({
  blocks: fakePaymentNode(poster, new Map()),
  channelId: writer.channelId,
  signers: staticSigners([publicKey]),
  publicKeys: [publicKey],
  readerSecretKey: readerKey,
  payments,
});
const exportMs = performance.now() - started;
const text = exported.records.map((r) => `${recordLine(r)}\n`).join('');
started = performance.now();
const verdict = await verifyRecords(text);
const verifyMs = performance.now() - started;
if (!verdict.ok || exported.failures.length) throw new Error('the benchmark channel did not verify');

const n = exported.records.length;
const bytes = new TextEncoder().encode(text).length;
process.stdout.write(
  `${HOURS} h at 1 Hz, 60 s messages: ${n} records, ${(bytes / n).toFixed(0)} B per record, ${(bytes / 1e6).toFixed(2)} MB per day\n` +
    `export (open + verify + build): ${((n / exportMs) * 1000).toFixed(0)} records/s; verify-records: ${((n / verifyMs) * 1000).toFixed(0)} records/s\n`,
);
