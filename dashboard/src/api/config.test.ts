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
});
