import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { DeployError } from './errors.js';
import { PROTOCOL_PARAMETERS_FILE } from './profile.js';
import { readState, type TangleState } from './tangle.js';

/**
 * What another host needs to run a node of this network: the network's identity, the coordinator's PUBLIC
 * keys (every node verifies milestones against them), a snapshot to start from and whom to peer with.
 * The coordinator's private keys, the JWT salt and the admin token stay on the coordinator's host.
 */
export const BUNDLE_FILE = 'bundle.json';
const SNAPSHOT_DIR = 'snapshots';

const hex32 = z.string().regex(/^(0x)?[0-9a-f]{64}$/, 'a 32-byte hex key');
const peerIdPattern = /^(12D3Koo[1-9A-HJ-NP-Za-km-z]{40,50}|Qm[1-9A-HJ-NP-Za-km-z]{44})$/;

/** A gossip address with the peer's identity: /ip4|ip6|dns/<host>/tcp/<port>/p2p/<peer id>. */
export const peerMultiaddrSchema = z
  .string()
  .regex(
    /^\/(ip4|ip6|dns|dns4|dns6)\/[^/\s]+\/tcp\/[0-9]{1,5}\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/,
    'a gossip multiaddr such as /ip4/192.168.1.10/tcp/15600/p2p/12D3KooW…',
  )
  .refine((a) => peerIdPattern.test(a.split('/p2p/')[1] ?? ''), 'a libp2p peer id after /p2p/');

const bundlePeerSchema = z.strictObject({
  alias: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash or underscore'),
  multiAddress: peerMultiaddrSchema,
});

export const bundleSchema = z.strictObject({
  formatVersion: z.literal(1),
  createdAt: z.string(),
  networkName: z.string().min(1),
  bech32Hrp: z.string().min(1),
  milestoneInterval: z.string(),
  /** The `protocol` section of a node config: network name, base token, milestone public keys. */
  protocol: z.looseObject({
    targetNetworkName: z.string().min(1),
    milestonePublicKeyCount: z.number().int().positive(),
    publicKeyRanges: z
      .array(z.strictObject({ key: hex32, start: z.number().int(), end: z.number().int() }))
      .min(1),
  }),
  peers: z.array(bundlePeerSchema).min(1),
  /** Files under snapshots/ a node starts from: full, and delta when the node has made one. */
  snapshots: z.strictObject({ full: z.string(), delta: z.string().optional() }),
  genesis: z.strictObject({
    mintAddress: z.string(),
    mintOutputId: z.string(),
    allocations: z.array(
      z.strictObject({
        address: z.string(),
        amount: z.string(),
        outputId: z.string(),
        accountIndex: z.number().int().optional(),
      }),
    ),
  }),
});

export type JoinBundle = z.infer<typeof bundleSchema>;

/** The multiaddr other hosts dial to reach a node's gossip at `host` (an IPv4/IPv6 address or a DNS name). */
export function gossipMultiaddr(host: string, port: number, peerId: string): string {
  const kind = /^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(host) ? 'ip4' : host.includes(':') ? 'ip6' : 'dns';
  return `/${kind}/${host}/tcp/${port}/p2p/${peerId}`;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * The host others should dial: the one asked for, else where the nodes listen when that is one address.
 * Refuses a routable address while the nodes listen on loopback only, which no other host could reach.
 */
export function announceHost(state: Pick<TangleState, 'gossipHost'>, requested?: string): string {
  const listen = state.gossipHost ?? '127.0.0.1';
  const host = requested ?? (listen === '0.0.0.0' ? undefined : listen);
  if (host === undefined) {
    throw new DeployError(
      'BAD_CONFIG',
      '--announce: the nodes listen on every address (0.0.0.0): give the address other hosts reach this one at',
    );
  }
  if (!isLoopback(host) && isLoopback(listen)) {
    throw new DeployError(
      'BAD_CONFIG',
      `--announce ${host}: the nodes' gossip listens on ${listen} only: restart the network with "npm run tangle -- up --gossip-host 0.0.0.0" first`,
    );
  }
  if (listen !== '0.0.0.0' && host !== listen && !isLoopback(host)) {
    throw new DeployError(
      'BAD_CONFIG',
      `--announce ${host}: the nodes' gossip listens on ${listen} only: announce that address, or restart with --gossip-host 0.0.0.0`,
    );
  }
  return host;
}

/** The bundle's manifest for a network state and its first node's `protocol` config section. */
export function bundleManifest(
  state: TangleState,
  protocol: Record<string, unknown>,
  host: string,
  snapshots: JoinBundle['snapshots'],
  extraPeers: JoinBundle['peers'] = [],
): JoinBundle {
  const manifest = {
    formatVersion: 1 as const,
    createdAt: new Date().toISOString(),
    networkName: state.networkName,
    bech32Hrp: state.bech32Hrp,
    milestoneInterval: state.milestoneInterval,
    protocol,
    peers: [
      ...state.nodes.map((n) => ({
        alias: n.alias,
        multiAddress: gossipMultiaddr(host, n.gossipPort, n.peerId),
      })),
      ...extraPeers,
    ],
    snapshots,
    genesis: state.genesis,
  };
  const parsed = bundleSchema.safeParse(manifest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DeployError(
      'BAD_CONFIG',
      `join bundle: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/**
 * Copies a snapshot file HORNET may rewrite while it runs (delta snapshots are rewritten in place): the
 * copy is kept only if the source's size and mtime did not change while it was copied.
 */
async function copyStable(from: string, to: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const before = await stat(from);
    await copyFile(from, to);
    const after = await stat(from);
    const busy = existsSync(`${from}_tmp`);
    if (!busy && before.size === after.size && before.mtimeMs === after.mtimeMs) return;
    if (attempt >= 10) {
      throw new DeployError(
        'START_FAILED',
        `${from} kept changing while it was copied: make the bundle again in a moment`,
      );
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** Every coordinator private key's spellings that must never appear in a bundle: hex and raw bytes. */
export function secretNeedles(privateKeys: readonly string[]): Buffer[] {
  return privateKeys.flatMap((key) => {
    const hex = key.replace(/^0x/, '').toLowerCase();
    const bytes = Buffer.from(hex, 'hex');
    // An Ed25519 private key is seed ‖ public key: the seed alone is the secret.
    const seed = bytes.subarray(0, 32);
    return [Buffer.from(hex), Buffer.from(hex.toUpperCase()), Buffer.from(seed.toString('hex')), seed];
  });
}

/** Files under `dir` (recursively) that contain any of the needles. */
export async function filesContaining(dir: string, needles: readonly Buffer[]): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const content = await readFile(file);
    if (needles.some((n) => content.includes(n))) found.push(file);
  }
  return found;
}

export interface BundleOptions {
  /** A network's data dir (`tangle up`), or a joined node's (`tangle join`), that is running or stopped. */
  dataDir: string;
  /** An empty or missing directory to write the bundle to. */
  outDir: string;
  /** The address other hosts reach this host's gossip at (see announceHost). */
  announce?: string;
  /** Further peers the joining node should keep, e.g. nodes that joined earlier. */
  extraPeers?: JoinBundle['peers'];
}

/** Writes a join bundle for the network in `dataDir`; resolves to its manifest. */
export async function writeJoinBundle(options: BundleOptions): Promise<JoinBundle> {
  const dataDir = resolve(options.dataDir);
  const outDir = resolve(options.outDir);
  const state = await readState(dataDir);
  if (!state) {
    throw new DeployError(
      'NOT_RUNNING',
      `no network in ${dataDir}: create one with "npm run tangle -- up" first`,
    );
  }
  if (existsSync(outDir) && (await readdir(outDir)).length > 0) {
    throw new DeployError('BAD_CONFIG', `--out ${outDir}: not empty: give a new directory`);
  }
  const host = announceHost(state, options.announce);
  const source = state.nodes[0]!;
  const config = JSON.parse(await readFile(join(source.dir, 'config.json'), 'utf8')) as {
    protocol?: Record<string, unknown>;
  };
  if (!config.protocol) {
    throw new DeployError('DATA_DIR_STALE', `${join(source.dir, 'config.json')}: no protocol section`);
  }

  // The node's own snapshots: the genesis one until HORNET writes newer ones, so a host joining months
  // later starts near the present instead of asking peers for milestones they have pruned.
  const snapshots: JoinBundle['snapshots'] = { full: `${SNAPSHOT_DIR}/full_snapshot.bin` };
  const hasDelta = existsSync(join(source.dir, 'snapshots', 'delta_snapshot.bin'));
  if (hasDelta) snapshots.delta = `${SNAPSHOT_DIR}/delta_snapshot.bin`;
  // Checked before anything is written, so a refused bundle leaves no half-made directory.
  const manifest = bundleManifest(state, config.protocol, host, snapshots, options.extraPeers);

  await mkdir(join(outDir, SNAPSHOT_DIR), { recursive: true });
  await copyStable(join(source.dir, 'snapshots', 'full_snapshot.bin'), join(outDir, snapshots.full));
  if (snapshots.delta) {
    await copyStable(join(source.dir, 'snapshots', 'delta_snapshot.bin'), join(outDir, snapshots.delta));
  }
  // For reference and tooling: the node itself reads the parameters from the snapshot.
  const parameters = JSON.parse(await readFile(PROTOCOL_PARAMETERS_FILE, 'utf8')) as { networkName?: string };
  if (parameters.networkName === state.networkName) {
    await copyFile(PROTOCOL_PARAMETERS_FILE, join(outDir, 'protocol_parameters.json'));
  }
  await writeFile(join(outDir, BUNDLE_FILE), `${JSON.stringify(manifest, null, 2)}\n`);

  // Defence in depth: nothing above reads the secrets, and this proves it stayed so.
  const keysFile = join(dataDir, 'secrets', 'keys.json');
  if (existsSync(keysFile)) {
    const keys = JSON.parse(await readFile(keysFile, 'utf8')) as { coordinator?: { privateKey: string }[] };
    const leaked = await filesContaining(
      outDir,
      secretNeedles((keys.coordinator ?? []).map((k) => k.privateKey)),
    );
    if (leaked.length) {
      await rm(outDir, { recursive: true, force: true });
      throw new DeployError(
        'BAD_CONFIG',
        `join bundle: ${leaked[0]} holds a coordinator private key: not written`,
      );
    }
  }
  return manifest;
}

/** Reads and checks a bundle directory; one line naming the field when it is not a bundle of ours. */
export async function readJoinBundle(dir: string): Promise<JoinBundle> {
  const file = join(resolve(dir), BUNDLE_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new DeployError('BAD_CONFIG', `--bundle: ${file}: cannot be read (${(error as Error).message})`);
  }
  const parsed = bundleSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DeployError(
      'BAD_CONFIG',
      `--bundle: ${file}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  for (const rel of [parsed.data.snapshots.full, parsed.data.snapshots.delta]) {
    if (rel === undefined) continue;
    if (rel.includes('..') || !existsSync(join(resolve(dir), rel))) {
      throw new DeployError('BAD_CONFIG', `--bundle: ${rel}: missing from ${resolve(dir)}`);
    }
  }
  return parsed.data;
}
