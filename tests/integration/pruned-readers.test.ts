import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newX25519SecretKey, toHex, x25519PublicKey } from '@tanglewatt/channels/node';
import type { Balance, Payment } from '@tanglewatt/contract';
import {
  createLogger,
  ensureBinaries,
  type RunningIndexer,
  startIndexer,
  stopIndexer,
  type TangleState,
  tangleDown,
} from '@tanglewatt/deploy';
import { IndexerApi, NodeApi, NodeRequestError } from '@tanglewatt/ledger';
import type { Book } from '@tanglewatt/market';
import { type AgentHandle, startAgent } from '@tanglewatt/meter-agent';
import { agentConfig, wanderingLoad } from '@tanglewatt/meter-agent/testing';
import { startWalletService } from '@tanglewatt/wallet-service';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fundedAccount } from '../support/accounts.js';
import { verifyPeriodArgs } from '../support/channels-cli.js';
import { startDevTangle } from '../support/dev-tangle.js';
import { processesUnder } from '../support/processes.js';
import { api, startTestWallet, type TestWallet } from '../support/wallets.js';

const log = createLogger('pruned-readers-test');
/** HORNET keeps this many milestones (about its solid-entry-point window): pruning starts within a minute. */
const KEEP_MILESTONES = 20;
type MarketBook = Book & { ledgerIndex: number };
type Reader = { url: string; token: string };

/** GET on a wallet-service's API, with the header that says where an explorer answer came from. */
async function read<T>(
  wallet: Reader,
  path: string,
): Promise<{ status: number; source: string | null; body: T }> {
  const res = await fetch(`${wallet.url}${path}`, { headers: { authorization: `Bearer ${wallet.token}` } });
  return {
    status: res.status,
    source: res.headers.get('x-tanglewatt-source'),
    body: (await res.json()) as T,
  };
}

const notFound = (error: unknown) => error instanceof NodeRequestError && error.status === 404;
const prunedOnNode = (read: () => Promise<unknown>) => read().then(() => false, notFound);

// Its own tangle, whose node keeps only ~20 milestones and takes no snapshots: what the wallet-services,
// the explorer and verify-period read must then come from the community indexer.
describe('readers after the node pruned their milestones', { timeout: 240_000 }, () => {
  let dataDir: string;
  let tangle: TangleState;
  let node: NodeApi;
  let indexer: RunningIndexer;
  let payer: TestWallet;
  let payee: TestWallet;
  let fresh: TestWallet | undefined;
  let restarted: Awaited<ReturnType<typeof startWalletService>> | undefined;
  let agent: AgentHandle | undefined;
  const readerKey = newX25519SecretKey();

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tanglewatt-pruned-readers-'));
    tangle = await startDevTangle(dataDir, log);
    await tangleDown(dataDir);
    const configFile = join(tangle.nodes[0]!.dir, 'config.json');
    const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, Record<string, unknown>>;
    config.snapshots = { ...config.snapshots, enabled: false };
    config.pruning = {
      ...config.pruning,
      milestones: { enabled: true, maxMilestonesToKeep: KEEP_MILESTONES },
    };
    await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
    tangle = await startDevTangle(dataDir, log);
    node = new NodeApi(tangle.nodes[0]!.restUrl);
    const binary = (await ensureBinaries({ log }))['tanglewatt-indexer'];
    if (!binary) throw new Error('tanglewatt-indexer did not build: see the ensureBinaries warning above');
    indexer = await startIndexer({
      binary,
      inxAddress: `127.0.0.1:${tangle.ports.inx}`,
      dataDir: join(dataDir, 'indexer'),
    });
    // Its first start reads the node's unspent outputs (the genesis funds among them).
    const confirmed = (await node.info()).status.confirmedMilestone.index;
    const health = () => new IndexerApi(indexer.url).health();
    for (let i = 0; (await health()).indexedMilestone <= confirmed; i++) {
      if (i > 240) throw new Error('the indexer did not reach the node within 60 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    payer = await startTestWallet(tangle, { slot: 0, indexerUrl: indexer.url });
    payee = await startTestWallet(tangle, { slot: 1, indexerUrl: indexer.url });
  });

  afterAll(async () => {
    await agent?.stop();
    for (const s of [restarted ? undefined : payer?.service, payee?.service, fresh?.service, restarted])
      await s?.stop();
    if (indexer) await stopIndexer(indexer);
    if (dataDir) {
      await tangleDown(dataDir).catch(() => undefined);
      expect(processesUnder(dataDir)).toEqual([]);
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('serves payments, channel messages, market books and balances from the indexer once the node pruned them', async () => {
    const readerFile = join(dataDir, 'reader.key');
    await writeFile(readerFile, `${toHex(readerKey)}\n`, { mode: 0o600 });
    // The payer's meter publishes its readings on a restricted channel; each period's payment names them.
    agent = await startAgent({
      config: agentConfig(join(dataDir, 'agent'), {
        meterId: 'pruned-consumer-1',
        parties: { consumer: payer.service.address, producer: payee.service.address },
        sensors: [
          wanderingLoad({
            seed: 5,
            busVoltageMV: 48_000,
            startMA: 10_000,
            minMA: 8_000,
            maxMA: 12_000,
            stepMA: 100,
          }),
        ],
        sampleIntervalMs: 1000,
        period: { seconds: 10 },
        price: { unitsPerWh: '4000' },
        walletService: { url: payer.service.url, token: payer.token },
        channel: {
          nodeUrl: tangle.nodes[0]!.restUrl,
          mode: 'restricted',
          readers: [toHex(x25519PublicKey(readerKey))],
          batchSeconds: 3,
        },
      }),
      log: pino({ level: 'warn' }),
    });

    // A plain payment and two market messages that trade, while the meter's first period runs.
    const paid = await api<Payment>(payer, 'POST', '/payments', {
      idempotencyKey: 'pruned/plain',
      to: payee.service.address,
      amount: '1000000',
    });
    expect(paid.status).toBe(202);
    const window = { startMs: Date.now(), endMs: Date.now() + 3_600_000 };
    const sell = await api<{ blockId: string }>(payee, 'POST', '/market/sell', {
      energyWh: 1_000,
      priceUnitsPerWh: '10',
      window,
      minLotWh: 1,
    });
    const buy = await api<{ blockId: string }>(payer, 'POST', '/market/buy', {
      energyWh: 400,
      maxPriceUnitsPerWh: '12',
      window,
    });
    expect([sell.status, buy.status]).toEqual([202, 202]);
    const marketBlocks = [sell.body.blockId, buy.body.blockId];
    const referenced = await Promise.all(marketBlocks.map((id) => node.waitForReferenced(id)));
    const marketIndex = Math.max(...referenced.map((m) => m.referencedByMilestoneIndex!));
    await expect
      .poll(() => payer.service.store.get('pruned/plain')?.state, { timeout: 60_000 })
      .toBe('included');
    const tx = payer.service.store.get('pruned/plain')!.transactionId!;

    // A metered period paid with its channel root, then the meter stops (nothing more is published).
    const channelPaid = () =>
      agent!
        .periods(50)
        .find((p) => p.channel?.root !== undefined && payer.service.store.get(p.id)?.state === 'included');
    await expect.poll(channelPaid, { timeout: 90_000, interval: 500 }).toBeDefined();
    const period = channelPaid()!;
    const channelBlocks = agent.channelBlocks(period.id).map((b) => b.blockId);
    expect(channelBlocks.length).toBeGreaterThan(0);
    await agent.stop();
    agent = undefined;
    const channelTx = payer.service.store.get(period.id)!.transactionId!;

    // What the explorer shows while the node still has it. An output the node prunes is a spent one (it keeps
    // its unspent outputs): the payer's genesis output.
    const genesis = (await fundedAccount(tangle, 0)).outputId;
    const reader = { url: payer.service.url, token: payer.token };
    const before = {
      block: await read<{ parents: string[] }>(reader, `/node/transactions/${tx}`),
      metadata: await read<{ blockId: string; referencedByMilestoneIndex: number }>(
        reader,
        `/node/transactions/${tx}/metadata`,
      ),
      output: await read<{ output: unknown; summary: unknown; metadata: Record<string, unknown> }>(
        reader,
        `/node/outputs/${genesis}`,
      ),
      channelBlock: await read<unknown>(reader, `/node/blocks/${channelBlocks[0]}`),
    };
    expect(Object.values(before).map((a) => [a.status, a.source])).toEqual(Array(4).fill([200, 'node']));
    const paidAt = before.metadata.body.referencedByMilestoneIndex;
    const milestone = await read<{ index: number; timestamp: number; previousMilestoneId: string }>(
      reader,
      `/node/milestones/${paidAt}`,
    );
    expect(milestone.source).toBe('node');
    const bookOf = async (w: Reader) => (await read<MarketBook>(w, '/market')).body;
    await expect
      .poll(async () => (await bookOf(reader)).ledgerIndex, { timeout: 30_000 })
      .toBeGreaterThanOrEqual(marketIndex);
    const book = await bookOf(reader);
    expect(book.trades).toHaveLength(1);
    const channelTxBlock = (await node.includedBlockMetadata(channelTx)).blockId;

    // The node prunes every one of those milestones and blocks.
    const prunedBlocks = [before.metadata.body.blockId, ...marketBlocks, ...channelBlocks, channelTxBlock];
    const allPruned = async () =>
      (await prunedOnNode(() => node.milestoneByIndex(paidAt))) &&
      (await prunedOnNode(() => node.output(genesis))) &&
      (await Promise.all(prunedBlocks.map((id) => prunedOnNode(() => node.block(id))))).every(Boolean);
    await expect.poll(allPruned, { timeout: 150_000, interval: 2_000 }).toBe(true);

    // The explorer still answers, from the indexer, what the node served before.
    const after = {
      block: await read<unknown>(reader, `/node/transactions/${tx}`),
      metadata: await read<Record<string, unknown>>(reader, `/node/transactions/${tx}/metadata`),
      output: await read<{ output: unknown; summary: unknown; metadata: Record<string, unknown> }>(
        reader,
        `/node/outputs/${genesis}`,
      ),
      channelBlock: await read<unknown>(reader, `/node/blocks/${channelBlocks[0]}`),
    };
    expect(Object.values(after).map((a) => [a.status, a.source])).toEqual(Array(4).fill([200, 'indexer']));
    expect(after.block.body).toEqual(before.block.body);
    expect(after.metadata.body).toMatchObject({
      blockId: before.metadata.body.blockId,
      parents: before.block.body.parents,
      referencedByMilestoneIndex: paidAt,
      ledgerInclusionState: 'included',
    });
    expect(after.output.body.output).toEqual(before.output.body.output);
    expect(after.output.body.summary).toEqual(before.output.body.summary);
    expect(after.output.body.metadata).toMatchObject({
      isSpent: true,
      transactionIdSpent: before.output.body.metadata.transactionIdSpent,
      milestoneIndexSpent: before.output.body.metadata.milestoneIndexSpent,
    });
    expect(after.channelBlock.body).toEqual(before.channelBlock.body);
    const prunedMilestone = await read<Record<string, unknown>>(reader, `/node/milestones/${paidAt}`);
    expect(prunedMilestone.source).toBe('indexer');
    expect(prunedMilestone.body).toMatchObject({
      index: paidAt,
      timestamp: milestone.body.timestamp,
      previousMilestoneId: milestone.body.previousMilestoneId,
    });

    // A new wallet-service (fresh data dir) rebuilds the same market book from the indexer alone.
    fresh = await startTestWallet(tangle, { indexerUrl: indexer.url });
    const freshReader = { url: fresh.service.url, token: fresh.token };
    await expect
      .poll(async () => (await bookOf(freshReader)).ledgerIndex, { timeout: 30_000 })
      .toBeGreaterThanOrEqual(marketIndex);
    const rebuilt = await bookOf(freshReader);
    expect({ orders: rebuilt.orders, trades: rebuilt.trades }).toEqual({
      orders: book.orders,
      trades: book.trades,
    });

    // verify-period reads the pruned payment and its channel messages from the indexer.
    const verdict = await verifyPeriodArgs([
      '--tx',
      channelTx,
      '--indexer',
      indexer.url,
      '--key-file',
      readerFile,
    ]);
    expect(verdict.stderr).toBe('');
    expect(verdict.stdout).toMatch(/^PASS: \d+ messages \(seq \d+\.\.\d+\) verified; root matches; period /);
    expect(verdict.code).toBe(0);

    // The payer's wallet-service, restarted after its genesis output and payments were pruned, has its balance.
    const balance = (await api<Balance>(payer, 'GET', '/balance')).body;
    await payer.service.stop();
    restarted = await startWalletService(payer.config, pino({ level: 'warn' }));
    const restartedReader = { url: restarted.url, token: payer.token };
    await expect
      .poll(async () => (await read<Balance>(restartedReader, '/balance')).body.availableUnits, {
        timeout: 30_000,
      })
      .toBe(balance.availableUnits);
    const again = (await read<Balance>(restartedReader, '/balance')).body;
    expect({ total: again.totalUnits, outputs: again.outputs }).toEqual({
      total: balance.totalUnits,
      outputs: balance.outputs,
    });
  });
});
