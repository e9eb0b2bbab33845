import { describe, expect, it } from 'vitest';
import { parseConfig } from './config';

describe('parseConfig', () => {
  it('keeps a wallet’s token, for the household’s own dashboard', () => {
    const config = parseConfig({
      wallets: [
        { name: 'Producer', url: 'http://127.0.0.1:8481/', token: 'secret' },
        { name: 'Consumer', url: 'http://127.0.0.1:8482' },
        { name: 'Empty', url: 'http://127.0.0.1:8483', token: '' },
      ],
    });
    expect(config.wallets).toEqual([
      { name: 'Producer', url: 'http://127.0.0.1:8481', token: 'secret' },
      { name: 'Consumer', url: 'http://127.0.0.1:8482' },
      { name: 'Empty', url: 'http://127.0.0.1:8483' },
    ]);
    expect(config.meters).toEqual([]);
  });

  it('refuses a token that is not a string', () => {
    expect(() => parseConfig({ wallets: [{ name: 'P', url: 'http://x', token: 42 }] })).toThrow(
      /wallets\[0\]\.token must be a string/,
    );
  });

  it("keeps a meter's DID, and names the field of a malformed one", () => {
    const did = { did: `did:iota:watt:0x${'d1'.repeat(32)}`, originOutputId: `0x${'0a'.repeat(34)}` };
    expect(parseConfig({ meters: [{ name: 'M', url: 'http://127.0.0.1:8491', did }] }).meters).toEqual([
      { name: 'M', url: 'http://127.0.0.1:8491', did },
    ]);
    expect(() =>
      parseConfig({ meters: [{ name: 'M', url: 'http://x', did: { ...did, did: 'did:web:example.com' } }] }),
    ).toThrow(/meters\[0\]\.did\.did must be an IOTA DID/);
    expect(() =>
      parseConfig({ meters: [{ name: 'M', url: 'http://x', did: { ...did, originOutputId: '0x12' } }] }),
    ).toThrow(/meters\[0\]\.did\.originOutputId must be the output that created the DID alias/);
  });
});
