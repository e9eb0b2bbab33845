import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLogger,
  ensureBinaries,
  isRunning,
  type RunningIndexer,
  startIndexer,
  stopIndexer,
  type TangleState,
  tangleDown,
} from '@tanglewatt/deploy';
import {
  generateMnemonic,
  LedgerClient,
  MnemonicSigner,
  NodeApi,
  NodeRequestError,
  utf8ToHex,
} from '@tanglewatt/ledger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fundedAccount } from '../support/accounts.js';
import { startDevTangle } from '../support/dev-tangle.js';
import { processesUnder } from '../support/processes.js';

const log = createLogger('indexer-test');
const PAY_TAG = 'tanglewatt/pay/v1';
/** HORNET keeps this many milestones (and at least its solid-entry-point window of ~20): pruning starts within a minute at 1 s milestones. */
const KEEP_MILESTONES = 20;

interface OutputItem {
  metadata: { outputId: string; transactionId: string; isSpent: boolean; milestoneIndexBooked: number };
  output: { amount: string };
  roles: string[];
}
interface Health {
  indexedMilestone: number;
  nodePruningIndex: number;
  connected: boolean;
  gaps: { from: number; to: number }[];
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: (await res.json()) as T };
}

async function outputsOf(indexer: RunningIndexer, address: string): Promise<OutputItem[]> {
  return (
    await getJson<{ items: OutputItem[] }>(`${indexer.url}/api/v1/addresses/${address}/outputs?unspent=true`)
  ).body.items;
}

async function isPrunedOnNode(node: NodeApi, blockId: string): Promise<boolean> {
  return node.block(blockId).then(
    () => false,
    (error: unknown) => error instanceof NodeRequestError && error.status === 404,
  );
}

/**
 * Collects server-sent events from the indexer's stream until stopped. Resolves once the response
 * headers arrived: the indexer subscribes the stream before it sends them.
 */
async function listen(url: string): Promise<{ events: { name: string; data: unknown }[]; stop: () => void }> {
  const events: { name: string; data: unknown }[] = [];
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal });
  if (res.status !== 200) throw new Error(`stream answered ${res.status}`);
  void (async () => {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const name = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (name && data) events.push({ name, data: JSON.parse(data) });
        end = buffer.indexOf('\n\n');
      }
    }
  })().catch(() => undefined);
  return { events, stop: () => abort.abort() };
}

// One tangle of its own, so its node can be configured to prune within a minute.
describe('community indexer on real HORNET', { timeout: 240_000 }, () => {
  let dataDir: string;
  let tangle: TangleState;
  let node: NodeApi;
  let client: LedgerClient;
  let binary: string;
  let indexer: RunningIndexer;
  let indexerDir: string;
  let payee: string;
  let posted: { blockId: string; transactionId: string };
  let paidAt: number;
  const amount = 1_500_000n;
  const description = JSON.stringify({ payments: [{ key: 'indexer-test-1', energyMWs: '3600000' }] });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tanglewatt-indexer-'));
    indexerDir = join(dataDir, 'indexer');
    tangle = await startDevTangle(dataDir, log);
    await tangleDown(dataDir);
    // Prune by milestone count and take no snapshots (snapshot depth would otherwise hold pruning back).
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
    client = new LedgerClient(tangle.nodes[0]!.restUrl);

    const built = (await ensureBinaries({ log }))['tanglewatt-indexer'];
    if (!built) throw new Error('tanglewatt-indexer did not build: see the ensureBinaries warning above');
    binary = built;
    indexer = await startIndexer({
      binary,
      inxAddress: `127.0.0.1:${tangle.ports.inx}`,
      dataDir: indexerDir,
    });
  });

  afterAll(async () => {
    client?.destroy();
    if (indexer) await stopIndexer(indexer);
    if (dataDir) {
      await tangleDown(dataDir).catch(() => undefined);
      expect(processesUnder(dataDir)).toEqual([]);
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('lists a tagged payment under the payee address and its block under the tag, and streams it', async () => {
    const payer = await fundedAccount(tangle, 37);
    payee = (
      await new MnemonicSigner(generateMnemonic()).addresses({ count: 1, bech32Hrp: tangle.bech32Hrp })
    )[0]!;
    const stream = await listen(`${indexer.url}/api/v1/stream?address=${payee}`);
    posted = await client.transfer({
      signer: payer.signer,
      accountIndex: payer.accountIndex,
      inputs: [payer.outputId],
      to: payee,
      amount,
      tag: PAY_TAG,
      data: description,
    });
    paidAt = (await node.waitForReferenced(posted.blockId)).referencedByMilestoneIndex!;

    await expect.poll(() => outputsOf(indexer, payee), { timeout: 20_000 }).toHaveLength(1);
    const [item] = await outputsOf(indexer, payee);
    expect(item!.metadata.transactionId).toBe(posted.transactionId);
    expect(BigInt(item!.output.amount)).toBe(amount);
    expect(item!.roles).toEqual(['address']);
    expect(item!.metadata.milestoneIndexBooked).toBe(paidAt);

    const tagged = await getJson<{
      items: { blockId: string; data: string; milestoneIndex: number; outputIds: string[] }[];
    }>(`${indexer.url}/api/v1/tags/${PAY_TAG}/blocks?from=${paidAt}`);
    const listedBlock = tagged.body.items.find((b) => b.blockId === posted.blockId);
    expect(listedBlock).toMatchObject({ milestoneIndex: paidAt, data: utf8ToHex(description) });
    expect(listedBlock!.outputIds).toContain(item!.metadata.outputId);

    // The stored block is the node's own JSON for it.
    const stored = await getJson<unknown>(`${indexer.url}/api/v1/blocks/${posted.blockId}`);
    expect(stored.body).toEqual(await node.block(posted.blockId));

    await expect
      .poll(() => stream.events.find((e) => e.name === 'output'), { timeout: 10_000 })
      .toMatchObject({ data: { change: 'created', metadata: { transactionId: posted.transactionId } } });
    expect(stream.events.some((e) => e.name === 'milestone')).toBe(true);
    stream.stop();
  });

  it('still serves the payment after the node has pruned its milestone', async () => {
    // The node answers 404 for the block once it pruned the milestone that referenced it.
    await expect
      .poll(() => isPrunedOnNode(node, posted.blockId), { timeout: 150_000, interval: 2_000 })
      .toBe(true);
    await expect(node.milestoneByIndex(paidAt)).rejects.toMatchObject({ status: 404 });

    const stored = await getJson<{ payload: { essence: { payload: { tag: string } } } }>(
      `${indexer.url}/api/v1/blocks/${posted.blockId}`,
    );
    expect(stored.status).toBe(200);
    expect(stored.body.payload.essence.payload.tag).toBe(utf8ToHex(PAY_TAG));
    const [item] = await outputsOf(indexer, payee);
    expect(item!.metadata.transactionId).toBe(posted.transactionId);
    const milestone = await getJson<{ index: number; taggedBlocks: number }>(
      `${indexer.url}/api/v1/milestones/${paidAt}`,
    );
    expect(milestone.body).toMatchObject({ index: paidAt });
    expect(milestone.body.taggedBlocks).toBeGreaterThanOrEqual(1);
  });

  it('after SIGKILL, resumes at the milestone after the last one it committed: none missing, no gap', async () => {
    const before = (await getJson<Health>(`${indexer.url}/health`)).body;
    process.kill(indexer.process.pid, 'SIGKILL');
    await expect.poll(() => isRunning(indexer.process), { timeout: 5_000 }).toBe(false);
    indexer = await startIndexer({
      binary,
      inxAddress: `127.0.0.1:${tangle.ports.inx}`,
      dataDir: indexerDir,
    });
    await expect
      .poll(async () => (await getJson<Health>(`${indexer.url}/health`)).body.indexedMilestone, {
        timeout: 20_000,
      })
      .toBeGreaterThan(before.indexedMilestone + 3);
    const after = (await getJson<Health>(`${indexer.url}/health`)).body;
    expect(after.gaps).toEqual(before.gaps);
    await expectEveryMilestoneOutsideGaps(after);
  });

  it('resumes after a restart, and records the milestones the node pruned while it was stopped', async () => {
    await stopIndexer(indexer);
    const stoppedAt = await stoppedCursor();

    // Paid while the indexer is down, then pruned on the node before it comes back.
    const payer = await fundedAccount(tangle, 38);
    const [payeeInGap] = await new MnemonicSigner(generateMnemonic()).addresses({
      count: 1,
      bech32Hrp: tangle.bech32Hrp,
    });
    const inGap = await client.transfer({
      signer: payer.signer,
      accountIndex: payer.accountIndex,
      inputs: [payer.outputId],
      to: payeeInGap!,
      amount,
      tag: PAY_TAG,
      data: JSON.stringify({ payments: [{ key: 'indexer-test-gap' }] }),
    });
    await node.waitForReferenced(inGap.blockId);
    await expect
      .poll(() => isPrunedOnNode(node, inGap.blockId), { timeout: 150_000, interval: 2_000 })
      .toBe(true);

    indexer = await startIndexer({
      binary,
      inxAddress: `127.0.0.1:${tangle.ports.inx}`,
      dataDir: indexerDir,
    });
    await expect
      .poll(async () => (await getJson<Health>(`${indexer.url}/health`)).body.gaps, { timeout: 20_000 })
      .toContainEqual(expect.objectContaining({ from: stoppedAt + 1 }));
    const gap = (await getJson<Health>(`${indexer.url}/health`)).body.gaps.find(
      (g) => g.from === stoppedAt + 1,
    )!;
    expect(gap.to).toBeGreaterThanOrEqual(stoppedAt + 1);
    await expect
      .poll(async () => (await getJson<Health>(`${indexer.url}/health`)).body.indexedMilestone, {
        timeout: 20_000,
      })
      .toBeGreaterThan(gap.to);

    // What it held before is still there; the output paid in the gap came back from the node's unspent set.
    expect((await outputsOf(indexer, payee))[0]!.metadata.transactionId).toBe(posted.transactionId);
    const recovered = await outputsOf(indexer, payeeInGap!);
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.metadata.transactionId).toBe(inGap.transactionId);
    // Its block was in the pruned range: lost, and the indexer says so rather than inventing it.
    expect((await getJson<unknown>(`${indexer.url}/api/v1/blocks/${inGap.blockId}`)).status).toBe(404);
    await expectEveryMilestoneOutsideGaps((await getJson<Health>(`${indexer.url}/health`)).body);
  });

  /** Every milestone from the first the indexer could read up to its cursor is stored, except recorded gaps. */
  async function expectEveryMilestoneOutsideGaps(health: Health): Promise<void> {
    const inGap = (i: number) => health.gaps.some((g) => i >= g.from && i <= g.to);
    const missing: number[] = [];
    for (let i = 1; i <= health.indexedMilestone; i++) {
      if (inGap(i)) continue;
      if ((await fetch(`${indexer.url}/api/v1/milestones/${i}`)).status !== 200) missing.push(i);
    }
    expect(missing).toEqual([]);
  }

  /** The last milestone a stopped indexer had indexed, from the line it logs on SIGTERM. */
  async function stoppedCursor(): Promise<number> {
    const logText = await readFile(join(indexerDir, 'indexer.log'), 'utf8');
    const match = [...logText.matchAll(/stopping at milestone (\d+)/g)].pop();
    if (!match) throw new Error(`indexer log has no "stopping at milestone": ${logText.slice(-500)}`);
    return Number(match[1]);
  }
});
