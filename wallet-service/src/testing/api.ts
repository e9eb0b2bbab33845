// Test support: the wallet-service's HTTP API on a loopback port, with what a test does not exercise left idle.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeApi } from '@tanglewatt/ledger';
import pino from 'pino';
import { type ApiDeps, createApi } from '../api.js';
import { parseWalletConfig } from '../config.js';
import { LiveFeed } from '../feed.js';

/** The wallet's own address in these tests. */
export const TEST_ADDRESS = 'watt1qq9x4cs9vtwpd7m5etek37jw42tzvyy8nhmkyhpev0mfax937lpjuyjmu6a';

/** What a test gives; `api` is the config's api section, before parsing. */
export type TestApiParts = Pick<ApiDeps, 'store' | 'ledger' | 'settlement' | 'tokens'> &
  Partial<Omit<ApiDeps, 'config'>> & { api?: Record<string, unknown> };

/**
 * createApi's deps: a node nothing listens on (port 9: node reads fail as NODE_UNREACHABLE), no unspent
 * outputs, no received payments or DIDs to read, a silent log, and the rest as `parts` says.
 */
export function testApiDeps(parts: TestApiParts): ApiDeps {
  const { api, ...given } = parts;
  const log = given.log ?? pino({ level: 'silent' });
  const node = given.node ?? new NodeApi('http://127.0.0.1:9', { timeoutMs: 1000 });
  const config = parseWalletConfig({
    nodeUrl: 'http://127.0.0.1:9',
    dataDir: '/unused',
    keystore: { file: '/unused' },
    ...(api ? { api } : {}),
  });
  return {
    addresses: { unspentOf: () => [], firstMilestone: undefined } as never,
    received: {} as never,
    resolveDid: async () => {
      throw new Error('not used');
    },
    feed: new LiveFeed(node, log),
    address: TEST_ADDRESS,
    bech32Hrp: 'watt',
    tokenSupply: 10n ** 15n,
    rent: { vByteCost: 100, vByteFactorKey: 10, vByteFactorData: 1 },
    config: config.api,
    listenHost: '127.0.0.1',
    ...given,
    log,
    node,
  };
}

export interface ListeningApi {
  app: ReturnType<typeof createApi>;
  server: Server;
  port: number;
  url: string;
  /** Closes the server and any connection still open. */
  close(): Promise<void>;
}

/** createApi(testApiDeps(parts)), listening on a free loopback port. */
export async function listenTestApi(parts: TestApiParts): Promise<ListeningApi> {
  const app = createApi(testApiDeps(parts));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as AddressInfo).port;
  return {
    app,
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
