import type { LedgerClient, MnemonicSigner, NodeApi, RentStructure } from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import type { WalletConfig } from './config.js';
import type { PaymentsStore } from './payments-store.js';
import type { WalletLedger } from './wallet-ledger.js';

/** What settlement and its upkeep (claims, take-backs, consolidation) are built on. */
export interface SettlementDeps {
  store: PaymentsStore;
  ledger: WalletLedger;
  client: LedgerClient;
  api: NodeApi;
  signer: MnemonicSigner;
  address: string;
  bech32Hrp: string;
  rent: RentStructure;
  /** Whose keys sign: the account, and the index of `address` among its public addresses (default 0). */
  account: { coinType: number; accountIndex: number; addressIndex?: number };
  /** The network's total supply: no payment can ever be more. */
  tokenSupply: bigint;
  config: WalletConfig['settlement'];
  log: Logger;
  /**
   * Longest pause between two passes when nothing wakes the loop. Confirmed milestones, new payments and
   * ledger changes wake it (see notify), so this is only a safety net; default 250 ms.
   */
  idleTickMs?: number;
}
