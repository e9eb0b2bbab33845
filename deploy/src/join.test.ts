import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeployError } from './errors.js';
import { defaultAlias, joinedNodeConfig } from './join.js';
import {
  announceHost,
  BUNDLE_FILE,
  bundleManifest,
  filesContaining,
  gossipMultiaddr,
  peerMultiaddrSchema,
  readJoinBundle,
  secretNeedles,
} from './join-bundle.js';
import type { TangleState } from './tangle.js';

const PEER_ID = '12D3KooWJWEKvSFbben74C7H4YtKjhPMTDxd7gP6zxWSUEeRBwbW';
const PUBLIC_KEY = `0x${'ab'.repeat(32)}`;
const PROTOCOL = {
  targetNetworkName: 'tanglewatt-local',
  milestonePublicKeyCount: 1,
  publicKeyRanges: [{ key: PUBLIC_KEY, start: 0, end: 0 }],
  baseToken: { name: 'TangleWatt Token', decimals: 6 },
};

function state(overrides: Partial<TangleState> = {}): TangleState {
  return {
    formatVersion: 1,
    networkName: 'tanglewatt-local',
    bech32Hrp: 'watt',
    profile: 'development',
    milestoneInterval: '1s',
    createdAt: '2026-12-02T00:00:00.000Z',
    ports: { rest: 14265, gossip: 15600, inx: 9029, mqtt: 1888 },
    nodes: [
      {
        alias: 'hornet-1',
        restUrl: 'http://127.0.0.1:14265',
        restPort: 14265,
        gossipPort: 15600,
        peerId: PEER_ID,
        dir: '/data/hornet-1',
      },
    ],
    genesis: { mintAddress: 'watt1mint', mintOutputId: `0x${'00'.repeat(34)}`, allocations: [] },
    processes: [],
    ...overrides,
  };
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(DeployError);
    expect((error as DeployError).message).not.toContain('\n');
    return (error as DeployError).code;
  }
}

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('gossip addresses of a join', () => {
  it('spells IPv4, IPv6 and DNS hosts as libp2p multiaddrs', () => {
    expect(gossipMultiaddr('192.168.1.10', 15600, PEER_ID)).toBe(
      `/ip4/192.168.1.10/tcp/15600/p2p/${PEER_ID}`,
    );
    expect(gossipMultiaddr('fd00::2', 15600, PEER_ID)).toBe(`/ip6/fd00::2/tcp/15600/p2p/${PEER_ID}`);
    expect(gossipMultiaddr('pi-2.local', 15600, PEER_ID)).toBe(`/dns/pi-2.local/tcp/15600/p2p/${PEER_ID}`);
  });

  it('accepts a multiaddr with a peer id and refuses one without', () => {
    expect(peerMultiaddrSchema.safeParse(`/ip4/10.0.0.2/tcp/15600/p2p/${PEER_ID}`).success).toBe(true);
    expect(peerMultiaddrSchema.safeParse('/ip4/10.0.0.2/tcp/15600').success).toBe(false);
    expect(peerMultiaddrSchema.safeParse('/ip4/10.0.0.2/tcp/15600/p2p/notapeerid').success).toBe(false);
  });

  it('announces where the nodes listen, and refuses an address no other host could reach', () => {
    expect(announceHost(state())).toBe('127.0.0.1');
    expect(announceHost(state({ gossipHost: '192.168.1.10' }))).toBe('192.168.1.10');
    expect(announceHost(state({ gossipHost: '0.0.0.0' }), '192.168.1.10')).toBe('192.168.1.10');
    // Listening on loopback only: a LAN address would be unreachable.
    expect(code(() => announceHost(state(), '192.168.1.10'))).toBe('BAD_CONFIG');
    // Listening everywhere: which address others use must be said.
    expect(code(() => announceHost(state({ gossipHost: '0.0.0.0' })))).toBe('BAD_CONFIG');
    expect(code(() => announceHost(state({ gossipHost: '10.0.0.1' }), '192.168.1.10'))).toBe('BAD_CONFIG');
  });
});

describe('join bundle manifest', () => {
  it("lists the network's nodes at the announced address and carries the public protocol section", () => {
    const manifest = bundleManifest(
      state(),
      PROTOCOL,
      '192.168.1.10',
      { full: 'snapshots/full_snapshot.bin' },
      [{ alias: 'hornet-b', multiAddress: `/ip4/192.168.1.11/tcp/15600/p2p/${PEER_ID}` }],
    );
    expect(manifest.peers).toEqual([
      { alias: 'hornet-1', multiAddress: `/ip4/192.168.1.10/tcp/15600/p2p/${PEER_ID}` },
      { alias: 'hornet-b', multiAddress: `/ip4/192.168.1.11/tcp/15600/p2p/${PEER_ID}` },
    ]);
    expect(manifest.protocol.publicKeyRanges).toEqual([{ key: PUBLIC_KEY, start: 0, end: 0 }]);
    expect(manifest).toMatchObject({
      networkName: 'tanglewatt-local',
      bech32Hrp: 'watt',
      milestoneInterval: '1s',
    });
  });

  it('refuses a protocol section without milestone public keys', () => {
    expect(
      code(() => bundleManifest(state(), { ...PROTOCOL, publicKeyRanges: [] }, '127.0.0.1', { full: 'x' })),
    ).toBe('BAD_CONFIG');
  });

  it('reads back what it wrote, and names the field of a bad bundle in one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'join-bundle-'));
    dirs.push(dir);
    await mkdir(join(dir, 'snapshots'));
    await writeFile(join(dir, 'snapshots', 'full_snapshot.bin'), 'snapshot');
    const manifest = bundleManifest(state(), PROTOCOL, '127.0.0.1', { full: 'snapshots/full_snapshot.bin' });
    await writeFile(join(dir, BUNDLE_FILE), JSON.stringify(manifest));
    await expect(readJoinBundle(dir)).resolves.toEqual(manifest);

    await writeFile(join(dir, BUNDLE_FILE), JSON.stringify({ ...manifest, peers: [] }));
    const error = (await readJoinBundle(dir).catch((e: unknown) => e)) as DeployError;
    expect(error.code).toBe('BAD_CONFIG');
    expect(error.message).toMatch(/^--bundle: .*: peers: /);
    expect(error.message).not.toContain('\n');

    await writeFile(
      join(dir, BUNDLE_FILE),
      JSON.stringify({ ...manifest, snapshots: { full: '../etc/passwd' } }),
    );
    await expect(readJoinBundle(dir)).rejects.toMatchObject({ code: 'BAD_CONFIG' });
  });
});

describe('coordinator secrets and a bundle', () => {
  const privateKey = `${'1f'.repeat(32)}${'ab'.repeat(32)}`;

  it('finds a private key in a file as hex, upper-case hex, seed hex or raw seed bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'join-secrets-'));
    dirs.push(dir);
    await mkdir(join(dir, 'sub'));
    const seed = Buffer.from('1f'.repeat(32), 'hex');
    await writeFile(join(dir, 'clean.json'), JSON.stringify({ key: PUBLIC_KEY }));
    await writeFile(join(dir, 'hex.json'), `{"k":"0x${privateKey}"}`);
    await writeFile(join(dir, 'upper.txt'), privateKey.toUpperCase());
    await writeFile(
      join(dir, 'sub', 'raw.bin'),
      Buffer.concat([Buffer.from('head'), seed, Buffer.from('tail')]),
    );
    const found = await filesContaining(dir, secretNeedles([privateKey]));
    expect(found.map((f) => f.slice(dir.length + 1)).sort()).toEqual([
      'hex.json',
      'sub/raw.bin',
      'upper.txt',
    ]);
  });
});

describe('joined node config', () => {
  it("keeps the template, takes the network's protocol section and this node's paths and ports", () => {
    const template = {
      node: { alias: 'tanglewatt', profile: 'auto' },
      protocol: { targetNetworkName: 'other', publicKeyRanges: [] },
      pruning: { milestones: { enabled: true } },
      restAPI: { bindAddress: '127.0.0.1:14265', publicRoutes: ['/health'] },
      p2p: { bindMultiAddresses: ['/ip4/127.0.0.1/tcp/15600'], autopeering: { enabled: false } },
    };
    const config = joinedNodeConfig(template, PROTOCOL, {
      alias: 'hornet-b',
      dir: '/srv/tw/hornet-b',
      gossipHost: '0.0.0.0',
      ports: { rest: 24265, gossip: 25600, inx: 19029, indexer: 19092 },
      jwtSalt: 'salt',
    }) as Record<string, Record<string, unknown>>;
    expect(config.protocol).toEqual(PROTOCOL);
    expect(config.node).toEqual({ alias: 'hornet-b', profile: 'auto' });
    expect(config.p2p).toMatchObject({
      bindMultiAddresses: ['/ip4/0.0.0.0/tcp/25600'],
      db: { path: '/srv/tw/hornet-b/p2pstore' },
      autopeering: { enabled: false },
    });
    expect(config.restAPI).toMatchObject({
      bindAddress: '127.0.0.1:24265',
      jwtAuth: { salt: 'salt' },
      publicRoutes: ['/health'],
    });
    expect(config.inx).toEqual({ enabled: true, bindAddress: '127.0.0.1:19029' });
    expect(config.db).toEqual({ path: '/srv/tw/hornet-b/db' });
    expect(config.snapshots).toEqual({
      fullPath: '/srv/tw/hornet-b/snapshots/full_snapshot.bin',
      deltaPath: '/srv/tw/hornet-b/snapshots/delta_snapshot.bin',
    });
    expect(config.pruning).toEqual(template.pruning);
    // The template itself is left as it was.
    expect(template.node.alias).toBe('tanglewatt');
  });

  it('names a node after its host in the characters peer aliases allow', () => {
    expect(defaultAlias('Pi-Kitchen.local')).toBe('hornet-pi-kitchen-local');
    expect(defaultAlias('___')).toBe('hornet-node');
  });
});
