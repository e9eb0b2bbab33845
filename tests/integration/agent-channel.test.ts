import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fromHex,
  NodeBlockSource,
  newX25519SecretKey,
  readChannel,
  type Sample,
  staticSigners,
  toHex,
  verifyPeriod,
  x25519PublicKey,
} from '@tanglewatt/channels/node';
import { type Payment, paymentMetadata } from '@tanglewatt/contract';
import {
  type AgentHandle,
  channelSampleOf,
  type PeriodRecord,
  readAllSamples,
  startAgent,
} from '@tanglewatt/meter-agent';
import { agentConfig, wanderingLoad } from '@tanglewatt/meter-agent/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPeriodArgs, verifyPeriodCli } from '../support/channels-cli.js';
import { anyRose, waitForProgress } from '../support/progress.js';
import { sharedTangle, stopServices } from '../support/shared-tangle.js';
import { api, startTestWallet, type TestWallet } from '../support/wallets.js';

const { tangle, nodeUrl, node } = sharedTangle();

describe('meter-agent publishing on its channel, payments tied to the readings', () => {
  let producer: TestWallet;
  let consumer: TestWallet;
  let agent: AgentHandle;
  let dir: string;
  const readerKey = newX25519SecretKey();

  beforeAll(async () => {
    producer = await startTestWallet(tangle, { slot: 26 });
    consumer = await startTestWallet(tangle, { slot: 27 });
    dir = await mkdtemp(join(tmpdir(), 'tanglewatt-agent-channel-'));
    agent = await startAgent({
      config: agentConfig(join(dir, 'agent'), {
        meterId: 'channel-consumer-1',
        parties: { consumer: consumer.service.address, producer: producer.service.address },
        sensors: [
          // Fractional milliamps: the channel's mA/mW are the agent's µA/µW rounded.
          wanderingLoad({
            seed: 3,
            busVoltageMV: 48_000,
            startMA: 10_000.4,
            minMA: 8_000,
            maxMA: 12_000,
            stepMA: 123.45,
          }),
        ],
        sampleIntervalMs: 1000,
        period: { seconds: 10 },
        // About 480 W for 10 s is 1.33 Wh: over 5000 units a period, above a basic output's deposit.
        price: { unitsPerWh: '4000' },
        walletService: { url: consumer.service.url, token: consumer.token },
        channel: {
          nodeUrl,
          mode: 'restricted',
          readers: [toHex(x25519PublicKey(readerKey))],
          batchSeconds: 3,
        },
      }),
      log: pino({ level: 'warn' }),
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await stopServices(producer, consumer);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('pays periods whose readingsHash is the channel root; a reader and verifyPeriod agree', async () => {
    const paid = () =>
      agent
        .periods(50)
        .filter(
          (p) =>
            p.payment.state === 'due' &&
            p.channel?.root !== undefined &&
            consumer.service.store.get(p.id)?.state === 'included',
        );
    // Periods 2 and 3 are whole (period 1 began before the agent did).
    const whole = () => paid().filter((p) => p.seq >= 2);
    await waitForProgress({
      what: 'periods 2 and 3 paid and included with their channel roots',
      probe: () => ({ closed: agent.periods(50).length, paid: paid().length, whole: whole().length }),
      done: (n) => n.whole >= 2,
      progressed: anyRose,
      stallMs: 60_000,
      ceilingMs: 300_000,
      intervalMs: 500,
    });

    const channel = agent.snapshot().channel!;
    expect(channel).toMatchObject({ mode: 'restricted', lastError: null });
    expect(channel.lastSeq).not.toBeNull();
    expect(channel.lastBlockId).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await stat(join(dir, 'agent', 'channel', 'signing.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'agent', 'channel', 'channel.journal'))).mode & 0o777).toBe(0o600);

    const period: PeriodRecord = whole().at(-1)!;
    expect(period.seq).toBe(2);
    const { fromSeq, toSeq, root } = period.channel!;
    await expect
      .poll(() => agent.channelBlocks(period.id).length, { timeout: 20_000 })
      .toBe(toSeq! - fromSeq! + 1);
    const index = agent.channelBlocks(period.id);

    // The payment as the payer's wallet-service knows it: its transaction and the readingsHash it sent.
    const payment = await api<Payment>(consumer, 'GET', `/payments/${encodeURIComponent(period.id)}`);
    expect(payment.status).toBe(200);
    expect(payment.body.metadata?.readingsHash).toBe(root);
    expect(payment.body.amount).toBe(period.amount);
    const transactionId = payment.body.transactionId!;
    expect(transactionId).toMatch(/^0x[0-9a-f]{64}$/);

    // The reader, with nothing but its X25519 key and the meter's public key, reads the period back.
    const signers = staticSigners([fromHex(channel.signingPublicKey, 32)]);
    const read = await readChannel(new NodeBlockSource(node, index), {
      channelId: channel.channelId,
      signers,
      readerSecretKey: readerKey,
      startAnywhere: true,
    });
    expect(read.failures).toEqual([]);
    expect(read.messages.map((m) => m.seq)).toEqual(index.map((b) => b.seq));
    const journaled = (await readAllSamples(join(dir, 'agent', 'samples')))
      .filter((s) => s.tMs >= period.startMs && s.tMs < period.endMs)
      .map((s) => channelSampleOf(s, 'load'))
      .filter((s): s is Sample => s !== undefined);
    expect(journaled.length).toBeGreaterThanOrEqual(8);
    expect(read.messages.flatMap((m) => m.samples)).toEqual(journaled);
    const summaries = read.messages.flatMap((m) => m.summaries);
    expect(summaries).toEqual([
      {
        periodId: period.id,
        startMs: period.startMs,
        endMs: period.endMs,
        energyMWs: BigInt(period.energyMWs),
        sampleCount: period.quality.samples,
      },
    ]);

    // From the Tangle alone: the payment transaction names exactly the Merkle root of these messages.
    const verdict = await verifyPeriod({
      api: node,
      transactionId,
      paymentKey: period.id,
      channelId: channel.channelId,
      blockIds: index.map((b) => b.blockId),
      signers,
      readerSecretKey: readerKey,
    });
    expect(verdict).toMatchObject({ ok: true, code: 'PASS', readingsHash: root, computedRoot: root });

    // And the CLI says the same.
    const blocksFile = join(dir, 'period-blocks.json');
    await writeFile(blocksFile, JSON.stringify(index));
    const cli = await verifyPeriodCli(
      nodeUrl,
      { transaction: transactionId, paymentKey: period.id, channel: channel.channelId, blocksFile },
      ['--key', toHex(readerKey), '--public-key', channel.signingPublicKey],
    );
    expect(cli.stdout).toMatch(/^PASS: \d+ messages \(seq \d+\.\.\d+\) verified; root matches/);
  }, 600_000); // an outer bound only: the waits inside fail on a stall

  it('verify-period passes with only the transaction id, the node and a reader key file; a stranger’s key gets one WRONG_KEY line', async () => {
    // Runs after the test above, which waited for periods 2 and 3 to be paid and included.
    const period = agent.periods(50).find((p) => p.seq === 2)!;
    const paid = consumer.service.store.get(period.id)!;
    expect(paid.state).toBe('included');
    const transactionId = paid.transactionId!;
    // The payment names its messages: what the verifier starts from.
    const channel = paymentMetadata.parse(paid.metadata).channel!;
    expect(channel).toMatchObject({
      id: agent.snapshot().channel!.channelId,
      publicKey: agent.snapshot().channel!.signingPublicKey,
      fromSeq: period.channel!.fromSeq,
      toSeq: period.channel!.toSeq,
    });
    expect(Object.keys(channel.epochs ?? {})).toHaveLength(1);

    const readerFile = join(dir, 'reader.key');
    await writeFile(readerFile, `${toHex(readerKey)}\n`, { mode: 0o600 });
    const pass = await verifyPeriodArgs(['--tx', transactionId, '--node', nodeUrl, '--key-file', readerFile]);
    expect(pass.stderr).toBe('');
    expect(pass.stdout).toBe(
      `PASS: ${channel.toSeq - channel.fromSeq + 1} messages (seq ${channel.fromSeq}..${channel.toSeq}) verified; root matches; period ${period.id}; signer: the channel's own key (its id is the key's hash)\n`,
    );
    expect(pass.code).toBe(0);

    const stranger = newX25519SecretKey();
    const strangerFile = join(dir, 'stranger.key');
    await writeFile(strangerFile, JSON.stringify({ type: 'x25519', secretKey: toHex(stranger) }), {
      mode: 0o600,
    });
    const refused = await verifyPeriodArgs([
      '--tx',
      transactionId,
      '--node',
      nodeUrl,
      '--key-file',
      strangerFile,
    ]);
    const [epoch] = Object.keys(channel.epochs!);
    expect(refused.stdout).toBe(
      `FAIL WRONG_KEY: no epoch key for epoch ${epoch} with this reader key (${toHex(x25519PublicKey(stranger)).slice(0, 16)}…): none of the 1 wraps is for this reader (not authorised)\n`,
    );
    expect(refused.code).toBe(1);

    const unknown = await verifyPeriodArgs(['--tx', `0x${'00'.repeat(32)}`, '--node', nodeUrl]);
    expect(unknown.stdout).toBe(
      `FAIL PAYMENT_NOT_FOUND: transaction 0x${'00'.repeat(32)} is not included in the ledger\n`,
    );
    expect(unknown.code).toBe(1);
  });
});
