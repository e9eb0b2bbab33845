import { generateMnemonic, hexToUtf8, LedgerClient, MnemonicSigner, NodeApi } from '@tanglewatt/ledger';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fundedAccount } from '../support/accounts.js';

const tangle = inject('tangle');
const node = new NodeApi(tangle.nodes[0]!.restUrl);
const client = new LedgerClient(tangle.nodes[0]!.restUrl);

afterAll(() => client.destroy());

describe(`value transfer with tagged data on ${inject('hornetVersion')}`, () => {
  let posted: { blockId: string; transactionId: string };
  let payee: string | undefined;
  const amount = 1_234_567n;
  const reading = JSON.stringify({ periodId: 'meter-1/2026-11-24T05:00Z', energyMWs: '3600000' });

  beforeAll(async () => {
    const payer = await fundedAccount(tangle, 0);
    [payee] = await new MnemonicSigner(generateMnemonic()).addresses({
      count: 1,
      bech32Hrp: tangle.bech32Hrp,
    });
    posted = await client.transfer({
      signer: payer.signer,
      accountIndex: payer.accountIndex,
      inputs: [payer.outputId],
      to: payee!,
      amount,
      tag: 'tanglewatt/test',
      data: reading,
    });
  });

  it('is referenced by a milestone and included in the ledger', async () => {
    const meta = await node.waitForReferenced(posted.blockId);
    expect(meta.ledgerInclusionState).toBe('included');
    const milestone = await node.milestoneByIndex(meta.referencedByMilestoneIndex!);
    expect(milestone.index).toBe(meta.referencedByMilestoneIndex);
    const included = await node.includedBlockMetadata(posted.transactionId);
    expect(included.blockId).toBe(posted.blockId);
  });

  it('creates an output holding exactly the amount for the payee', async () => {
    await node.waitForReferenced(posted.blockId);
    const created = await Promise.all(
      [0, 1].map((i) => node.output(`${posted.transactionId}${i.toString(16).padStart(2, '0')}00`)),
    );
    const toPayee = created.find((o) => BigInt(o.output.amount) === amount);
    expect(toPayee).toBeDefined();
    expect(toPayee!.metadata.isSpent).toBe(false);
  });

  it('carries the tagged data in the transaction', async () => {
    const block = await node.block(posted.blockId);
    const essence = (block.payload as unknown as { essence: { payload?: { tag: string; data: string } } })
      .essence;
    expect(hexToUtf8(essence.payload!.tag)).toBe('tanglewatt/test');
    expect(hexToUtf8(essence.payload!.data)).toBe(reading);
  });
});

describe('network reads', () => {
  it('answers tips', async () => {
    const tips = await node.tips();
    expect(tips.length).toBeGreaterThan(0);
    for (const tip of tips) expect(tip).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('answers milestone by index and its confirmed milestone advances', async () => {
    const before = (await node.info()).status.confirmedMilestone;
    const milestone = await node.milestoneByIndex(before.index);
    expect(milestone.index).toBe(before.index);
    expect(milestone.timestamp).toBe(before.timestamp);
    await expect
      .poll(async () => (await node.info()).status.confirmedMilestone.index, { timeout: 10_000 })
      .toBeGreaterThan(before.index);
  });

  it('reports our network parameters', async () => {
    const info = await node.info();
    expect(info.protocol.networkName).toBe(tangle.networkName);
    expect(info.protocol.bech32Hrp).toBe('watt');
    expect(info.protocol.minPowScore).toBe(0);
    expect(info.protocol.rentStructure.vByteCost).toBe(10);
  });
});
