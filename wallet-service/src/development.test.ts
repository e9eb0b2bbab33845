import { readFile } from 'node:fs/promises';
import { generateMnemonic } from '@tanglewatt/ledger';
import { describe, expect, it } from 'vitest';
import { assertMnemonicAllowedOn, DEVELOPMENT_NETWORK_NAME, isDevelopmentMnemonic } from './development.js';

const hornetConfig = async (path: string) =>
  JSON.parse(await readFile(new URL(`../../hornet-config/${path}`, import.meta.url), 'utf8'));

describe('the development mnemonic', async () => {
  const mnemonic: string = (await hornetConfig('profiles/development.json')).genesis.mnemonic;

  it("is the development profile's, on the network the protocol parameters name", async () => {
    expect(isDevelopmentMnemonic(mnemonic)).toBe(true);
    expect((await hornetConfig('protocol_parameters.json')).networkName).toBe(DEVELOPMENT_NETWORK_NAME);
  });

  it('is recognised whatever its spacing or case, and another mnemonic is not it', () => {
    expect(isDevelopmentMnemonic(`  ${mnemonic.toUpperCase().split(' ').join('  \n')}\n`)).toBe(true);
    expect(isDevelopmentMnemonic(generateMnemonic())).toBe(false);
  });

  it('is refused off the development network in one line that names the keystore and both networks', () => {
    let error: unknown;
    try {
      assertMnemonicAllowedOn(mnemonic, 'tanglewatt-mainstreet', '/var/lib/tanglewatt/keystore.json');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'KEYSTORE_DEVELOPMENT_MNEMONIC' });
    const message = (error as Error).message;
    expect(message).toMatch(
      /^keystore \/var\/lib\/tanglewatt\/keystore\.json holds the public development mnemonic/,
    );
    expect(message).toContain('"tanglewatt-local"');
    expect(message).toContain('"tanglewatt-mainstreet"');
    expect(message).not.toContain('\n');
    for (const word of new Set(mnemonic.split(' '))) expect(message).not.toMatch(new RegExp(`\\b${word}\\b`));
  });

  it('is allowed on the development network, and any other mnemonic on any network', () => {
    expect(() => assertMnemonicAllowedOn(mnemonic, DEVELOPMENT_NETWORK_NAME, 'k.json')).not.toThrow();
    expect(() =>
      assertMnemonicAllowedOn(generateMnemonic(), 'tanglewatt-mainstreet', 'k.json'),
    ).not.toThrow();
  });
});
