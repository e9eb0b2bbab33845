import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DeployError } from './errors.js';
import { ExecError, exec, tail } from './exec.js';
import type { Binaries } from './install.js';
import {
  type GenesisPlan,
  loadProtocolParameters,
  type NetworkProfile,
  NODE_CONFIG_FILE,
  PROTOCOL_PARAMETERS_FILE,
  planGenesis,
} from './profile.js';
import { type NodeEntry, type TanglePorts, type TangleState, writeState } from './tangle-state.js';

/** What creating a network needs from a start's options (UpOptions). */
export interface GenesisOptions {
  dataDir: string;
  profile: NetworkProfile;
  binaries: Binaries;
  log: Logger;
  /** Overrides the profile's milestone interval. */
  milestoneInterval?: string;
  signal?: AbortSignal;
}

export async function hornetTool(
  binaries: Binaries,
  args: string[],
  env?: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<string> {
  try {
    return (
      await exec(binaries.hornet, ['tool', ...args], {
        env: { ...process.env, ...env },
        ...(signal ? { signal } : {}),
      })
    ).stdout;
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    const output = error instanceof ExecError ? tail(`${error.stdout}\n${error.stderr}`) : String(error);
    throw new DeployError(
      'START_FAILED',
      `hornet tool ${args[0]} failed: ${output.split('\n').pop()}`,
      output,
    );
  }
}

export async function writeSecret(file: string, content: string): Promise<void> {
  await writeFile(file, content, { mode: 0o600 });
  await chmod(file, 0o600);
}

/** The coordinator's milestone keys and the nodes' JWT salt: `secrets/keys.json` in the data dir. */
export interface NetworkKeys {
  coordinator: { privateKey: string; publicKey: string }[];
  jwtSalt: string;
}

async function nodeConfig(
  template: Record<string, unknown>,
  networkName: string,
  keys: NetworkKeys,
  node: { alias: string; dir: string; restPort: number; gossipPort: number; inxPort?: number },
): Promise<Record<string, unknown>> {
  const config = structuredClone(template) as Record<string, Record<string, unknown>>;
  const section = (name: string) => {
    config[name] ??= {};
    return config[name];
  };
  section('node').alias = node.alias;
  Object.assign(section('protocol'), {
    targetNetworkName: networkName,
    milestonePublicKeyCount: keys.coordinator.length,
    publicKeyRanges: keys.coordinator.map((k) => ({ key: k.publicKey, start: 0, end: 0 })),
  });
  Object.assign(section('db'), { path: join(node.dir, 'db') });
  const p2p = section('p2p');
  p2p.bindMultiAddresses = [`/ip4/127.0.0.1/tcp/${node.gossipPort}`];
  p2p.db = { path: join(node.dir, 'p2pstore') };
  Object.assign(section('snapshots'), {
    fullPath: join(node.dir, 'snapshots', 'full_snapshot.bin'),
    deltaPath: join(node.dir, 'snapshots', 'delta_snapshot.bin'),
  });
  Object.assign(section('restAPI'), {
    bindAddress: `127.0.0.1:${node.restPort}`,
    jwtAuth: { salt: keys.jwtSalt },
  });
  Object.assign(section('inx'), {
    enabled: node.inxPort !== undefined,
    bindAddress: `127.0.0.1:${node.inxPort ?? 0}`,
  });
  return config;
}

/**
 * `hornet tool ed25519-key`: HORNET 2.0.1 now and then fails its own random mnemonic ("invalid checksum"
 * from re-parsing it), so a fresh draw is taken a few times before giving up.
 */
async function newEd25519Key(binaries: Binaries, signal?: AbortSignal): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await hornetTool(binaries, ['ed25519-key', '--json'], undefined, signal);
    } catch (error) {
      if (attempt >= 5 || !String((error as Error).message).includes('invalid checksum')) throw error;
    }
  }
}

/** A node's gossip identity, kept in `<dir>/p2pstore`. */
export async function newP2pIdentity(
  binaries: Binaries,
  dir: string,
  signal?: AbortSignal,
): Promise<{ peerId: string }> {
  return JSON.parse(
    await hornetTool(
      binaries,
      ['p2pidentity-gen', '--json', `--outputPath=${join(dir, 'p2pstore')}`],
      undefined,
      signal,
    ),
  ) as { peerId: string };
}

/** Creates keys, genesis snapshot, node configs and milestone 1 in an empty data dir. */
export async function createNetwork(
  options: GenesisOptions,
  ports: TanglePorts,
  nodeCount: number,
): Promise<TangleState> {
  const { dataDir, binaries, log, profile, signal } = options;
  const protocol = await loadProtocolParameters();
  const plan: GenesisPlan = await planGenesis(profile, protocol);
  for (const dir of ['secrets', 'genesis', 'coordinator', 'logs'])
    await mkdir(join(dataDir, dir), { recursive: true });
  await chmod(join(dataDir, 'secrets'), 0o700);

  // Coordinator keys are made here, at first start, and never leave the data dir.
  const coordinator = [];
  for (let i = 0; i < 2; i++) {
    const key = JSON.parse(await newEd25519Key(binaries, signal)) as {
      privateKey: string;
      publicKey: string;
    };
    coordinator.push({ privateKey: key.privateKey, publicKey: key.publicKey });
  }
  const keys: NetworkKeys = { coordinator, jwtSalt: randomBytes(24).toString('hex') };
  await writeSecret(join(dataDir, 'secrets', 'keys.json'), `${JSON.stringify(keys, null, 2)}\n`);

  const snapshot = join(dataDir, 'genesis', 'full_snapshot.bin');
  log.info({ allocations: plan.allocations.length }, 'creating genesis snapshot');
  await hornetTool(
    binaries,
    [
      'snap-gen',
      `--protocolParametersPath=${PROTOCOL_PARAMETERS_FILE}`,
      `--mintAddress=${plan.mintAddress}`,
      ...(plan.allocations.length
        ? [`--genesisAddresses=${plan.allocations.map((a) => `${a.address}:${a.amount}`).join(',')}`]
        : []),
      `--outputPath=${snapshot}`,
    ],
    undefined,
    signal,
  );

  const template = JSON.parse(await readFile(NODE_CONFIG_FILE, 'utf8')) as Record<string, unknown>;
  const nodes: NodeEntry[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const alias = `hornet-${i + 1}`;
    const dir = join(dataDir, alias);
    await mkdir(join(dir, 'snapshots'), { recursive: true });
    await copyFile(snapshot, join(dir, 'snapshots', 'full_snapshot.bin'));
    const identity = await newP2pIdentity(binaries, dir, signal);
    const restPort = ports.rest + i;
    const gossipPort = ports.gossip + i;
    const config = await nodeConfig(template, protocol.networkName, keys, {
      alias,
      dir,
      restPort,
      gossipPort,
      // Every node serves INX: the coordinator and inx-mqtt use node 1's, each node's indexer its own.
      inxPort: ports.inx + i,
    });
    await writeFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    nodes.push({
      alias,
      restUrl: `http://127.0.0.1:${restPort}`,
      restPort,
      gossipPort,
      peerId: identity.peerId,
      dir,
      inxPort: ports.inx + i,
    });
  }

  log.info('bootstrapping milestone 1 and the coordinator state');
  await hornetTool(
    binaries,
    [
      'bootstrap-private-tangle',
      `--configFile=${join(nodes[0]!.dir, 'config.json')}`,
      `--snapshotPath=${snapshot}`,
      `--databasePath=${join(nodes[0]!.dir, 'db')}`,
      `--cooStatePath=${join(dataDir, 'coordinator', 'coordinator.state')}`,
      '--databaseEngine=pebble',
    ],
    { COO_PRV_KEYS: coordinator.map((k) => k.privateKey).join(',') },
    signal,
  );

  // An admin token for HORNET's protected routes, kept beside the keys.
  const jwt = JSON.parse(
    await hornetTool(
      binaries,
      ['jwt-api', '--json', `--databasePath=${join(nodes[0]!.dir, 'p2pstore')}`, `--salt=${keys.jwtSalt}`],
      undefined,
      signal,
    ),
  ) as { jwt: string };
  await writeSecret(join(dataDir, 'secrets', 'admin.jwt'), `${jwt.jwt}\n`);

  const state: TangleState = {
    formatVersion: 1,
    networkName: protocol.networkName,
    bech32Hrp: protocol.bech32HRP,
    profile: profile.name,
    milestoneInterval: options.milestoneInterval ?? profile.milestoneInterval,
    createdAt: new Date().toISOString(),
    ports,
    nodes,
    genesis: {
      mintAddress: plan.mintAddress,
      mintOutputId: plan.mintOutputId,
      allocations: plan.allocations.map((a) => ({ ...a, amount: a.amount.toString() })),
    },
    processes: [],
  };
  await writeState(dataDir, state);
  return state;
}
