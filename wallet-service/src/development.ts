import { createHash } from 'node:crypto';
import { KeystoreError } from './errors.js';

/**
 * The development profile (hornet-config/profiles/development.json) funds accounts of a mnemonic that is
 * public in this repository, on the network hornet-config/protocol_parameters.json names. That mnemonic is
 * allowed only on a network of that name: anywhere else, whatever it receives can be taken by anyone.
 */
export const DEVELOPMENT_NETWORK_NAME = 'tanglewatt-local';

/** SHA-256 of the development mnemonic (words joined by single spaces), so no usable copy lives here. */
const DEVELOPMENT_MNEMONIC_SHA256 = '4730ea9b288d34f1e1930d05082c3d53641afaf2de6e1d42b5139d96d9bc1ded';

export function isDevelopmentMnemonic(mnemonic: string): boolean {
  const words = mnemonic.trim().toLowerCase().split(/\s+/).join(' ');
  return createHash('sha256').update(words, 'utf8').digest('hex') === DEVELOPMENT_MNEMONIC_SHA256;
}

/** Refuses the public development mnemonic on any network but the development one. */
export function assertMnemonicAllowedOn(mnemonic: string, networkName: string, keystoreFile: string): void {
  if (networkName === DEVELOPMENT_NETWORK_NAME || !isDevelopmentMnemonic(mnemonic)) return;
  throw new KeystoreError(
    'KEYSTORE_DEVELOPMENT_MNEMONIC',
    `keystore ${keystoreFile} holds the public development mnemonic, allowed only on the development network "${DEVELOPMENT_NETWORK_NAME}", and the node's network is "${networkName}": create a keystore of your own with "wallet-service init"`,
  );
}
