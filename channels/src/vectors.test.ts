import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildVectors, fromRow } from '../test-vectors/generate.js';
import { fromHex, toHex } from './bytes.js';
import { epochSubkeys, messageHash, publicTag, restrictedTag } from './crypto.js';
import { merkleRootHex } from './merkle.js';
import { decodeDataPayload } from './payload.js';
import { verifyEntries } from './reader.js';
import { staticSigners } from './signers.js';

type Row = [number, number, number, number];
type SummaryJson = {
  periodId: string;
  startMs: number;
  endMs: number;
  energyMWs: string;
  sampleCount: number;
};
interface ChannelVector {
  meter: { ed25519PublicKey: string; channelId: string };
  readers: Record<string, { x25519SecretKey: string }>;
  messages: {
    seq: number;
    kind: string;
    epoch: number;
    tag: string;
    hash: string;
    wire: string;
    samples: Row[];
  }[];
  epochKeys: { epoch: number; key: string }[];
  periods: { fromSeq: number; toSeq: number; root: string }[];
  reads: { reader: string; verified: number[]; failures: { reason: string; seq: number }[] }[];
  tampering: { seq: number; byte: number; xor: number; field: string; reason: string }[];
}
interface PayloadVector {
  cases: { baseMs: number; samples: Row[]; summaries: SummaryJson[]; encoded: string }[];
}
interface MerkleVector {
  cases: { leaves: string[]; root: string }[];
}

const load = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../test-vectors/${name}`, import.meta.url), 'utf8')) as T;

describe('test vectors (channels/test-vectors)', () => {
  it('the code still produces exactly the committed vectors', async () => {
    const built = JSON.parse(JSON.stringify(await buildVectors())) as Record<string, unknown>;
    for (const [name, vector] of Object.entries(built)) expect(vector, name).toEqual(load<unknown>(name));
  });

  for (const name of ['public-channel.json', 'restricted-channel.json']) {
    it(`${name}: reads back with the stated keys and outcomes`, () => {
      const v = load<ChannelVector>(name);
      const entries = v.messages.map((m) => ({ seq: m.seq, bytes: fromHex(m.wire), tag: m.tag }));
      const signers = staticSigners([fromHex(v.meter.ed25519PublicKey)]);
      for (const expected of v.reads) {
        const reader = v.readers[expected.reader];
        const result = verifyEntries(entries, {
          channelId: v.meter.channelId,
          signers,
          ...(reader ? { readerSecretKey: fromHex(reader.x25519SecretKey) } : {}),
        });
        expect(
          result.messages.map((m) => m.seq),
          expected.reader,
        ).toEqual(expected.verified);
        expect(result.failures.map(({ reason, seq }) => ({ reason, seq }))).toEqual(expected.failures);
      }
      const epochKeys = new Map<number, Uint8Array>(v.epochKeys.map((e) => [e.epoch, fromHex(e.key)]));
      for (const m of v.messages) {
        expect(toHex(messageHash(fromHex(m.wire)))).toBe(m.hash);
        if (v.messages[0]!.kind === 'data') expect(m.tag).toBe(publicTag(fromHex(v.meter.channelId)));
        else {
          const keyed =
            m.kind === 'epoch'
              ? (epochKeys.get(m.epoch - 1) ?? epochKeys.get(m.epoch))
              : epochKeys.get(m.epoch);
          expect(m.tag).toBe(restrictedTag(epochSubkeys(keyed!), m.seq));
        }
      }
      const read = verifyEntries(entries, {
        channelId: v.meter.channelId,
        signers,
        epochKeys: [...epochKeys],
      });
      expect(read.ok).toBe(true);
      expect(read.messages.map((m) => m.samples)).toEqual(v.messages.map((m) => m.samples.map(fromRow)));
      for (const p of v.periods)
        expect(
          merkleRootHex(v.messages.filter((m) => m.seq >= p.fromSeq && m.seq <= p.toSeq).map((m) => m.hash)),
        ).toBe(p.root);
      for (const t of v.tampering) {
        const tampered = entries.map((e) => {
          if (e.seq !== t.seq) return e;
          const bytes = e.bytes.slice();
          bytes[t.byte]! ^= t.xor;
          return { ...e, bytes };
        });
        const result = verifyEntries(tampered, {
          channelId: v.meter.channelId,
          signers,
          epochKeys: [...epochKeys],
        });
        expect(result.failures[0], `${t.field} (byte ${t.byte})`).toMatchObject({
          reason: t.reason,
          seq: t.seq,
        });
      }
    });
  }

  it('payload.json decodes to its readings and summaries', () => {
    for (const c of load<PayloadVector>('payload.json').cases) {
      const decoded = decodeDataPayload(fromHex(c.encoded), c.baseMs);
      expect(decoded.samples).toEqual(c.samples.map(fromRow));
      expect(decoded.summaries.map((s) => ({ ...s, energyMWs: s.energyMWs.toString() }))).toEqual(
        c.summaries,
      );
    }
  });

  it('merkle.json roots', () => {
    for (const c of load<MerkleVector>('merkle.json').cases) expect(merkleRootHex(c.leaves)).toBe(c.root);
  });
});
