import { EventEmitter } from 'node:events';
import type { MilestoneEvent } from '@tanglewatt/contract';
import {
  bech32ToHex,
  type LedgerClient,
  MnemonicSigner,
  type NodeApi,
  NodeRequestError,
  type OutputSummary,
} from '@tanglewatt/ledger';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { followConfirmedMilestones } from './milestone-events.js';
import { PaymentsStore } from './payments-store.js';
import { Settlement } from './settlement.js';
import { PAYEE, storeDir, testSettlementNetwork, txId } from './testing/payments.js';
import type { WalletLedger } from './wallet-ledger.js';

// Development-only mnemonic of hornet-config/profiles/development.json: the fakes never sign anything.
const mnemonic =
  'exhaust foot tenant enemy bulb naive piece snack diamond sibling accuse limit laundry struggle dentist sell split silent shallow loud tube net sand tenant';
const signer = new MnemonicSigner(mnemonic);
const [payer] = await signer.addresses({ count: 1, bech32Hrp: 'watt' });
const TX = txId(7);
/** Longer than any test runs: only an event can make settlement look again. */
const NEVER_MS = 600_000;

const funding: OutputSummary = {
  outputId: `${txId(1000)}0000`,
  type: 3,
  amount: 10_000_000n,
  ownerHex: bech32ToHex(payer!).toLowerCase(),
  hasNativeTokens: false,
  isSpent: false,
  milestoneIndexBooked: 1,
  transactionId: txId(1000),
  outputIndex: 0,
};

/** A node on which TX is included by milestone 5 once `confirm()` was called, and not before. */
function fakeNode() {
  let confirmed = false;
  const lookups: string[] = [];
  const api = {
    includedBlockMetadata: async (id: string) => {
      lookups.push(id);
      if (!confirmed || id !== TX) throw new NodeRequestError(404, `/transactions/${id}`, 'not found');
      return {
        blockId: txId(501),
        parents: [],
        isSolid: true,
        referencedByMilestoneIndex: 5,
        ledgerInclusionState: 'included' as const,
      };
    },
    // The funding output comes from a transaction the node no longer has (as the genesis).
    includedBlock: async (id: string) => {
      throw new NodeRequestError(404, `/transactions/${id}/included-block`, 'not found');
    },
    milestoneByIndex: async (index: number) => ({ index, timestamp: 1_800_000_005 }),
    blockMetadata: async (id: string) => ({ blockId: id, parents: [], isSolid: true }),
    // The funding output, spent by TX once confirmed; TX's own outputs are not there before.
    outputMetadata: async (id: string) => {
      if (id !== funding.outputId) throw new NodeRequestError(404, `/outputs/${id}`, 'not found');
      return {
        blockId: txId(0),
        transactionId: id.slice(0, 66),
        outputIndex: 0,
        isSpent: confirmed,
        ...(confirmed ? { transactionIdSpent: TX } : {}),
        milestoneIndexBooked: 1,
        milestoneTimestampBooked: 1_800_000_000,
        ledgerIndex: 4,
      };
    },
  } as unknown as NodeApi;
  return { api, lookups, confirm: () => (confirmed = true) };
}

const running: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
});

async function startSettlement(api: NodeApi) {
  const store = await PaymentsStore.open(await storeDir('milestone-events-'));
  const client = {
    signTransaction: async () => ({
      transactionId: TX,
      payloadJson: JSON.stringify({ type: 6, essence: { outputs: [{}, {}] } }),
      outputAmounts: [],
      blockBytes: 1_000,
    }),
    postTransaction: async () => txId(501),
    promote: async () => txId(900),
  } as unknown as LedgerClient;
  const ledger = {
    ledgerIndex: 4,
    caughtUp: true,
    addressHex: funding.ownerHex,
    all: () => [funding],
    spendable: () => [funding],
    claimable: () => [],
  } as unknown as WalletLedger;
  const settlement = new Settlement({
    store,
    ledger,
    client,
    api,
    signer,
    address: payer!,
    ...testSettlementNetwork(),
    log: pino({ level: 'silent' }),
    idleTickMs: NEVER_MS,
  });
  running.push(
    () => settlement.stop(),
    () => store.close(),
  );
  return { settlement, store };
}

/** Resolves once `check` holds; the test's own timeout bounds it. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

const milestone = (index: number, confirmed: boolean): MilestoneEvent =>
  ({
    index,
    timestamp: 1_800_000_000 + index,
    milestoneId: txId(index),
    confirmed,
    via: 'mqtt',
  }) as MilestoneEvent;

describe('confirmed milestones drive settlement', () => {
  it('a confirmed milestone from the feed makes settlement record its transaction included, without its timer', async () => {
    const node = fakeNode();
    const { settlement, store } = await startSettlement(node.api);
    const feed = new EventEmitter<{ milestone: [MilestoneEvent] }>();
    const unsubscribe = followConfirmedMilestones(feed, [() => settlement.notify()]);
    running.push(async () => unsubscribe());
    settlement.start();
    await store.request({ idempotencyKey: 'k1', to: PAYEE, amount: '10000' }, { micro: false });
    settlement.notify();
    await until(() => store.get('k1')?.state === 'submitted');

    node.confirm();
    feed.emit('milestone', milestone(5, true));
    await until(() => store.get('k1')?.state === 'included');
    expect(store.transaction(TX)).toMatchObject({ state: 'included', milestoneIndex: 5 });
  });

  it('a latest (not yet confirmed) milestone does not wake anything', () => {
    const feed = new EventEmitter<{ milestone: [MilestoneEvent] }>();
    const woken: string[] = [];
    const unsubscribe = followConfirmedMilestones(feed, [
      () => woken.push('ledger'),
      () => woken.push('settlement'),
    ]);
    feed.emit('milestone', milestone(6, false));
    expect(woken).toEqual([]);
    feed.emit('milestone', milestone(5, true));
    expect(woken).toEqual(['ledger', 'settlement']);
    unsubscribe();
    feed.emit('milestone', milestone(7, true));
    expect(woken).toHaveLength(2);
  });
});
