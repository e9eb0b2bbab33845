import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assertChannelOfDid,
  type ChannelWriter,
  type ClosedPeriod,
  channelIdHex,
  EpochKeyring,
  ed25519PublicKey,
  epochKey,
  followChain,
  fromHex,
  MemorySource,
  merkleRootHex,
  NodeBlockSource,
  newEd25519SecretKey,
  newX25519SecretKey,
  openChannelWriter,
  PAYMENT_TAG,
  type PublishedDid,
  publishMeterDid,
  type ResolvedMeterDid,
  readChannel,
  resolveMeterDid,
  restrictedTag,
  rotateMeterKey,
  type Sample,
  sealRestrictedData,
  staticSigners,
  toHex,
  verifyEntries,
  verifyPeriod,
  x25519PublicKey,
} from '@tanglewatt/channels/node';
import type { Payment } from '@tanglewatt/contract';
import { generateMnemonic, LedgerClient, MnemonicSigner } from '@tanglewatt/ledger';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fundedAccount } from '../support/accounts.js';
import { verifyPeriodCli } from '../support/channels-cli.js';
import { waitForProgress } from '../support/progress.js';
import { sharedTangle } from '../support/shared-tangle.js';
import { api, startTestWallet, type TestWallet } from '../support/wallets.js';

const { tangle, nodeUrl, node } = sharedTangle();
const client = new LedgerClient(nodeUrl);

const MINUTE = 60_000;
// Simulated meter time, accelerated: minutes of readings are published in seconds.
const P0 = Math.floor(Date.now() / MINUTE) * MINUTE - 30 * MINUTE;

/** One reading a second for minute `m` after P0: 12 V bus, a load that swings, an export spell. */
function minute(m: number): Sample[] {
  return Array.from({ length: 60 }, (_, s) => {
    const i = m * 60 + s;
    const busVoltageMV = 12_000 + ((i * 37) % 201) - 100;
    const currentMA = (m === 3 ? -1 : 1) * (600 + ((i * 7919) % 900));
    return {
      timestampMs: P0 + i * 1000,
      busVoltageMV,
      currentMA,
      powerMW: Math.round((busVoltageMV * currentMA) / 1000),
    };
  });
}

const meterKey = newEd25519SecretKey();
const rotatedKey = newEd25519SecretKey();
const consumerKey = newX25519SecretKey();
const auditorKey = newX25519SecretKey();
const allSamples: Sample[] = [];

let dir: string;
let writer: ChannelWriter;
let did: PublishedDid;
let resolved: ResolvedMeterDid;
let period: ClosedPeriod;
let periodEnergy: bigint;
let rotationMilestone: number;
let forgedBlockId: string;

async function waitReferenced(blockIds: string[]): Promise<number[]> {
  return Promise.all(
    blockIds.map(async (id) => (await node.waitForReferenced(id)).referencedByMilestoneIndex!),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tanglewatt-channels-it-'));
  const funder = await fundedAccount(tangle, 20);
  const funding = { signer: funder.signer, accountIndex: funder.accountIndex, outputId: funder.outputId };
  did = await publishMeterDid({ nodeUrl, funding, publicKey: ed25519PublicKey(meterKey) });

  const journalFile = join(dir, 'meter', 'channel.journal');
  writer = await openChannelWriter({
    journalFile,
    signingKey: meterKey,
    mode: 'restricted',
    readers: [x25519PublicKey(consumerKey), x25519PublicKey(auditorKey)],
    post: (tag, bytes) => client.postTaggedData(tag, bytes),
  });
  // Period 1: five minutes, one message a minute; the writer is restarted from its journal halfway.
  for (const m of [0, 1, 2, 3]) {
    const readings = minute(m);
    allSamples.push(...readings);
    writer.addSamples(readings);
    await writer.flush();
    if (m === 1) {
      await writer.stop();
      writer = await openChannelWriter({
        journalFile,
        signingKey: meterKey,
        mode: 'restricted',
        post: (tag, bytes) => client.postTaggedData(tag, bytes),
      });
    }
  }
  const last = minute(4);
  allSamples.push(...last);
  writer.addSamples(last);
  const periodSamples = allSamples.slice();
  periodEnergy = periodSamples.reduce((sum, s) => sum + BigInt(s.powerMW), 0n); // 1 s apart: mW·s
  period = await writer.closePeriod({
    periodId: 'meter-1/p1',
    startMs: P0,
    endMs: P0 + 5 * MINUTE,
    energyMWs: periodEnergy,
    sampleCount: periodSamples.length,
  });

  // The meter's key is rotated in its DID, then two more minutes are published with the new key.
  const rotated = await rotateMeterKey({
    nodeUrl,
    writer,
    newSecretKey: rotatedKey,
    funding: { ...funding, outputId: did.remainderOutputId! },
    ref: did,
  });
  rotationMilestone = rotated.milestoneIndex;
  for (const m of [5, 6]) {
    const readings = minute(m);
    allSamples.push(...readings);
    writer.addSamples(readings);
    await writer.flush();
  }
  // The auditor is removed: a new epoch for the consumer alone, then one more minute.
  await writer.setReaders([x25519PublicKey(consumerKey)]);
  allSamples.push(...minute(7));
  writer.addSamples(minute(7));
  await writer.flush();

  // Someone holding the rotated-out key (and the epoch key) appends a message after the rotation.
  const head = writer.message(writer.nextSeq - 1)!;
  const [epoch, key] = writer.epochKeys().at(-1)!;
  const current = epochKey(epoch, key);
  const forged = sealRestrictedData(
    {
      channelId: fromHex(writer.channelId),
      seq: writer.nextSeq,
      prevHash: fromHex(head.hash),
      prevBlockId: fromHex(head.blockId!),
      fromMs: P0 + 8 * MINUTE,
      toMs: P0 + 8 * MINUTE + 59_000,
    },
    { samples: minute(8), summaries: [] },
    { secretKey: meterKey, publicKey: ed25519PublicKey(meterKey) },
    current,
  );
  forgedBlockId = await client.postTaggedData(
    restrictedTag(current.subkeys, forged.header.seq),
    forged.bytes,
  );
  await waitReferenced([...writer.blockIndex().map((b) => b.blockId), forgedBlockId]);
  resolved = await resolveMeterDid({ nodeUrl, ref: did });
});

afterAll(async () => {
  await writer?.stop();
  await client.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe(`meter channels on ${inject('hornetVersion')}`, () => {
  it('the meter DID resolves from the Tangle and names the channel key, then the rotated one', () => {
    expect(resolved.did).toBe(did.did);
    expect(resolved.did).toMatch(/^did:iota:watt:0x[0-9a-f]{64}$/);
    expect((resolved.document as { id: string }).id).toBe(did.did);
    expect(resolved.versions).toHaveLength(2);
    expect(resolved.versions[0]!.methods.map((m) => m.publicKey)).toEqual([
      toHex(ed25519PublicKey(meterKey)),
    ]);
    expect(resolved.versions[1]!.methods.map((m) => m.publicKey)).toEqual([
      toHex(ed25519PublicKey(rotatedKey)),
    ]);
    expect(resolved.versions[0]!.untilMilestone).toBe(rotationMilestone);
    expect(resolved.versions[1]!.fromMilestone).toBe(rotationMilestone);
    expect(writer.channelId).toBe(channelIdHex(ed25519PublicKey(meterKey)));
    assertChannelOfDid(writer.channelId, resolved);
    expect(() => assertChannelOfDid(channelIdHex(ed25519PublicKey(rotatedKey)), resolved)).toThrow(
      /not derived/,
    );
  });

  it('a reader with the key rebuilds every reading bit-exact, keys from the DID, across the restart', async () => {
    const index = writer.blockIndex();
    expect(index.map((b) => b.seq)).toEqual([...Array(11).keys()]);
    const result = await readChannel(new NodeBlockSource(node, index), {
      channelId: writer.channelId,
      signers: resolved.signers,
      readerSecretKey: consumerKey,
    });
    expect(result.failures).toEqual([]);
    expect(result.messages.map((m) => m.kind)).toEqual([
      'epoch',
      'data',
      'data',
      'data',
      'data',
      'data',
      'epoch',
      'data',
      'data',
      'epoch',
      'data',
    ]);
    expect(result.messages.flatMap((m) => m.samples)).toEqual(allSamples);
    expect(result.messages.flatMap((m) => m.summaries)).toEqual([
      {
        periodId: 'meter-1/p1',
        startMs: P0,
        endMs: P0 + 5 * MINUTE,
        energyMWs: periodEnergy,
        sampleCount: 300,
      },
    ]);
    const oldKeyId = result.messages[0]!.keyId;
    expect(result.messages.filter((m) => m.keyId !== oldKeyId).map((m) => m.seq)).toEqual([7, 8, 9, 10]);
    for (const m of result.messages.slice(7)) expect(m.milestoneIndex!).toBeGreaterThan(rotationMilestone);
    for (const m of result.messages) expect(m.wireBytes).toBeLessThan(2048);
  });

  it('a reader without the key sees only ciphertext (WRONG_KEY), and nothing that links the blocks', async () => {
    const result = await readChannel(new NodeBlockSource(node, writer.blockIndex()), {
      channelId: writer.channelId,
      signers: resolved.signers,
    });
    expect(result.messages).toEqual([]);
    expect(result.failures).toMatchObject([{ reason: 'WRONG_KEY', seq: 0 }]);
    const stranger = await readChannel(new NodeBlockSource(node, writer.blockIndex()), {
      channelId: writer.channelId,
      signers: resolved.signers,
      readerSecretKey: newX25519SecretKey(),
      allFailures: true,
    });
    expect(new Set(stranger.failures.map((f) => f.reason))).toEqual(new Set(['WRONG_KEY']));
    expect(stranger.failures).toHaveLength(11);
    const block = await node.block(writer.blockIndex()[3]!.blockId);
    const data = (block.payload as unknown as { data: string }).data;
    expect(data).not.toContain(writer.channelId.slice(0, 16));
  });

  it('the removed auditor reads up to its removal and no further', async () => {
    const result = await readChannel(new NodeBlockSource(node, writer.blockIndex()), {
      channelId: writer.channelId,
      signers: resolved.signers,
      readerSecretKey: auditorKey,
    });
    expect(result.messages.map((m) => m.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(result.failures).toMatchObject([{ reason: 'WRONG_KEY', seq: 9 }]);
    const withEveryKey = await readChannel(new NodeBlockSource(node, writer.blockIndex(10, 10)), {
      channelId: writer.channelId,
      signers: resolved.signers,
      readerSecretKey: auditorKey,
      epochKeys: result.epochKeys,
      startAnywhere: true,
    });
    expect(withEveryKey.failures).toMatchObject([{ reason: 'WRONG_KEY' }]);
  });

  it('refuses a message signed with the rotated-out key after the rotation', async () => {
    const index = [...writer.blockIndex(), { seq: writer.nextSeq, blockId: forgedBlockId }];
    const entries = await new NodeBlockSource(node, index).list();
    const viaDid = verifyEntries(entries, {
      channelId: writer.channelId,
      signers: resolved.signers,
      readerSecretKey: consumerKey,
    });
    expect(viaDid.messages).toHaveLength(11);
    expect(viaDid.failures).toMatchObject([{ reason: 'BAD_SIGNATURE', seq: 11 }]);
    expect(viaDid.failures[0]!.detail).toMatch(/not in the DID document in force at milestone/);
    // With the old key handed over by hand instead, the forgery would pass the signature check.
    const byHand = verifyEntries(
      entries.map(({ tag: _tag, ...e }) => e),
      {
        channelId: writer.channelId,
        signers: staticSigners([ed25519PublicKey(meterKey), ed25519PublicKey(rotatedKey)]),
        readerSecretKey: consumerKey,
      },
    );
    expect(byHand.ok).toBe(true);
  });

  it('walks the chain back from the newest block', async () => {
    // A reader that keeps the epoch keys it learned (here: from reading the index once) can walk back.
    const learned = await readChannel(new NodeBlockSource(node, writer.blockIndex()), {
      channelId: writer.channelId,
      signers: resolved.signers,
      readerSecretKey: consumerKey,
    });
    const held = new EpochKeyring(learned.epochKeys.entries());
    const newest = writer.blockIndex().at(-1)!.blockId;
    const walked = await followChain(node, newest, { readerSecretKey: consumerKey, epochKeys: held });
    expect(walked.stopped).toBeUndefined();
    expect(walked.entries.map((e) => e.blockId)).toEqual(writer.blockIndex().map((b) => b.blockId));
    const result = await readChannel(new MemorySource(walked.entries), {
      channelId: writer.channelId,
      signers: resolved.signers,
      readerSecretKey: consumerKey,
    });
    expect(result.ok).toBe(true);
    expect(result.anchored).toBe(true);
  });

  describe('verify-period', () => {
    let wallet: TestWallet;
    let honestTx: string;
    let doctoredTx: string;
    const periodBlocks = () => writer.blockIndex(period.fromSeq, period.toSeq).map((b) => b.blockId);

    beforeAll(async () => {
      const [payee] = await new MnemonicSigner(generateMnemonic()).addresses({
        count: 1,
        bech32Hrp: tangle.bech32Hrp,
      });
      const metadata = {
        periodId: period.periodId,
        meterId: `meter-${writer.channelId.slice(0, 8)}`,
        energyMWs: periodEnergy.toString(),
        periodStart: new Date(P0).toISOString(),
        periodEnd: new Date(P0 + 5 * MINUTE).toISOString(),
        readingsHash: period.root,
      };
      // Honest: the real payment path, wallet-service with the period's Merkle root as readingsHash.
      wallet = await startTestWallet(tangle, { slot: 21 });
      const posted = await api<Payment>(wallet, 'POST', '/payments', {
        idempotencyKey: period.periodId,
        to: payee,
        amount: '10000',
        metadata,
      });
      expect(posted.status).toBe(202);
      await waitForProgress({
        what: 'the honest payment included',
        probe: () => wallet!.service.store.get(period.periodId)?.state,
        done: (state) => state === 'included',
        stallMs: 60_000,
        ceilingMs: 300_000,
      });
      honestTx = wallet.service.store.get(period.periodId)!.transactionId!;

      // Doctored: a payment whose readingsHash leaves out the period's last message.
      const payer = await fundedAccount(tangle, 22);
      const hashes = (
        await readChannel(new NodeBlockSource(node, periodBlocks()), {
          channelId: writer.channelId,
          signers: resolved.signers,
          readerSecretKey: consumerKey,
          startAnywhere: true,
        })
      ).messages.map((m) => m.hash);
      const doctoredRoot = merkleRootHex(hashes.slice(0, -1));
      const transfer = await client.transfer({
        signer: payer.signer,
        accountIndex: payer.accountIndex,
        inputs: [payer.outputId],
        to: payee!,
        amount: 10_000n,
        tag: PAYMENT_TAG,
        data: JSON.stringify({
          v: 1,
          payments: [{ k: 'doctored', o: 0, a: '10000', ...metadata, readingsHash: doctoredRoot }],
        }),
      });
      await node.waitForReferenced(transfer.blockId);
      doctoredTx = transfer.transactionId;
    }, 120_000);

    afterAll(async () => {
      await wallet?.service.stop();
    });

    it('passes for the honest payment and fails for the doctored one, from the Tangle alone', async () => {
      const base = {
        api: node,
        channelId: writer.channelId,
        blockIds: periodBlocks(),
        signers: resolved.signers,
        readerSecretKey: consumerKey,
      };
      const honest = await verifyPeriod({ ...base, transactionId: honestTx, paymentKey: period.periodId });
      expect(honest).toMatchObject({
        ok: true,
        code: 'PASS',
        readingsHash: period.root,
        computedRoot: period.root,
      });
      expect(honest.seqRange).toEqual([0, 5]);
      const doctored = await verifyPeriod({ ...base, transactionId: doctoredTx, paymentKey: 'doctored' });
      expect(doctored).toMatchObject({ ok: false, code: 'ROOT_MISMATCH', computedRoot: period.root });
      const withoutKey = await verifyPeriod({
        ...base,
        readerSecretKey: undefined,
        transactionId: honestTx,
        paymentKey: period.periodId,
      });
      expect(withoutKey.code).toBe('CHANNEL_INVALID');
    });

    it('the CLI says the same, with keys from the DID', async () => {
      const blocksFile = join(dir, 'period-blocks.json');
      await writeFile(blocksFile, JSON.stringify(writer.blockIndex(period.fromSeq, period.toSeq)));
      const cli = (tx: string, key: string) =>
        verifyPeriodCli(
          nodeUrl,
          { transaction: tx, paymentKey: key, channel: writer.channelId, blocksFile },
          [...['--key', toHex(consumerKey)], ...['--did', did.did, '--did-origin', did.originOutputId]],
        ).then(
          (r) => ({ code: 0, out: r.stdout }),
          (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
        );
      const honest = await cli(honestTx, period.periodId);
      expect(honest.out).toMatch(/^PASS: 6 messages \(seq 0\.\.5\) verified/);
      expect(honest.code).toBe(0);
      const doctored = await cli(doctoredTx, 'doctored');
      expect(doctored.out).toMatch(/^FAIL ROOT_MISMATCH/);
      expect(doctored.code).toBe(1);
    });
  });
});
