import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fromHex } from '@tanglewatt/channels';
import { acquireDirLock } from '@tanglewatt/journal';
import {
  bech32ToHex,
  IndexerApi,
  LedgerClient,
  MnemonicSigner,
  NodeApi,
  type ProtocolParameters,
} from '@tanglewatt/ledger';
import cron from 'node-cron';
import type { Logger } from 'pino';
import { type ApiToken, readApiTokens } from './access.js';
import { AddressIndex, IndexerAddresses } from './address-index.js';
import { createApi } from './api.js';
import type { WalletConfig } from './config.js';
import { assertMnemonicAllowedOn } from './development.js';
import { didResolver } from './dids.js';
import { WalletConfigError } from './errors.js';
import { LiveFeed } from './feed.js';
import { HTTP_STATUS } from './http-errors.js';
import { IndexerSlice } from './indexer-slice.js';
import { IndexerStream } from './indexer-stream.js';
import { readKeystore } from './keystore.js';
import { Market } from './market.js';
import { MARKET_TAG } from './market-books.js';
import { IndexerMarketReader } from './market-reader.js';
import { WalletMetrics } from './metrics.js';
import { followConfirmedMilestones } from './milestone-events.js';
import { PaymentsStore } from './payments-store.js';
import { ReceivedPayments } from './received.js';
import { adoptForeignPayments } from './reconcile.js';
import { readSecret } from './secrets.js';
import { PAYMENT_TAG, Settlement } from './settlement.js';
import { addressKey } from './wallet-keys.js';
import { WalletLedger } from './wallet-ledger.js';

export interface WalletService {
  /** Where the API listens, e.g. http://127.0.0.1:8480. */
  url: string;
  address: string;
  store: PaymentsStore;
  ledger: WalletLedger;
  settlement: Settlement;
  received: ReceivedPayments;
  market?: Market;
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

/** The configured indexer's client; its token is read from the environment variable the config names. */
function indexerOf(config: NonNullable<WalletConfig['indexer']>): IndexerApi {
  const token = config.tokenEnv ? process.env[config.tokenEnv] : undefined;
  if (config.tokenEnv && !token)
    throw new WalletConfigError(`indexer.tokenEnv: the environment variable ${config.tokenEnv} is not set`);
  return new IndexerApi(config.url, { ...(token ? { token } : {}), timeoutMs: 10_000 });
}

export interface StartOptions {
  /**
   * A journal failed (full disk, failed fsync): nothing more can be recorded, so the service must stop and
   * be started again once the disk is fine. The CLI exits; systemd restarts it.
   */
  onFatal?: (error: Error) => void;
}

export async function startWalletService(
  config: WalletConfig,
  log: Logger,
  options: StartOptions = {},
): Promise<WalletService> {
  const tokens = readApiTokens(config.api);
  const password = readSecret('keystore password', {
    env: config.keystore.passwordEnv,
    ...(config.keystore.passwordFile ? { file: config.keystore.passwordFile } : {}),
  });
  const mnemonic = await readKeystore(config.keystore.file, password);
  const signer = new MnemonicSigner(mnemonic);
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  // One writer: the data dir is locked before any journal opens, and the port is bound before anything
  // settles, so a second instance (a manual run beside systemd, a restored copy) stops here.
  const releaseLock = await acquireDirLock(config.dataDir, {
    file: 'wallet-service.lock',
    holderName: 'wallet-service',
    hint: 'give this one another dataDir',
  });
  const cleanups: (() => Promise<unknown> | unknown)[] = [releaseLock];
  try {
    return await startLocked(config, log, {
      tokens,
      signer,
      cleanups,
      releaseLock,
      options,
      checkNetwork: (networkName) => assertMnemonicAllowedOn(mnemonic, networkName, config.keystore.file),
    });
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    throw error;
  }
}

/** Serves 503 until the API is ready, so the port is ours from the start. */
async function bindEarly(
  config: WalletConfig,
): Promise<{ server: Server; url: string; serve: (handler: RequestListener) => void }> {
  let handler: RequestListener | undefined;
  const server: Server = createServer((req, res) => {
    if (handler) return handler(req, res);
    res.writeHead(HTTP_STATUS.STARTING, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(JSON.stringify({ error: { code: 'STARTING', message: 'the wallet-service is starting' } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new WalletConfigError(
              `listen: ${config.listen.host}:${config.listen.port} is in use: stop what holds it or set listen.port`,
            )
          : error,
      );
    });
    server.listen(config.listen.port, config.listen.host, resolve);
  });
  const bound = server.address() as AddressInfo;
  return {
    server,
    url: `http://${bound.address}:${bound.port}`,
    serve: (h) => {
      handler = h;
    },
  };
}

async function startLocked(
  config: WalletConfig,
  log: Logger,
  {
    tokens,
    signer,
    cleanups,
    releaseLock,
    checkNetwork,
    options,
  }: {
    options: StartOptions;
    tokens: ApiToken[];
    signer: MnemonicSigner;
    cleanups: (() => unknown)[];
    releaseLock: () => Promise<void>;
    /** Refuses a network the keys must not be used on (the public development mnemonic). */
    checkNetwork: (networkName: string) => void;
  },
): Promise<WalletService> {
  const { server, url, serve } = await bindEarly(config);
  cleanups.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(r);
      }),
  );

  const node = new NodeApi(config.nodeUrl);
  const protocol = await protocolParameters(node, config.dataDir, log);
  checkNetwork(protocol.networkName);
  const [address] = await signer.addresses({
    coinType: config.account.coinType,
    accountIndex: config.account.accountIndex,
    start: config.account.addressIndex,
    count: 1,
    bech32Hrp: protocol.bech32Hrp,
  });
  if (!address) throw new Error('no address derived');

  const store = await PaymentsStore.open(config.dataDir);
  cleanups.push(() => store.close());
  const fatal = (error: Error) => {
    log.error({ err: error.message }, 'the data disk failed: nothing more can be recorded; stopping');
    options.onFatal?.(error);
  };
  store.on('failed', fatal);
  // With a community indexer, the wallet reads its own slice of the ledger (and the market's tags) there
  // through one stream; the node then serves only this wallet's own transactions.
  const indexer = config.indexer ? indexerOf(config.indexer) : undefined;
  const stream = indexer
    ? new IndexerStream({
        indexer,
        filter: { address, ...(config.market.enabled ? { tag: 'tanglewatt/' } : {}) },
        log,
      })
    : undefined;
  if (stream) cleanups.push(() => stream.stop());
  const ledger = await WalletLedger.open({
    dataDir: config.dataDir,
    api: node,
    ...(indexer && stream
      ? { source: (concernsUs) => new IndexerSlice({ indexer, stream, address, concernsUs, log }) }
      : {}),
    addressHex: bech32ToHex(address),
    initialOutputs: config.ledger.initialOutputs,
    ...(config.ledger.scanFromMilestone ? { scanFromMilestone: config.ledger.scanFromMilestone } : {}),
    log,
  });
  cleanups.push(() => ledger.stop());
  ledger.on('failed', fatal);
  const client = new LedgerClient(config.nodeUrl);
  cleanups.push(() => client.destroy());
  const settlement = new Settlement({
    store,
    ledger,
    client,
    api: node,
    signer,
    address,
    bech32Hrp: protocol.bech32Hrp,
    rent: protocol.rentStructure,
    account: {
      coinType: config.account.coinType,
      accountIndex: config.account.accountIndex,
      addressIndex: config.account.addressIndex,
    },
    tokenSupply: BigInt(protocol.tokenSupply),
    config: config.settlement,
    log,
    // Confirmed milestones (below), new payments and ledger changes wake it; the timer is a safety net.
    idleTickMs: 1_000,
  });
  const feed = new LiveFeed(node, log);
  cleanups.push(() => feed.stop());
  if (config.feed.mqtt) feed.connectMqtt();
  const addresses = indexer ? new IndexerAddresses(indexer) : new AddressIndex();
  if (addresses instanceof AddressIndex) ledger.on('milestone', (changes) => addresses.apply(changes));
  const market = config.market.enabled
    ? await Market.open({
        dataDir: config.dataDir,
        api: node,
        client,
        key: addressKey(signer, { ...config.account }),
        address,
        config: config.market,
        log,
        ...(indexer && stream
          ? { reader: new IndexerMarketReader({ indexer, stream, tags: [MARKET_TAG, PAYMENT_TAG] }) }
          : {}),
      })
    : undefined;
  if (market) cleanups.push(() => market.close());
  if (market) ledger.on('milestone', (changes) => void market.catchUp(changes.index));
  ledger.onOwnOutputsSpent(async (outputIds) => {
    await adoptForeignPayments(
      { api: node, store, bech32Hrp: protocol.bech32Hrp, paymentTag: PAYMENT_TAG, log },
      outputIds,
    );
  });
  const received = await ReceivedPayments.open(config.dataDir, {
    api: node,
    addressHex: bech32ToHex(address),
    bech32Hrp: protocol.bech32Hrp,
    paymentTag: PAYMENT_TAG,
    ownTransaction: (id) => store.transaction(id) !== undefined,
    log,
  });
  cleanups.push(() => received.close());
  // The configured starting outputs (genesis funds) are no one's payment.
  const starting = new Set(config.ledger.initialOutputs);
  await received
    .beginFrom(
      ledger.all().filter((o) => !starting.has(o.outputId)),
      ledger.ledgerIndex,
    )
    .catch((error: Error) =>
      log.warn({ err: error.message }, 'received payments: the unspent ones will be read at the next start'),
    );
  ledger.onMilestoneRead((changes) => received.noteMilestone(changes));
  ledger.on('milestone', (changes) => settlement.noteLedgerChanges(changes));
  ledger.on('changed', () => settlement.notify());
  if (stream) {
    // The indexer's milestones wake the view (through its source) and settlement's inclusion checks.
    ledger.on('milestone', () => settlement.noteMilestone());
    stream.start();
  } else followConfirmedMilestones(feed, [() => ledger.wake(), () => settlement.noteMilestone()]);
  ledger.follow(config.ledger.pollIntervalMs);
  settlement.start();
  feed.start();
  const claims = cron.schedule(config.claims.schedule, () => settlement.requestClaim(), { noOverlap: true });

  const app = createApi({
    store,
    ledger,
    addresses,
    ...(market ? { market } : {}),
    ...(indexer ? { indexer } : {}),
    ...(config.bills ? { bills: config.bills } : {}),
    ...(config.bills?.readerKeyFile ? { billsReaderKey: billsReaderKey(config.bills.readerKeyFile) } : {}),
    settlement,
    received,
    resolveDid: didResolver(config.nodeUrl),
    node,
    feed,
    address,
    bech32Hrp: protocol.bech32Hrp,
    rent: protocol.rentStructure,
    tokenSupply: BigInt(protocol.tokenSupply),
    config: config.api,
    listenHost: config.listen.host,
    tokens,
    log,
    metrics: new WalletMetrics({ store, ledger, node, dataDir: config.dataDir, processMetrics: true }),
  });
  serve(app);
  log.info(
    {
      url,
      address,
      network: protocol.networkName,
      // Names and scopes only: the secrets never reach a log.
      tokens: tokens.map((t) => `${t.name}:${t.scopes.join('+')}`),
    },
    'wallet-service listening',
  );

  return {
    url,
    address,
    store,
    ledger,
    settlement,
    received,
    ...(market ? { market } : {}),
    async stop() {
      await claims.stop();
      feed.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await settlement.stop();
      await stream?.stop();
      await ledger.stop();
      await market?.close();
      await received.close();
      await store.close();
      await client.destroy();
      await releaseLock();
    },
  };
}

/** The reader key of the household's restricted meter channel, from its 0600 file. */
function billsReaderKey(file: string): Uint8Array {
  const text = readSecret('bills.readerKeyFile', { file });
  try {
    return fromHex(text, 32, 'reader key');
  } catch {
    throw new WalletConfigError(`bills.readerKeyFile: ${file} must hold an X25519 secret key, 64 hex digits`);
  }
}
