import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from './bytes.js';
import { ChannelError } from './errors.js';
import {
  type DataPayload,
  decodeDataPayload,
  encodeDataPayload,
  PAYLOAD_DEFLATE,
  PAYLOAD_RAW,
  type Sample,
} from './payload.js';
import { simulatedSamples } from './testing.js';

const T0 = 1_795_500_000_000;

function roundTrip(payload: DataPayload, baseMs = T0): DataPayload {
  return decodeDataPayload(encodeDataPayload(payload, baseMs), baseMs);
}

describe('sample codec', () => {
  it('round-trips an hour of 1 Hz readings bit-exact, deflated', () => {
    const samples = simulatedSamples(3600, T0);
    const encoded = encodeDataPayload({ samples, summaries: [] }, T0);
    expect(encoded[0]).toBe(PAYLOAD_DEFLATE);
    expect(decodeDataPayload(encoded, T0)).toEqual({ samples, summaries: [] });
    // ~4 varint columns would be ~7 bytes a reading; deflate takes it well below that.
    expect(encoded.length / samples.length).toBeLessThan(6);
  });

  it('keeps extremes: int32 limits, equal timestamps, big gaps, signed values', () => {
    const samples: Sample[] = [
      { timestampMs: T0, busVoltageMV: 0, currentMA: -(2 ** 31), powerMW: 2 ** 31 - 1 },
      { timestampMs: T0, busVoltageMV: 2 ** 31 - 1, currentMA: 2 ** 31 - 1, powerMW: -(2 ** 31) },
      { timestampMs: T0 + 86_400_000 * 365, busVoltageMV: -1, currentMA: 0, powerMW: 0 },
      { timestampMs: 2 ** 48 - 1, busVoltageMV: 1, currentMA: -1, powerMW: 1 },
    ];
    expect(roundTrip({ samples, summaries: [] }).samples).toEqual(samples);
  });

  it('keeps summaries: unicode ids, negative and huge energies, starts before the message', () => {
    const summaries = [
      {
        periodId: 'meter-7/2026-11-24T05:00Z',
        startMs: T0 - 3_600_000,
        endMs: T0,
        energyMWs: 123n,
        sampleCount: 3600,
      },
      { periodId: 'zähler/⚡', startMs: T0, endMs: T0 + 1, energyMWs: -(2n ** 70n), sampleCount: 0 },
      { periodId: 'max', startMs: T0, endMs: T0, energyMWs: 2n ** 64n - 1n, sampleCount: 2 ** 32 },
    ];
    expect(roundTrip({ samples: [], summaries }).summaries).toEqual(summaries);
    const tooBig = { ...summaries[0]!, energyMWs: 2n ** 75n };
    expect(() => encodeDataPayload({ samples: [], summaries: [tooBig] }, T0)).toThrow(/energyMWs/);
  });

  it('stores a tiny payload raw when DEFLATE would only add bytes', () => {
    const samples = simulatedSamples(1, T0);
    const encoded = encodeDataPayload({ samples, summaries: [] }, T0);
    expect(encoded[0]).toBe(PAYLOAD_RAW);
    expect(decodeDataPayload(encoded, T0).samples).toEqual(samples);
  });

  it('refuses readings it could not store exactly', () => {
    const good = { timestampMs: T0, busVoltageMV: 1, currentMA: 1, powerMW: 1 };
    const bad: [Partial<Sample>, RegExp][] = [
      [{ busVoltageMV: 1.5 }, /busVoltageMV/],
      [{ currentMA: 2 ** 31 }, /currentMA/],
      [{ powerMW: Number.NaN }, /powerMW/],
      [{ timestampMs: -1 }, /timestampMs/],
      [{ timestampMs: 2 ** 48 }, /timestampMs/],
    ];
    for (const [change, message] of bad) {
      expect(() => encodeDataPayload({ samples: [{ ...good, ...change }], summaries: [] }, 0)).toThrow(
        message,
      );
    }
    const outOfOrder = [good, { ...good, timestampMs: T0 - 1 }];
    expect(() => encodeDataPayload({ samples: outOfOrder, summaries: [] }, 0)).toThrow(/time order/);
    expect(() => encodeDataPayload({ samples: [good], summaries: [] }, T0 + 1)).toThrow(ChannelError);
  });

  it('reports damaged payloads as MALFORMED, never as other data', () => {
    const encoded = encodeDataPayload({ samples: simulatedSamples(300, T0), summaries: [] }, T0);
    let malformed = 0;
    for (let i = 0; i < encoded.length; i++) {
      const damaged = encoded.slice();
      damaged[i]! ^= 0x55;
      try {
        decodeDataPayload(damaged, T0);
      } catch (error) {
        expect((error as ChannelError).code).toBe('MALFORMED');
        malformed++;
      }
    }
    // Inside a message the signature catches every change; here we only ask that decoding fails cleanly.
    expect(malformed).toBeGreaterThan(encoded.length / 2);
    const bomb = encoded.slice();
    new DataView(bomb.buffer).setUint32(5, 64 * 1024 * 1024);
    expect(() => decodeDataPayload(bomb, T0)).toThrow(/beyond the limit/);
  });
});

describe('varints', () => {
  it('round-trip across the safe-integer range and refuse overlong forms', () => {
    const values = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, 2 ** 52, Number.MAX_SAFE_INTEGER];
    const w = new ByteWriter();
    for (const v of values) w.varint(v);
    for (const v of [-1, 1, -(2 ** 40), 2 ** 40]) w.svarint(v);
    for (const v of [0n, -1n, 2n ** 74n, -(2n ** 74n) + 3n]) w.bigSvarint(v);
    const r = new ByteReader(w.finish(), 'test');
    expect(values.map(() => r.varint())).toEqual(values);
    expect([0, 1, 2, 3].map(() => r.svarint())).toEqual([-1, 1, -(2 ** 40), 2 ** 40]);
    expect([0, 1, 2, 3].map(() => r.bigSvarint())).toEqual([0n, -1n, 2n ** 74n, -(2n ** 74n) + 3n]);
    r.end();
    expect(() => new ByteReader(Uint8Array.of(0x80, 0x00), 't').varint()).toThrow(/shortest/);
  });
});
