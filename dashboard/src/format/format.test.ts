import { describe, expect, it } from 'vitest';
import {
  formatAmount,
  formatAmountLine,
  formatDecimal,
  formatPricePerWh,
  groupDigits,
  parseDecimal,
  parseUnits,
  priceToUnitsPerWh,
  unitsToTokens,
} from './amount';
import { addressToBech32, bech32Decode, bech32Encode, ed25519ToBech32 } from './bech32';
import { formatEnergyMWs, formatPowerUW } from './energy';
import { decodeData, hexToBytes, hexToUtf8 } from './hex';
import { outputIdOf, shortAddress, shortId, splitOutputId } from './ids';
import { formatAge, formatDuration, milestoneRate } from './time';

describe('amounts', () => {
  it('turns base units into whole tokens with bigint math', () => {
    expect(unitsToTokens(0n)).toBe('0');
    expect(unitsToTokens(1n)).toBe('0.000001');
    expect(unitsToTokens(50_000n)).toBe('0.05');
    expect(unitsToTokens(1_500_000n)).toBe('1.5');
    expect(unitsToTokens(1_000_000_000_000_000n)).toBe('1,000,000,000');
    // Beyond 2^53: a float would round this.
    expect(unitsToTokens(18_446_744_073_709_551_615n)).toBe('18,446,744,073,709.551615');
    expect(unitsToTokens(-4_260n)).toBe('-0.00426');
    expect(unitsToTokens(123n, 0)).toBe('123');
  });

  it('shows tokens and base units, singular for one', () => {
    expect(formatAmount('50000')).toEqual({ tokens: '0.05 WATT', units: '50,000 units' });
    expect(formatAmount('1', { decimals: 6, ticker: 'TWT' })).toEqual({
      tokens: '0.000001 TWT',
      units: '1 unit',
    });
    expect(formatAmountLine('5060')).toBe('0.00506 WATT (5,060 units)');
  });

  it('refuses what is not a whole number of units', () => {
    expect(formatAmount('1.5').tokens).toBe('—');
    expect(formatAmount(undefined).units).toBe('—');
    expect(formatAmountLine('abc')).toBe('—');
    expect(parseUnits('007')).toBeUndefined();
    expect(parseUnits(2 ** 60)).toBeUndefined();
    expect(parseUnits(' 42 ')).toBe(42n);
  });

  it('groups digits', () => {
    expect(groupDigits(1234567n)).toBe('1,234,567');
    expect(groupDigits('-1000')).toBe('-1,000');
    expect(groupDigits(999n)).toBe('999');
  });

  it('formats exact decimals and prices', () => {
    expect(formatDecimal(parseDecimal('0.25')!)).toBe('0.25');
    expect(formatDecimal(parseDecimal('1234.5000')!)).toBe('1,234.5');
    expect(formatDecimal(parseDecimal('0.0000005')!, 6)).toBe('0.000001');
    expect(parseDecimal('1e5')).toBeUndefined();
    expect(formatPricePerWh('250')).toBe('250 units/Wh (0.25 WATT/kWh)');
    expect(formatPricePerWh('0.5')).toBe('0.5 units/Wh (0.0005 WATT/kWh)');
    expect(formatPricePerWh(undefined)).toBe('—');
    expect(priceToUnitsPerWh({ unitsPerWh: '12' })).toBe('12');
    expect(priceToUnitsPerWh({ unitsPerMWs: '0.0001' })).toBe('360');
  });
});

describe('energy and power', () => {
  it('converts mW·s to Wh and kWh exactly', () => {
    expect(formatEnergyMWs('0')).toBe('0.000 Wh');
    expect(formatEnergyMWs('3600000')).toBe('1.000 Wh');
    expect(formatEnergyMWs('48000')).toBe('0.013 Wh');
    expect(formatEnergyMWs('1')).toBe('< 0.001 Wh');
    expect(formatEnergyMWs('3599999999')).toBe('1.000 kWh');
    expect(formatEnergyMWs('3600000000000')).toBe('1,000.000 kWh');
    expect(formatEnergyMWs('12345678901')).toBe('3.429 kWh');
    expect(formatEnergyMWs(undefined)).toBe('—');
    expect(formatEnergyMWs('x')).toBe('—');
  });

  it('formats power from µW', () => {
    expect(formatPowerUW(4_812_345)).toBe('4.812 W');
    expect(formatPowerUW(812_000)).toBe('812.0 mW');
    expect(formatPowerUW(2_500_000_000)).toBe('2.500 kW');
    expect(formatPowerUW(-1_000_000)).toBe('-1.000 W');
    expect(formatPowerUW(null)).toBe('—');
  });
});

describe('times', () => {
  it('formats durations and ages', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(4200)).toBe('4.2 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(7_380_000)).toBe('2 h 3 min');
    expect(formatDuration(3 * 86_400_000)).toBe('3 d');
    expect(formatAge(10_000, 9_500)).toBe('just now');
    expect(formatAge(10_000, 7_000)).toBe('3 s ago');
    expect(formatAge(0, 120_000)).toBe('in 2 min');
    expect(formatAge(0, undefined)).toBe('—');
  });

  it('computes the milestone rate from timestamps', () => {
    expect(milestoneRate([5000, 1000, 3000, 2000, 4000])).toEqual({ meanIntervalMs: 1000, perMinute: 60 });
    expect(milestoneRate([1000])).toBeUndefined();
    expect(milestoneRate([1000, 1000])).toBeUndefined();
  });
});

describe('ids', () => {
  const tx = `0x${'ab'.repeat(32)}`;
  it('shortens ids and addresses', () => {
    expect(shortId(tx)).toBe('0xababab…abab');
    expect(shortId('0x1234')).toBe('0x1234');
    expect(shortId(undefined)).toBe('—');
    expect(shortAddress('watt1qzdmw527yuhn4x49qn28he6978wpwwfcadrj2l5esm99y7hu4s29s9rkfnf')).toBe(
      'watt1qzdmw5…9rkfnf',
    );
  });

  it('builds and splits output ids (index little-endian)', () => {
    expect(outputIdOf(tx, 0)).toBe(`${tx}0000`);
    expect(outputIdOf(tx, 1)).toBe(`${tx}0100`);
    expect(outputIdOf(tx, 258)).toBe(`${tx}0201`);
    expect(splitOutputId(`${tx}0201`)).toEqual({ transactionId: tx, index: 258 });
    expect(splitOutputId(tx)).toBeUndefined();
  });
});

describe('hex and tagged data', () => {
  const hex = (s: string) =>
    `0x${[...new TextEncoder().encode(s)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  it('decodes UTF-8 text and refuses binary', () => {
    expect(hexToUtf8(hex('tanglewatt/pay/v1'))).toBe('tanglewatt/pay/v1');
    expect(hexToUtf8(hex('Grüße ⚡'))).toBe('Grüße ⚡');
    expect(hexToUtf8('0xff00')).toBeUndefined();
    expect(hexToUtf8('0x0001')).toBeUndefined();
    expect(hexToBytes('0xabc')).toBeUndefined();
    expect(hexToBytes('0xzz')).toBeUndefined();
  });

  it('pretty-prints JSON payloads', () => {
    const d = decodeData(hex('{"v":1,"payments":[{"k":"house-12/1","a":"120"}]}'));
    expect(d.json).toBe(
      '{\n  "v": 1,\n  "payments": [\n    {\n      "k": "house-12/1",\n      "a": "120"\n    }\n  ]\n}',
    );
    expect(decodeData(hex('{not json')).json).toBeUndefined();
    expect(decodeData(hex('{not json')).text).toBe('{not json');
    expect(decodeData('0xff').text).toBeUndefined();
    expect(decodeData('0xff').bytes).toBe(1);
  });
});

describe('bech32', () => {
  it('accepts the BIP-173 vectors and refuses a bad checksum', () => {
    expect(bech32Decode('A12UEL5L')).toEqual({ hrp: 'a', bytes: new Uint8Array() });
    expect(bech32Decode('abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw')?.hrp).toBe('abcdef');
    expect(bech32Decode('a12uel5m')).toBeUndefined();
    expect(bech32Decode('A12uEL5L')).toBeUndefined(); // mixed case
  });

  it('matches the addresses our wallet-service (SDK) makes from an Ed25519 hash', () => {
    // From a running wallet-service: its /addresses and the ownerHex of its outputs.
    const hash = '0x9bb7515e272f3a9aa504d47be745f1dc173938eb47257e9986ca527afcac1458';
    const address = 'watt1qzdmw527yuhn4x49qn28he6978wpwwfcadrj2l5esm99y7hu4s29s9rkfnf';
    expect(ed25519ToBech32(hash, 'watt')).toBe(address);
    const decoded = bech32Decode(address)!;
    expect(decoded.hrp).toBe('watt');
    expect(decoded.bytes[0]).toBe(0);
    expect(bech32Encode('watt', decoded.bytes)).toBe(address);
    expect(addressToBech32({ type: 8, aliasId: hash }, 'watt')?.startsWith('watt1p')).toBe(true);
    expect(addressToBech32({ type: 0 }, 'watt')).toBeUndefined();
  });
});
