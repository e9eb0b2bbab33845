import type { MnemonicSigner } from '@tanglewatt/ledger';

/**
 * The wallet address's own Ed25519 key, for signing what is not a transaction (market messages). The
 * mnemonic stays in the signer: this hands out signatures, never the key.
 */
export interface AddressKey {
  /** The public key (its BLAKE2b-256 hash is the address) and the signature over `bytes`, as hex without 0x. */
  sign(bytes: Uint8Array): Promise<{ publicKey: string; signature: string }>;
}

/** The key of the address at `chain` (coin type, account, address index) of the signer's mnemonic. */
export function addressKey(
  signer: MnemonicSigner,
  chain: { coinType: number; accountIndex: number; addressIndex: number },
): AddressKey {
  return {
    async sign(bytes) {
      const signed = await signer.signEd25519(bytes, chain);
      return {
        publicKey: signed.publicKey.replace(/^0x/, ''),
        signature: signed.signature.replace(/^0x/, ''),
      };
    },
  };
}
