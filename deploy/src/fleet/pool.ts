/**
 * The fleet's households, all in this process: each consumer a wallet-service (the household harness) and
 * a meter agent on a simulated load that pays its producer every period; each producer a meter agent on a
 * simulated panel, receiving at an address of its own (it runs no wallet-service: it only records).
 * Households spread over the tangle's nodes. Consumers beyond the genesis-funded accounts are paid their
 * starting funds by one funder wallet-service (its batches put up to 128 outputs in a transaction).
 */
import { join } from 'node:path';
import { MnemonicSigner } from '@tanglewatt/ledger';
import type { AgentHandle } from '@tanglewatt/meter-agent';
import type { Logger } from 'pino';
import { householdCall, mapLimit, sleep } from '../community/households.js';
import { DEMO_CONSUMER_SENSOR, DEMO_PRODUCER_SENSOR } from '../demo-meters.js';
import {
  devMnemonic,
  fundedSlot,
  type RunningHousehold,
  startHousehold,
  startHouseholdAgent,
} from '../household.js';
import type { NodeEntry, TangleState } from '../tangle.js';
import { type FleetOptions, type FleetPlan, FUNDING_UNITS, type PairPlan } from './plan.js';

export interface FleetConsumer {
  name: string;
  offsetSeconds: number;
  meterId: string;
  wallet: RunningHousehold;
  agent: AgentHandle;
}

export interface FleetPool {
  consumers: FleetConsumer[];
  producers: { name: string; address: string; offsetSeconds: number; agent: AgentHandle }[];
  stopAgents(): Promise<void>;
  stop(): Promise<void>;
}

const walletTuning = {
  // The consumer's own agent is its only client, but a slow run must not turn its retries into 429s.
  api: { rateLimitPerMinute: 100_000 },
  // The fleet pays for metered periods only: no household reads every milestone's cone for a market book.
  market: { enabled: false },
};

/** The indexer beside a node, as a household's spec takes it. */
const indexerOf = (node: NodeEntry) => (node.indexerUrl ? { indexerUrl: node.indexerUrl } : {});

async function addressOf(signer: MnemonicSigner, accountIndex: number, bech32Hrp: string) {
  return (await signer.addresses({ accountIndex, count: 1, bech32Hrp }))[0]!;
}

/**
 * Pays each consumer past the genesis accounts its starting funds from the funder's genesis account, and
 * returns the output each got (what its wallet-service starts from), by account index.
 */
export async function fundConsumers(
  tangle: TangleState,
  plan: FleetPlan,
  signer: MnemonicSigner,
  dataDir: string,
  log: Logger,
): Promise<Map<number, string>> {
  const outputs = new Map<number, string>();
  if (plan.funderSlot === undefined) return outputs;
  const funded = plan.pairs.flatMap((p) => (p.consumer.funds.kind === 'funded' ? [p.consumer.funds] : []));
  const slot = fundedSlot(tangle, plan.funderSlot);
  const funder = await startHousehold(
    {
      dir: join(dataDir, 'funder'),
      nodeUrl: tangle.nodes[0]!.restUrl,
      ...indexerOf(tangle.nodes[0]!),
      mnemonic: await devMnemonic(),
      accountIndex: slot.accountIndex,
      initialOutputs: [slot.outputId],
      unsetEnv: 'TANGLEWATT_FLEET_UNSET',
      wallet: { ...walletTuning, settlement: { lingerMs: 1000 } },
    },
    log.child({ household: 'funder' }, { level: 'warn' }),
  );
  try {
    const keys = new Map<string, number>();
    for (const f of funded) {
      const key = `fund-${f.accountIndex}`;
      keys.set(key, f.accountIndex);
      await householdCall(funder, 'POST', '/payments', {
        idempotencyKey: key,
        to: await addressOf(signer, f.accountIndex, tangle.bech32Hrp),
        amount: FUNDING_UNITS.toString(),
      });
    }
    const deadline = Date.now() + 120_000 + funded.length * 500;
    for (;;) {
      const all = funder.service.store.list({ limit: Number.MAX_SAFE_INTEGER }).items;
      const failed = all.find((p) => p.state === 'failed' || p.state === 'cancelled');
      if (failed) throw new Error(`funding ${failed.idempotencyKey} ${failed.state}: ${failed.error ?? ''}`);
      const included = all.filter((p) => p.state === 'included' && p.outputId);
      if (included.length === funded.length) {
        for (const p of included) outputs.set(keys.get(p.idempotencyKey)!, p.outputId!);
        const txs = new Set(included.map((p) => p.transactionId)).size;
        log.info({ consumers: funded.length, transactions: txs }, 'consumers funded');
        return outputs;
      }
      if (Date.now() > deadline)
        throw new Error(`funding: ${included.length} of ${funded.length} payments included in time`);
      await sleep(500);
    }
  } finally {
    await funder.service.stop();
  }
}

/**
 * Starts the households of the given pairs (this process's share of the plan), consumers past the genesis
 * accounts from the outputs `fundConsumers` gave them; stops what it started if one fails.
 */
export async function startPool(
  tangle: TangleState,
  pairs: readonly PairPlan[],
  fundedOutputs: ReadonlyMap<number, string>,
  options: FleetOptions,
  dataDir: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<FleetPool> {
  const mnemonic = await devMnemonic();
  const signer = new MnemonicSigner(mnemonic);
  const consumers: FleetConsumer[] = [];
  const producers: FleetPool['producers'] = [];
  const stopAgents = async () => {
    await Promise.all([...consumers, ...producers].map((h) => h.agent.stop().catch(() => undefined)));
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopAgents();
    await Promise.all(consumers.map((c) => c.wallet.service.stop().catch(() => undefined)));
  };
  const quiet = (name: string) => log.child({ household: name }, { level: 'warn' });
  const agentBase = (pair: PairPlan) => ({
    sampleIntervalMs: options.sampleSeconds * 1000,
    period: { seconds: options.periodSeconds, offsetSeconds: pair.offsetSeconds },
    price: { unitsPerWh: '250' },
    pricing: 'carry' as const,
  });
  try {
    // A few at a time: each wallet-service start derives keys and runs scrypt twice.
    await mapLimit(pairs, 4, async (pair) => {
      signal?.throwIfAborted();
      const node = tangle.nodes[pair.index % tangle.nodes.length]!;
      const producerAddress = await addressOf(signer, pair.producer.accountIndex, tangle.bech32Hrp);
      const funds = pair.consumer.funds;
      const account =
        funds.kind === 'genesis'
          ? (() => {
              const s = fundedSlot(tangle, funds.slot);
              return { accountIndex: s.accountIndex, outputs: [s.outputId] };
            })()
          : { accountIndex: funds.accountIndex, outputs: [fundedOutputs.get(funds.accountIndex)!] };
      const wallet = await startHousehold(
        {
          dir: join(dataDir, pair.consumer.name),
          nodeUrl: node.restUrl,
          // Its own node's indexer: the node serves only this wallet's transactions.
          ...indexerOf(node),
          mnemonic,
          accountIndex: account.accountIndex,
          initialOutputs: account.outputs,
          unsetEnv: 'TANGLEWATT_FLEET_UNSET',
          wallet: walletTuning,
        },
        quiet(pair.consumer.name),
      );
      const parties = { consumer: wallet.address, producer: producerAddress };
      const meterId = `fleet-${pair.consumer.name}`;
      const agent = await startHouseholdAgent(wallet, {
        config: {
          ...agentBase(pair),
          meterId,
          role: 'consumer',
          parties,
          sensors: [
            { ...DEMO_CONSUMER_SENSOR, profile: { ...DEMO_CONSUMER_SENSOR.profile, seed: pair.index + 1 } },
          ],
          ...(options.channel
            ? {
                channel: {
                  nodeUrl: node.restUrl,
                  mode: 'public' as const,
                  batchSeconds: options.periodSeconds,
                },
              }
            : {}),
        },
        pay: 'api',
        log: quiet(pair.consumer.name),
      }).catch(async (error: unknown) => {
        await wallet.service.stop();
        throw error;
      });
      consumers.push({ name: pair.consumer.name, offsetSeconds: pair.offsetSeconds, meterId, wallet, agent });
      const producerAgent = await startHouseholdAgent(
        { dir: join(dataDir, pair.producer.name), url: wallet.url, token: '' },
        {
          config: {
            ...agentBase(pair),
            meterId: `fleet-${pair.producer.name}`,
            role: 'producer',
            parties,
            sensors: [DEMO_PRODUCER_SENSOR],
          },
          log: quiet(pair.producer.name),
        },
      );
      producers.push({
        name: pair.producer.name,
        address: producerAddress,
        offsetSeconds: pair.offsetSeconds,
        agent: producerAgent,
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const order = new Map(pairs.map((p, i) => [p.consumer.name, i]));
  consumers.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
  return { consumers, producers, stopAgents, stop };
}
