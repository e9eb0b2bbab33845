import { loadProfile, type TangleState } from '@tanglewatt/deploy';
import { MnemonicSigner } from '@tanglewatt/ledger';

export interface FundedAccount {
  signer: MnemonicSigner;
  accountIndex: number;
  address: string;
  amount: bigint;
  /** The genesis output holding the account's funds. */
  outputId: string;
}

/**
 * A genesis-funded account of the development profile. Each test file takes its own slot so files can
 * run in parallel without spending each other's outputs.
 */
export async function fundedAccount(tangle: TangleState, slot: number): Promise<FundedAccount> {
  const profile = await loadProfile('development');
  if (!('mnemonic' in profile.genesis))
    throw new Error('the development profile derives accounts from a mnemonic');
  // Slots follow account order, not the snapshot's output order.
  const byAccount = [...tangle.genesis.allocations].sort(
    (a, b) => (a.accountIndex ?? 0) - (b.accountIndex ?? 0),
  );
  const allocation = byAccount[slot];
  if (!allocation || allocation.accountIndex === undefined)
    throw new Error(`no funded account in slot ${slot}`);
  return {
    signer: new MnemonicSigner(profile.genesis.mnemonic),
    accountIndex: allocation.accountIndex,
    address: allocation.address,
    amount: BigInt(allocation.amount),
    outputId: allocation.outputId,
  };
}
