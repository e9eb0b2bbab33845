import type { BillIndexer } from '@tanglewatt/bills';
import type { NodeApi, RentStructure } from '@tanglewatt/ledger';
import type { Logger } from 'pino';
import type { ApiToken } from './access.js';
import type { AddressLookup } from './address-index.js';
import type { WalletConfig } from './config.js';
import type { DidResolver } from './dids.js';
import type { ExplorerIndexer } from './explorer-reads.js';
import type { LiveFeed } from './feed.js';
import type { Market } from './market.js';
import type { WalletMetrics } from './metrics.js';
import type { PaymentsStore } from './payments-store.js';
import type { ReceivedPayments } from './received.js';
import type { Settlement } from './settlement.js';
import type { WalletLedger } from './wallet-ledger.js';

/** What createApi and its route groups are built on. */
export interface ApiDeps {
  store: PaymentsStore;
  ledger: WalletLedger;
  addresses: AddressLookup;
  market?: Market;
  /**
   * The community indexer GET /bills reads the household's payments and meter channels from, and the
   * explorer's /node reads fall back to when the node has pruned what they ask for.
   */
  indexer?: BillIndexer & ExplorerIndexer;
  /** What bills compare with (wallet config `bills`). */
  bills?: WalletConfig['bills'];
  /** The X25519 reader key of the household's restricted meter channel (`bills.readerKeyFile`). */
  billsReaderKey?: Uint8Array;
  settlement: Settlement;
  received: ReceivedPayments;
  /** Resolves meter DIDs from the ledger (GET /dids/:did). */
  resolveDid: DidResolver;
  node: NodeApi;
  feed: LiveFeed;
  address: string;
  bech32Hrp: string;
  rent: RentStructure;
  /** The network's total supply: no payment can be more. */
  tokenSupply: bigint;
  config: WalletConfig['api'];
  /** The address the server listens on: its name is one the Host header may carry. */
  listenHost: string;
  tokens: readonly ApiToken[];
  log: Logger;
  /** What GET /metrics serves; by default one built on the store, ledger and node (no journal sizes). */
  metrics?: WalletMetrics;
}
