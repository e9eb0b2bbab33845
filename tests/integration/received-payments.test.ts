import { ed25519PublicKey, newEd25519SecretKey, toHex } from '@tanglewatt/channels';
import { publishMeterDid } from '@tanglewatt/channels/node';
import type { Payment, ReceivedPayment } from '@tanglewatt/contract';
import { isPlainCoinOutput, NodeApi } from '@tanglewatt/ledger';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fundedAccount } from '../support/accounts.js';
import { api, startTestWallet, type TestWallet } from '../support/wallets.js';

const tangle = inject('tangle');
const node = new NodeApi(tangle.nodes[0]!.restUrl);

interface ReceivedPage {
  total: number;
  items: ReceivedPayment[];
  next: string | null;
}

describe("a producer's received payments on the real tangle", () => {
  let consumer: TestWallet | undefined;
  let producer: TestWallet;

  beforeAll(async () => {
    consumer = await startTestWallet(tangle, { slot: 36 });
    producer = await startTestWallet(tangle, {});
  });

  afterAll(async () => {
    await consumer?.service.stop();
    await producer?.service.stop();
  });

  it("lists a payment from the consumer with its sender, key, period and amount, and a micro-payment's claim", async () => {
    const period = {
      periodId: 'meter-1/42',
      energyMWs: '7200000',
      priceUnitsPerWh: '12',
      periodStart: '2026-01-01T00:00:00.000Z',
      periodEnd: '2026-01-01T00:01:00.000Z',
    };
    // The consumer's genesis funds are its starting output, not a payment it received.
    const own = await api<ReceivedPage>(consumer!, 'GET', '/received-payments');
    expect(own.body.total).toBe(0);
    const paid = await api<Payment>(consumer!, 'POST', '/payments', {
      idempotencyKey: 'received/plain',
      to: producer.service.address,
      amount: '24000',
      metadata: period,
    });
    expect(paid.status).toBe(202);
    const micro = await api<Payment>(consumer!, 'POST', '/payments', {
      idempotencyKey: 'received/micro',
      to: producer.service.address,
      amount: '3',
    });
    expect(micro.body.micro).toBe(true);

    const list = async () => (await api<ReceivedPage>(producer, 'GET', '/received-payments')).body;
    await expect.poll(async () => (await list()).total, { timeout: 60_000, interval: 250 }).toBe(2);
    const sent = consumer!.service.store.get('received/plain')!;
    const { items } = await list();
    const plain = items.find((p) => p.key === 'received/plain')!;
    expect(plain).toMatchObject({
      amountUnits: '24000',
      from: consumer!.service.address,
      metadata: period,
      micro: false,
      outputId: sent.outputId,
      transactionId: sent.transactionId,
      blockId: sent.blockId,
      milestoneIndex: sent.milestoneIndex,
      milestoneTimestamp: (await node.milestoneByIndex(sent.milestoneIndex!)).timestamp,
    });
    expect(plain.claim).toBeUndefined();

    // The micro-payment: 3 units are the producer's, the deposit goes back; its scheduled claim spends it.
    const small = () => list().then((l) => l.items.find((p) => p.key === 'received/micro')!);
    expect(await small()).toMatchObject({ amountUnits: '3', depositUnits: '5060', micro: true });
    await expect.poll(async () => (await small()).claim, { timeout: 60_000, interval: 500 }).toBe('claimed');
    // The claim is the producer's own transaction: it is not a payment received.
    expect((await list()).total).toBe(2);
  });

  it('resolves a meter DID published on the tangle through the wallet-service, and says why a wrong one fails', async () => {
    // The DID's deposit comes from the consumer's own change, once its wallet has stopped spending it.
    const payer = consumer!;
    await payer.service.stop();
    consumer = undefined;
    const unspent = [];
    for (const o of payer.service.ledger.all().filter(isPlainCoinOutput))
      if (!(await node.outputMetadata(o.outputId)).isSpent) unspent.push(o);
    const funding = unspent.sort((a, b) => (b.amount > a.amount ? 1 : -1))[0]!;
    const account = await fundedAccount(tangle, 36);
    const meterKey = ed25519PublicKey(newEd25519SecretKey());
    const did = await publishMeterDid({
      nodeUrl: tangle.nodes[0]!.restUrl,
      funding: { signer: account.signer, accountIndex: account.accountIndex, outputId: funding.outputId },
      publicKey: meterKey,
    });

    const path = (origin: string) => `/dids/${encodeURIComponent(did.did)}?origin=${origin}`;
    const resolved = await api<{
      did: string;
      versions: {
        fromMilestone: number;
        deactivated: boolean;
        methods: { id: string; publicKey: string }[];
      }[];
    }>(producer, 'GET', path(did.originOutputId));
    expect(resolved.status).toBe(200);
    expect(resolved.body.did).toBe(did.did);
    expect(resolved.body.versions).toHaveLength(1);
    expect(resolved.body.versions[0]!.fromMilestone).toBe(did.milestoneIndex);
    expect(resolved.body.versions[0]!.deactivated).toBe(false);
    expect(resolved.body.versions[0]!.methods.map((m) => m.publicKey)).toEqual([toHex(meterKey)]);
    expect(resolved.body.versions[0]!.methods[0]!.id.startsWith(`${did.did}#`)).toBe(true);

    // The funding output created no alias: the DID cannot be found from it.
    const wrong = await api<{ error: { code: string; message: string } }>(
      producer,
      'GET',
      path(funding.outputId),
    );
    expect(wrong.status).toBe(404);
    expect(wrong.body.error.code).toBe('DID_UNRESOLVED');
    expect(wrong.body.error.message).toContain(`${did.did} cannot be resolved`);
  });
});
