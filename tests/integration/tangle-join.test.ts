import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addPeer,
  type Binaries,
  createLogger,
  DeployError,
  ensureBinaries,
  freePorts,
  type JoinBundle,
  joinedMultiaddr,
  joinNetwork,
  listPeers,
  loadProfile,
  readJoinBundle,
  readState,
  type TangleState,
  tangleDown,
  tangleUp,
  writeJoinBundle,
} from '@tanglewatt/deploy';
import { NodeApi } from '@tanglewatt/ledger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesUnder } from '../support/processes.js';

const log = createLogger('join-test');

/**
 * "Hosts" on this machine: each has its own data dir, its own ports and its own loopback address
 * (127.0.0.10, .2, .3, .4: Linux routes all of 127/8 to lo), so gossip crosses addresses as it would between
 * machines. Network namespaces would isolate them further but need CAP_NET_ADMIN to wire together.
 */
const HOST_A = '127.0.0.10';
const HOST_B = '127.0.0.2';
const HOST_C = '127.0.0.3';
const HOST_D = '127.0.0.4';
/** Milestones the network has confirmed before the first node joins. */
const HISTORY = 20;

interface Health {
  indexedMilestone: number;
  connected: boolean;
}

async function confirmed(api: NodeApi): Promise<number> {
  return (await api.info()).status.confirmedMilestone.index;
}

async function indexedMilestone(url: string): Promise<number> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
  return ((await res.json()) as Health).indexedMilestone;
}

/** Every file under `dir`, read as bytes. */
async function filesUnder(dir: string): Promise<{ file: string; content: Buffer }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(
    entries
      .filter((e) => e.isFile())
      .map(async (e) => ({
        file: join(e.parentPath, e.name),
        content: await readFile(join(e.parentPath, e.name)),
      })),
  );
}

async function joinPorts(): Promise<{ rest: number; gossip: number; inx: number; indexer: number }> {
  const [rest, gossip, inx, indexer] = (await freePorts(4)) as [number, number, number, number];
  return { rest, gossip, inx, indexer };
}

describe('joining the network from other hosts', { timeout: 600_000 }, () => {
  let root: string;
  let binaries: Binaries;
  let network: TangleState;
  let nodeA: NodeApi;
  let bundleDir: string;
  let bundle: JoinBundle;
  let joinedB: TangleState;
  const dataDirs = () => ['host-d', 'host-c', 'host-b', 'host-a'].map((d) => join(root, d));

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tanglewatt-join-'));
    binaries = await ensureBinaries({ log });
    if (!binaries['tanglewatt-indexer']) throw new Error('tanglewatt-indexer did not build');
    // Host A: the coordinator's host, one node, on a network of its own (not the shared test tangle).
    network = await tangleUp({
      dataDir: join(root, 'host-a'),
      profile: await loadProfile('development'),
      binaries,
      log,
      milestoneInterval: '1s',
      ports: 'auto',
      indexer: false,
      gossipHost: HOST_A,
    });
    nodeA = new NodeApi(network.nodes[0]!.restUrl);
    bundleDir = join(root, 'bundle');
  });

  afterAll(async () => {
    if (!root) return;
    for (const dir of dataDirs()) await tangleDown(dir).catch(() => undefined);
    for (const dir of dataDirs()) expect(processesUnder(dir)).toEqual([]);
    await rm(root, { recursive: true, force: true });
  });

  it("writes a bundle with the coordinator's public keys and none of its private keys", async () => {
    bundle = await writeJoinBundle({ dataDir: join(root, 'host-a'), outDir: bundleDir });
    const keys = JSON.parse(await readFile(join(root, 'host-a', 'secrets', 'keys.json'), 'utf8')) as {
      coordinator: { privateKey: string; publicKey: string }[];
      jwtSalt: string;
    };
    expect(bundle.protocol.publicKeyRanges.map((r) => r.key).sort()).toEqual(
      keys.coordinator.map((k) => k.publicKey).sort(),
    );
    expect(bundle.networkName).toBe(network.networkName);
    expect(bundle.peers).toEqual([
      {
        alias: 'hornet-1',
        multiAddress: `/ip4/${HOST_A}/tcp/${network.nodes[0]!.gossipPort}/p2p/${network.nodes[0]!.peerId}`,
      },
    ]);

    const files = await filesUnder(bundleDir);
    expect(files.map((f) => f.file.slice(bundleDir.length + 1)).sort()).toEqual([
      'bundle.json',
      'protocol_parameters.json',
      'snapshots/full_snapshot.bin',
    ]);
    // Each private key as hex (either case), its 32-byte seed as hex or raw bytes; and the JWT salt.
    const needles = keys.coordinator.flatMap((k) => {
      const seed = Buffer.from(k.privateKey, 'hex').subarray(0, 32);
      return [k.privateKey.toLowerCase(), k.privateKey.toUpperCase(), seed.toString('hex'), seed];
    });
    needles.push(keys.jwtSalt);
    for (const { file, content } of files) {
      for (const needle of needles) expect(content.includes(needle), `${file} holds a secret`).toBe(false);
    }
    await expect(readJoinBundle(bundleDir)).resolves.toEqual(bundle);
  });

  it('a node joined from its own data dir and ports syncs with the coordinator host and its indexer follows', async () => {
    // A history to catch up on: the joiner starts from the genesis snapshot and must fetch every milestone since.
    await expect
      .poll(() => confirmed(nodeA), { timeout: 60_000, interval: 1_000 })
      .toBeGreaterThanOrEqual(HISTORY);
    const ports = await joinPorts();
    joinedB = await joinNetwork({
      dataDir: join(root, 'host-b'),
      bundleDir,
      binaries,
      log,
      alias: 'hornet-b',
      ports,
      gossipHost: HOST_B,
      indexer: true,
    });
    expect(joinedB.nodes[0]!.restUrl).toBe(`http://127.0.0.1:${ports.rest}`);
    expect(joinedB.indexerUrl).toBe(`http://127.0.0.1:${ports.indexer}`);
    // Host A learns of the new node as a static peer, as the README's steps have it.
    const multiaddrB = joinedMultiaddr(joinedB, HOST_B);
    await addPeer(join(root, 'host-a'), multiaddrB, { alias: 'hornet-b' });
    await expect
      .poll(
        async () => (await listPeers(join(root, 'host-a'))).find((p) => p.id === joinedB.nodes[0]!.peerId),
        {
          timeout: 30_000,
        },
      )
      .toMatchObject({ alias: 'hornet-b', relation: 'known', connected: true });
    // HORNET keeps a peer added through its API in its peering file, so it survives a restart of host A.
    expect(await readFile(join(network.nodes[0]!.dir, 'peering.json'), 'utf8')).toContain(multiaddrB);

    const nodeB = new NodeApi(joinedB.nodes[0]!.restUrl);
    const infoB = await nodeB.info();
    expect(infoB.protocol.networkName).toBe(network.networkName);
    expect(infoB.status.isHealthy).toBe(true);
    expect(infoB.status.confirmedMilestone.index).toBeGreaterThanOrEqual(HISTORY);
    // Caught up: within a few milestones B confirms what A had confirmed, and keeps advancing.
    const targetA = await confirmed(nodeA);
    await expect.poll(() => confirmed(nodeB), { timeout: 10_000 }).toBeGreaterThanOrEqual(targetA);
    const laterB = await confirmed(nodeB);
    await expect.poll(() => confirmed(nodeB), { timeout: 10_000 }).toBeGreaterThan(laterB);
    // The same milestone on both nodes: B verified A's coordinator signatures, it did not make its own.
    expect(await nodeB.milestoneByIndex(targetA)).toEqual(await nodeA.milestoneByIndex(targetA));

    // Its indexer follows B's confirmed milestones over B's own INX port.
    await expect
      .poll(() => indexedMilestone(joinedB.indexerUrl!), { timeout: 20_000 })
      .toBeGreaterThanOrEqual(targetA);
    const res = await fetch(`${joinedB.indexerUrl}/api/v1/milestones/${targetA}`);
    expect(res.status).toBe(200);
  });

  it('a third host joins the same way, peered with both', async () => {
    const ports = await joinPorts();
    const multiaddrB = joinedMultiaddr(joinedB, HOST_B);
    const joinedC = await joinNetwork({
      dataDir: join(root, 'host-c'),
      bundleDir,
      binaries,
      log,
      alias: 'hornet-c',
      ports,
      gossipHost: HOST_C,
      peers: [{ alias: 'hornet-b', multiAddress: multiaddrB }],
      indexer: true,
    });
    const multiaddrC = joinedMultiaddr(joinedC, HOST_C);
    await addPeer(join(root, 'host-a'), multiaddrC, { alias: 'hornet-c' });
    await addPeer(join(root, 'host-b'), multiaddrC, { alias: 'hornet-c' });
    for (const host of ['host-a', 'host-b']) {
      await expect
        .poll(
          async () => (await listPeers(join(root, host))).find((p) => p.alias === 'hornet-c')?.connected,
          {
            timeout: 30_000,
          },
        )
        .toBe(true);
    }
    const peersOfC = await listPeers(join(root, 'host-c'));
    expect(
      peersOfC
        .filter((p) => p.connected)
        .map((p) => p.alias)
        .sort(),
    ).toEqual(['hornet-1', 'hornet-b']);

    const nodeC = new NodeApi(joinedC.nodes[0]!.restUrl);
    const targetA = await confirmed(nodeA);
    await expect.poll(() => confirmed(nodeC), { timeout: 10_000 }).toBeGreaterThanOrEqual(targetA);
    await expect
      .poll(() => indexedMilestone(joinedC.indexerUrl!), { timeout: 20_000 })
      .toBeGreaterThanOrEqual(targetA);
  });

  it('a joined node stops, refuses tangle up, and resumes from its data dir without the bundle', async () => {
    const dir = join(root, 'host-b');
    await tangleDown(dir);
    expect(processesUnder(dir)).toEqual([]);
    const refused = await tangleUp({
      dataDir: dir,
      profile: await loadProfile('development'),
      binaries,
      log,
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DeployError);
    expect((refused as DeployError).code).toBe('BAD_CONFIG');
    expect((refused as DeployError).message).toContain('tangle -- join');

    const resumed = await joinNetwork({ dataDir: dir, binaries, log, indexer: true });
    expect(resumed.nodes[0]!.peerId).toBe(joinedB.nodes[0]!.peerId);
    expect(resumed.indexerUrl).toBe(joinedB.indexerUrl);
    const nodeB = new NodeApi(resumed.nodes[0]!.restUrl);
    const targetA = await confirmed(nodeA);
    await expect.poll(() => confirmed(nodeB), { timeout: 15_000 }).toBeGreaterThanOrEqual(targetA);
  });

  it('a host joining after the network pruned its early milestones starts from the snapshot in a fresh bundle', async () => {
    // Host A snapshots every 10 milestones and keeps 20: what a long-running network looks like, sooner.
    const dirA = join(root, 'host-a');
    await tangleDown(dirA);
    const configFile = join(network.nodes[0]!.dir, 'config.json');
    const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, Record<string, unknown>>;
    config.snapshots = { ...config.snapshots, enabled: true, depth: 20, interval: 10 };
    config.pruning = { ...config.pruning, milestones: { enabled: true, maxMilestonesToKeep: 20 } };
    await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
    await tangleUp({
      dataDir: dirA,
      profile: await loadProfile('development'),
      binaries,
      log,
      indexer: false,
    });
    // Restarted without the option, it still listens where it was told to the first time.
    expect((await readState(dirA))?.gossipHost).toBe(HOST_A);
    // And it kept the joined nodes as static peers: HORNET read them back from its peering.json.
    for (const alias of ['hornet-b', 'hornet-c']) {
      await expect
        .poll(async () => (await listPeers(dirA)).find((p) => p.alias === alias), { timeout: 30_000 })
        .toMatchObject({ relation: 'known', connected: true });
    }
    await expect
      .poll(async () => (await nodeA.info()).status.pruningIndex, { timeout: 180_000, interval: 2_000 })
      .toBeGreaterThan(1);
    await expect(nodeA.milestoneByIndex(1)).rejects.toMatchObject({ status: 404 });

    const laterBundle = await writeJoinBundle({ dataDir: dirA, outDir: join(root, 'bundle-later') });
    expect(laterBundle.snapshots.delta).toBe('snapshots/delta_snapshot.bin');
    expect(laterBundle.peers.map((p) => p.multiAddress)).toEqual([bundle.peers[0]!.multiAddress]);
    // Only A as a peer (reached at HOST_A): A no longer has milestone 1, so the node must start from the
    // bundle's snapshot.
    const joinedD = await joinNetwork({
      dataDir: join(root, 'host-d'),
      bundleDir: join(root, 'bundle-later'),
      binaries,
      log,
      alias: 'hornet-d',
      ports: await joinPorts(),
      gossipHost: HOST_D,
      indexer: false,
    });
    const nodeD = new NodeApi(joinedD.nodes[0]!.restUrl);
    const infoD = await nodeD.info();
    expect(infoD.status.isHealthy).toBe(true);
    expect(infoD.status.pruningIndex).toBeGreaterThan(1);
    const targetA = await confirmed(nodeA);
    await expect.poll(() => confirmed(nodeD), { timeout: 15_000 }).toBeGreaterThanOrEqual(targetA);
    expect(await nodeD.milestoneByIndex(targetA)).toEqual(await nodeA.milestoneByIndex(targetA));
  });
});
