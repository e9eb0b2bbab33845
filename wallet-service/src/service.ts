import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  bech32ToHex,
  LedgerClient,
  MnemonicSigner,
  NodeApi,
  type ProtocolParameters,
} from '@tanglewatt/ledger';
import cron from 'node-cron';
import type { Logger } from 'pino';
import { AddressIndex } from './address-index.js';
import { createApi } from './api.js';
import { ConfigError, type WalletConfig } from './config.js';
import { LiveFeed } from './feed.js';
import { readKeystore } from './keystore.js';
import { MarketView } from './market.js';
import { PaymentsStore } from './payments-store.js';
import { readSecret } from './secrets.js';
import { Settlement } from './settlement.js';
import { WalletLedger } from './wallet-ledger.js';

export interface WalletService {
  /** Where the API listens, e.g. http://127.0.0.1:8480. */
  url: string;
  address: string;
  store: PaymentsStore;
  ledger: WalletLedger;
  settlement: Settlement;
  market?: MarketView;
  stop(): Promise<void>;
}

/** The network's parameters, remembered so a restart does not need the node to be up first. */
async function protocolParameters(node: NodeApi, dataDir: string, log: Logger): Promise<ProtocolParameters> {
  const file = join(dataDir, 'network.json');
  for (let attempt = 0; ; attempt++) {
    try {
      const protocol = (await node.info()).protocol;
      await writeFile(file, `${JSON.stringify(protocol, null, 2)}\n`);
      return protocol;
    } catch (error) {
      const cached = await readFile(file, 'utf8').catch(() => undefined);
      if (cached) return JSON.parse(cached) as ProtocolParameters;
      if (attempt === 0) log.warn({ node: node.url, err: (error as Error).message }, 'waiting for the node');
      await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
    }
  }
}

export async function startWalletService(config: WalletConfig, log: Logger): Promise<WalletService> {
  const token = readSecret('api token', {
    env: config.api.tokenEnv,
    ...(config.api.tokenFile ? { file: config.api.tokenFile } : {}),
  });
  const password = readSecret('keystore password', {
    env: config.keystore.passwordEnv,
    ...(config.keystore.passwordFile ? { file: config.keystore.passwordFile } : {}),
  });
  const signer = new MnemonicSigner(await readKeystore(config.keystore.file, password));
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });

  const node = new NodeApi(config.nodeUrl);
  const protocol = await protocolParameters(node, config.dataDir, log);
  const [address] = await signer.addresses({
    coinType: config.account.coinType,
    accountIndex: config.account.accountIndex,
    start: config.account.addressIndex,
    count: 1,
    bech32Hrp: protocol.bech32Hrp,
  });
  if (!address) throw new Error('no address derived');

  const store = await PaymentsStore.open(config.dataDir);
  const ledger = await WalletLedger.open({
    dataDir: config.dataDir,
    api: node,
    addressHex: bech32ToHex(address),
    initialOutputs: config.ledger.initialOutputs,
    ...(config.ledger.scanFromMilestone ? { scanFromMilestone: config.ledger.scanFromMilestone } : {}),
    log,
  });
  const client = new LedgerClient(config.nodeUrl);
  const settlement = new Settlement({
    store,
    ledger,
    client,
    api: node,
    signer,
    address,
    bech32Hrp: protocol.bech32Hrp,
    rent: protocol.rentStructure,
    account: { coinType: config.account.coinType, accountIndex: config.account.accountIndex },
    tokenSupply: BigInt(protocol.tokenSupply),
    config: config.settlement,
    log,
  });
  const feed = new LiveFeed(node, log);
  if (config.feed.mqtt) feed.connectMqtt();
  const addresses = new AddressIndex();
  ledger.on('milestone', (changes) => addresses.apply(changes));
  const market = config.market.enabled
    ? await MarketView.open({
        dataDir: config.dataDir,
        api: node,
        client,
        signer,
        chain: { ...config.account },
        address,
        config: config.market,
        log,
      })
    : undefined;
  if (market) ledger.on('milestone', (changes) => void market.catchUp(changes.index));
  ledger.on('milestone', (changes) => settlement.noteLedgerChanges(changes));
  ledger.on('changed', () => settlement.notify());
  ledger.follow(config.ledger.pollIntervalMs);
  settlement.start();
  feed.start();
  const claims = cron.schedule(config.claims.schedule, () => settlement.requestClaim(), { noOverlap: true });

  const app = createApi({
    store,
    ledger,
    addresses,
    ...(market ? { market } : {}),
    settlement,
    node,
    feed,
    address,
    bech32Hrp: protocol.bech32Hrp,
    rent: protocol.rentStructure,
    tokenSupply: BigInt(protocol.tokenSupply),
    config: config.api,
    token,
    log,
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigError(
              `listen: ${config.listen.host}:${config.listen.port} is in use: stop what holds it or set listen.port`,
            )
          : error,
      );
    });
    server.listen(config.listen.port, config.listen.host, resolve);
  });
  const bound = server.address() as AddressInfo;
  const url = `http://${bound.address}:${bound.port}`;
  log.info({ url, address, network: protocol.networkName }, 'wallet-service listening');

  return {
    url,
    address,
    store,
    ledger,
    settlement,
    ...(market ? { market } : {}),
    async stop() {
      await claims.stop();
      feed.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await settlement.stop();
      await ledger.stop();
      await market?.close();
      await store.close();
      await client.destroy();
    },
  };
}
