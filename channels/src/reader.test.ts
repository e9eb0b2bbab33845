import { describe, expect, it } from 'vitest';
import { toHex } from './bytes.js';
import { ed25519PublicKey, x25519PublicKey } from './crypto.js';
import type { ReadFailureReason } from './errors.js';
import { HEADER_BYTES, NONCE_BYTES, SIGNATURE_BYTES, WRAP_BYTES } from './format.js';
import { sealPublicData } from './message.js';
import { type ReadOptions, verifyEntries } from './reader.js';
import { didHistorySigners, seqScheduleSigners, staticSigners } from './signers.js';
import { MemorySource, type SourceEntry } from './sources.js';
import { deterministicRandom, memoryWriter, simulatedSamples } from './testing.js';

const T0 = 1_795_500_000_000;
const keys = deterministicRandom('reader.test keys');
const meterKey = keys(32);
const consumerKey = keys(32);
const auditorKey = keys(32);
const strangerKey = keys(32);

/** A channel of `messages` data messages of `perMessage` readings each, through the real writer. */
async function channel(
  mode: 'public' | 'restricted',
  messages: number,
  perMessage = 3,
  readers = [consumerKey, auditorKey],
) {
  const { writer, poster } = await memoryWriter(meterKey, mode, {
    readers: readers.map(x25519PublicKey),
    random: deterministicRandom(`channel ${mode}`),
  });
  const samples = simulatedSamples(messages * perMessage, T0);
  for (let i = 0; i < messages; i++) {
    writer.addSamples(samples.slice(i * perMessage, (i + 1) * perMessage));
    await writer.flush();
  }
  const wires = poster.order.map((id) => poster.blocks.get(id)!.bytes);
  const entries: SourceEntry[] = poster.order.map((id, seq) => ({
    seq,
    blockId: id,
    bytes: poster.blocks.get(id)!.bytes,
    tag: poster.blocks.get(id)!.tag,
  }));
  return { writer, wires, entries, samples, poster };
}

const signers = staticSigners([ed25519PublicKey(meterKey)]);

function read(entries: SourceEntry[], channelId: string, extra: Partial<ReadOptions> = {}) {
  return verifyEntries(entries, { channelId, signers, ...extra });
}

const flip = (bytes: Uint8Array, at: number, mask = 0x01) => {
  const out = bytes.slice();
  out[at]! ^= mask;
  return out;
};

describe('public channel', () => {
  it('verifies every message and gives back every reading bit-exact', async () => {
    const { writer, entries, samples } = await channel('public', 4);
    const result = read(entries, writer.channelId);
    expect(result.failures).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.anchored).toBe(true);
    expect(result.messages.map((m) => m.seq)).toEqual([0, 1, 2, 3]);
    expect(result.messages.flatMap((m) => m.samples)).toEqual(samples);
    expect(result.messages[1]!.prevHash).toBe(result.messages[0]!.hash);
    expect(result.messages[1]!.prevBlockId).toBe(entries[0]!.blockId);
  });

  it('catches a change of any single byte, with the reason for the field it hit', async () => {
    const { writer, entries } = await channel('public', 3);
    const target = entries[1]!.bytes!;
    const expected = (i: number, mask: number): ReadFailureReason => {
      if (i < 4) return 'MALFORMED'; // version, mode, kind, reserved
      if (i < 36) return 'WRONG_CHANNEL'; // channel id
      // A time pushed to 2^53 or beyond (its top 11 bits) is not parsed at all.
      if (i === 104 || i === 112 || ((i === 105 || i === 113) && mask >= 0x20)) return 'MALFORMED';
      if (i >= 132 && i < HEADER_BYTES) return 'MALFORMED'; // payload length
      return 'BAD_SIGNATURE'; // seq, links, times, epoch, key id, payload, signature
    };
    const seen = new Set<ReadFailureReason>();
    for (let i = 0; i < target.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const tampered = entries.map((e, k) => (k === 1 ? { ...e, bytes: flip(target, i, mask) } : e));
        const result = read(tampered, writer.channelId);
        expect(
          result.messages.map((m) => m.seq),
          `byte ${i}`,
        ).toEqual([0]);
        expect(result.failures[0], `byte ${i} ^ ${mask}`).toMatchObject({
          position: 1,
          seq: 1,
          reason: expected(i, mask),
        });
        seen.add(expected(i, mask));
      }
    }
    expect(target.length - SIGNATURE_BYTES).toBeGreaterThan(HEADER_BYTES);
    expect([...seen].sort()).toEqual(['BAD_SIGNATURE', 'MALFORMED', 'WRONG_CHANNEL']);
  });

  it('reports a reordered index as BROKEN_CHAIN', async () => {
    const { writer, entries } = await channel('public', 4);
    const swapped = [entries[0]!, { ...entries[2]!, seq: 1 }, { ...entries[1]!, seq: 2 }, entries[3]!];
    const result = read(swapped, writer.channelId);
    expect(result.messages.map((m) => m.seq)).toEqual([0]);
    expect(result.failures).toMatchObject([{ reason: 'BROKEN_CHAIN', position: 1, seq: 2 }]);
    expect(result.failures[0]!.detail).toMatch(/filed under seq 1 but is seq 2/);
  });

  it('reports messages delivered out of order as BROKEN_CHAIN, not GAP', async () => {
    const { writer, wires } = await channel('public', 4);
    const source = MemorySource.ordered([wires[0]!, wires[2]!, wires[1]!, wires[3]!]);
    const result = read(await source.list(), writer.channelId);
    expect(result.failures).toMatchObject([{ reason: 'BROKEN_CHAIN', position: 1, seq: 2 }]);
    expect(result.failures[0]!.detail).toMatch(/out of order/);
  });

  it('reports a dropped message as GAP with the missing sequence number', async () => {
    const { writer, wires, entries } = await channel('public', 4);
    const ordered = read(
      await MemorySource.ordered([wires[0]!, wires[1]!, wires[3]!]).list(),
      writer.channelId,
    );
    expect(ordered.messages.map((m) => m.seq)).toEqual([0, 1]);
    expect(ordered.failures).toMatchObject([{ reason: 'GAP', seq: 2, position: 2 }]);
    const missingBlock: SourceEntry = {
      seq: 2,
      blockId: '0xdead',
      missing: { reason: 'GAP', detail: 'block 0xdead not found' },
    };
    const indexed = read([entries[0]!, entries[1]!, missingBlock, entries[3]!], writer.channelId);
    expect(indexed.failures).toMatchObject([{ reason: 'GAP', seq: 2, blockId: '0xdead' }]);
    const firstMissing = read(entries.slice(1), writer.channelId);
    expect(firstMissing.failures).toMatchObject([{ reason: 'GAP', seq: 0 }]);
  });

  it('reports the same message twice, and a second message with a used seq, as REPLAY', async () => {
    const { writer, wires, entries } = await channel('public', 3);
    const again = read(
      await MemorySource.ordered([wires[0]!, wires[1]!, wires[1]!, wires[2]!]).list(),
      writer.channelId,
    );
    expect(again.failures).toMatchObject([{ reason: 'REPLAY', seq: 1, position: 2 }]);
    expect(again.failures[0]!.detail).toMatch(/same message/);
    const indexedTwice = read([entries[0]!, entries[1]!, { ...entries[1]!, seq: 2 }], writer.channelId);
    expect(indexedTwice.failures).toMatchObject([{ reason: 'REPLAY', position: 2 }]);
    // The meter signing another message for seq 1 (what a journal-less restart would do): a fork.
    const forged = sealPublicData(
      {
        channelId: wires[0]!.subarray(4, 36),
        seq: 1,
        prevHash: fromHexHash(again.messages[0]!.hash),
        prevBlockId: new Uint8Array(32),
        fromMs: T0 + 5000,
        toMs: T0 + 5000,
      },
      { samples: simulatedSamples(1, T0 + 5000), summaries: [] },
      { secretKey: meterKey, publicKey: ed25519PublicKey(meterKey) },
    );
    const fork = read(
      await MemorySource.ordered([wires[0]!, wires[1]!, forged.bytes]).list(),
      writer.channelId,
    );
    expect(fork.failures).toMatchObject([{ reason: 'REPLAY', seq: 1, position: 2 }]);
    expect(fork.failures[0]!.detail).toMatch(/different message with seq 1/);
  });

  it('reports another meter’s message as WRONG_CHANNEL and a stranger’s key as BAD_SIGNATURE', async () => {
    const { writer, entries } = await channel('public', 2);
    const result = read(entries, toHex(new Uint8Array(32).fill(9)));
    expect(result.failures).toMatchObject([{ reason: 'WRONG_CHANNEL', seq: 0 }]);
    const otherKeys = verifyEntries(entries, {
      channelId: writer.channelId,
      signers: staticSigners([ed25519PublicKey(strangerKey)]),
    });
    expect(otherKeys.failures).toMatchObject([{ reason: 'BAD_SIGNATURE', seq: 0 }]);
    expect(otherKeys.failures[0]!.detail).toMatch(/not one of the 1 given/);
    const misfiled = read(
      [{ ...entries[0]!, tag: 'tw/ch/v1/00000000000000000000000000000000' }],
      writer.channelId,
    );
    expect(misfiled.failures).toMatchObject([{ reason: 'WRONG_CHANNEL' }]);
  });

  it('reports every failure when asked, and continues after each', async () => {
    const { writer, entries } = await channel('public', 6);
    const damaged = entries
      .filter((_, i) => i !== 2)
      .map((e) => (e.seq === 4 ? { ...e, bytes: flip(e.bytes!, 200) } : { ...e, seq: undefined }));
    const result = read(damaged, writer.channelId, { allFailures: true });
    expect(result.failures.map((f) => [f.reason, f.seq])).toEqual([
      ['GAP', 2],
      ['BAD_SIGNATURE', 4],
      ['GAP', 4],
    ]);
    expect(result.messages.map((m) => m.seq)).toEqual([0, 1]);
  });

  it('starts mid-channel when told to, and says the start is not anchored', async () => {
    const { writer, entries } = await channel('public', 4);
    const tail = entries.slice(2).map(({ seq: _seq, ...e }) => e);
    const result = read(tail, writer.channelId, { startAnywhere: true });
    expect(result.ok).toBe(true);
    expect(result.anchored).toBe(false);
    const anchored = read(tail, writer.channelId, {
      startAnywhere: true,
      prevHash: read(entries, writer.channelId).messages[1]!.hash,
    });
    expect(anchored.anchored).toBe(true);
  });
});

function fromHexHash(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!.map((h) => Number.parseInt(h, 16)));
}

describe('restricted channel', () => {
  it('a reader with its key rebuilds every reading; without a key it sees only ciphertext', async () => {
    const { writer, entries, samples } = await channel('restricted', 3);
    const consumer = read(entries, writer.channelId, { readerSecretKey: consumerKey });
    expect(consumer.failures).toEqual([]);
    expect(consumer.messages.map((m) => m.kind)).toEqual(['epoch', 'data', 'data', 'data']);
    expect(consumer.messages.flatMap((m) => m.samples)).toEqual(samples);
    expect(consumer.messages[0]!.readers).toEqual(
      [consumerKey, auditorKey].map((k) => toHex(x25519PublicKey(k))),
    );
    const nobody = read(entries, writer.channelId);
    expect(nobody.messages).toEqual([]);
    expect(nobody.failures).toMatchObject([{ reason: 'WRONG_KEY', seq: 0, position: 0 }]);
    const stranger = read(entries, writer.channelId, { readerSecretKey: strangerKey });
    expect(stranger.failures).toMatchObject([{ reason: 'WRONG_KEY', seq: 0 }]);
    expect(stranger.failures[0]!.detail).toMatch(/not authorised/);
    // The owner reads with the epoch keys from its journal.
    expect(read(entries, writer.channelId, { epochKeys: writer.epochKeys() }).ok).toBe(true);
  });

  it('hides what links messages: no channel id, seq or hash in the clear, unrelated tags', async () => {
    const { writer, entries } = await channel('restricted', 3);
    const id = writer.channelId;
    for (const e of entries) {
      expect(toHex(e.bytes!)).not.toContain(id.slice(0, 16));
      expect(e.tag).toMatch(/^tw\/ch\/v1\/r\/[0-9a-f]{32}$/);
    }
    const hashes = read(entries, id, { readerSecretKey: consumerKey }).messages.map((m) =>
      m.hash.slice(0, 16),
    );
    for (const e of entries) for (const h of hashes) expect(toHex(e.bytes!)).not.toContain(h);
    expect(new Set(entries.map((e) => e.tag)).size).toBe(entries.length);
  });

  it('catches a change of any single byte of a sealed data message', async () => {
    const { writer, entries } = await channel('restricted', 2);
    const target = entries[2]!.bytes!; // seq 2: a data message
    const expected = (i: number): ReadFailureReason => {
      if (i < 4) return 'MALFORMED'; // version, mode, kind, wrap count
      return 'BAD_SIGNATURE'; // nonce, key check, ciphertext, GCM tag: altered under the key it must have
    };
    for (let i = 0; i < target.length; i++) {
      const tampered = entries.map((e, k) => (k === 2 ? { ...e, bytes: flip(target, i) } : e));
      const result = read(tampered, writer.channelId, { readerSecretKey: consumerKey });
      expect(
        result.messages.map((m) => m.seq),
        `byte ${i}`,
      ).toEqual([0, 1]);
      expect(result.failures[0], `byte ${i}`).toMatchObject({ position: 2, reason: expected(i) });
    }
    // Without its position in an index, a damaged key check or nonce cannot be told from a missing key.
    const ordered = entries.map(({ seq: _s, ...e }, k) => (k === 2 ? { ...e, bytes: flip(target, 4) } : e));
    expect(read(ordered, writer.channelId, { readerSecretKey: consumerKey }).failures[0]!.reason).toBe(
      'WRONG_KEY',
    );
  });

  it('catches a change of any single byte of an epoch announcement', async () => {
    const { writer, entries } = await channel('restricted', 1);
    const target = entries[0]!.bytes!;
    const wrapsEnd = 4 + 2 * WRAP_BYTES;
    const expected = (i: number): ReadFailureReason => {
      if (i < 3) return 'MALFORMED';
      if (i === 3) return 'BAD_SIGNATURE'; // 2 wraps read as 3: this reader's wrap opens, the rest is altered
      if (i < 4 + WRAP_BYTES) return 'WRONG_KEY'; // this reader's own wrap: no longer opens
      return 'BAD_SIGNATURE'; // the other reader's wrap, nonce, key check, ciphertext
    };
    for (let i = 0; i < target.length; i++) {
      const tampered = [{ ...entries[0]!, bytes: flip(target, i) }, entries[1]!];
      const result = read(tampered, writer.channelId, { readerSecretKey: consumerKey });
      expect(result.messages, `byte ${i}`).toEqual([]);
      expect(result.failures[0], `byte ${i}`).toMatchObject({ position: 0, reason: expected(i) });
    }
    expect(wrapsEnd + NONCE_BYTES).toBeLessThan(target.length);
  });

  it('a removed reader cannot read any later epoch; the remaining one reads on', async () => {
    const { writer, entries, poster } = await channel('restricted', 2);
    const posted = await writer.setReaders([x25519PublicKey(consumerKey)]);
    expect(posted.map((p) => p.kind)).toEqual(['epoch']);
    writer.addSamples(simulatedSamples(3, T0 + 60_000, 1000, 'later'));
    await writer.flush();
    const all: SourceEntry[] = poster.order.map((id, seq) => ({
      seq,
      blockId: id,
      bytes: poster.blocks.get(id)!.bytes,
    }));
    expect(all).toHaveLength(entries.length + 2);
    const auditor = read(all, writer.channelId, { readerSecretKey: auditorKey });
    expect(auditor.messages.map((m) => m.seq)).toEqual([0, 1, 2]);
    expect(auditor.failures).toMatchObject([{ reason: 'WRONG_KEY', seq: 3 }]);
    // Even holding every key it ever learned, the later data stays closed to it.
    const later = read(all.slice(4), writer.channelId, {
      epochKeys: auditor.epochKeys,
      fromSeq: 4,
      allFailures: true,
    });
    expect(later.failures).toMatchObject([{ reason: 'WRONG_KEY', seq: 4 }]);
    expect(later.messages).toEqual([]);
    const consumer = read(all, writer.channelId, { readerSecretKey: consumerKey });
    expect(consumer.ok).toBe(true);
    expect(consumer.messages.map((m) => m.epoch)).toEqual([1, 1, 1, 2, 2]);
    expect(consumer.messages[3]!.readers).toEqual([toHex(x25519PublicKey(consumerKey))]);
  });

  it('reports reordering, dropping and replaying in restricted mode too', async () => {
    const { writer, entries } = await channel('restricted', 3);
    const opts = { readerSecretKey: consumerKey };
    const swapped = [entries[0]!, entries[1]!, { ...entries[3]!, seq: 2 }, { ...entries[2]!, seq: 3 }];
    expect(read(swapped, writer.channelId, opts).failures).toMatchObject([
      { reason: 'BROKEN_CHAIN', seq: 3 },
    ]);
    expect(read([entries[0]!, entries[1]!, entries[3]!], writer.channelId, opts).failures).toMatchObject([
      { reason: 'GAP', seq: 2 },
    ]);
    expect(read([...entries, { ...entries[3]!, seq: 4 }], writer.channelId, opts).failures).toMatchObject([
      { reason: 'REPLAY', seq: 3 },
    ]);
  });
});

describe('signing keys', () => {
  it('a key schedule by seq honours a rotation and refuses the old key afterwards', async () => {
    const { writer, poster } = await memoryWriter(meterKey, 'public');
    writer.addSamples(simulatedSamples(2, T0));
    await writer.flush();
    const newKey = keys(32);
    await writer.rotateSigningKey(newKey);
    writer.addSamples(simulatedSamples(2, T0 + 10_000));
    await writer.flush();
    const entries = poster.order.map((id, seq) => ({ seq, bytes: poster.blocks.get(id)!.bytes }));
    const scheduled = verifyEntries(entries, {
      channelId: writer.channelId,
      signers: seqScheduleSigners(writer.signingSchedule()),
    });
    expect(scheduled.ok).toBe(true);
    expect(new Set(scheduled.messages.map((m) => m.keyId)).size).toBe(2);
    const oldOnly = verifyEntries(entries, { channelId: writer.channelId, signers });
    expect(oldOnly.failures).toMatchObject([{ reason: 'BAD_SIGNATURE', seq: 1 }]);
  });

  it('keys from a DID history apply by the milestone that referenced the block', async () => {
    const { writer, entries } = await channel('public', 2);
    const newPublic = ed25519PublicKey(keys(32));
    const history = didHistorySigners([
      { fromMilestone: 10, untilMilestone: 20, publicKeys: [ed25519PublicKey(meterKey)] },
      { fromMilestone: 20, publicKeys: [newPublic] },
    ]);
    const at = (milestones: (number | undefined)[]) =>
      verifyEntries(
        entries.map((e, i) => ({
          ...e,
          ...(milestones[i] !== undefined ? { milestoneIndex: milestones[i] } : {}),
        })),
        {
          channelId: writer.channelId,
          signers: history,
        },
      );
    expect(at([12, 19]).ok).toBe(true);
    expect(at([12, 20]).failures).toMatchObject([{ reason: 'BAD_SIGNATURE', seq: 1 }]);
    expect(at([12, 20]).failures[0]!.detail).toMatch(/not in the DID document in force at milestone 20/);
    expect(at([5, 12]).failures[0]!.detail).toMatch(/no DID document was in force at milestone 5/);
    expect(at([12, undefined]).failures[0]!.detail).toMatch(/not referenced yet/);
  });
});
