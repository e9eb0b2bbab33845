import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newX25519SecretKey, toHex, x25519PublicKey } from '@tanglewatt/channels/node';
import { paymentMetadata } from '@tanglewatt/contract';
import { type AgentHandle, startAgent } from '@tanglewatt/meter-agent';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { anyRose, waitForProgress } from '../support/progress.js';
import { startTestWallet, type TestWallet } from '../support/wallets.js';

const tangle = inject('tangle');
const nodeUrl = tangle.nodes[0]!.restUrl;
const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;

/** The verifier as a member runs it: exit code and what it printed. */
async function verifyPeriod(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'channels/src/cli.ts', 'verify-period', ...args],
      { cwd: ROOT },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('verify-period from a payment transaction alone', () => {
  let producer: TestWallet;
  let consumer: TestWallet;
  let agent: AgentHandle;
  let dir: string;
  const readerKey = newX25519SecretKey();

  beforeAll(async () => {
    producer = await startTestWallet(tangle, { slot: 39 });
    consumer = await startTestWallet(tangle, { slot: 40 });
    dir = await mkdtemp(join(tmpdir(), 'tanglewatt-verify-payment-'));
    agent = await startAgent({
      config: {
        meterId: 'verify-consumer-1',
        role: 'consumer',
        parties: { consumer: consumer.service.address, producer: producer.service.address },
        sensors: [
          {
            name: 'load',
            kind: 'simulated',
            profile: {
              type: 'random-walk',
              seed: 5,
              busVoltageMV: 48_000,
              startMA: 10_000,
              minMA: 8_000,
              maxMA: 12_000,
              stepMA: 100,
            },
          },
        ],
        sampleIntervalMs: 1000,
        period: { seconds: 10 },
        // About 480 W for 10 s is 1.33 Wh: over 5000 units a period, above a basic output's deposit.
        price: { unitsPerWh: '4000' },
        walletService: { url: consumer.service.url, token: consumer.token },
        dataDir: join(dir, 'agent'),
        channel: {
          nodeUrl,
          mode: 'restricted',
          readers: [toHex(x25519PublicKey(readerKey))],
          batchSeconds: 3,
        },
      },
      log: pino({ level: 'warn' }),
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await producer?.service.stop();
    await consumer?.service.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('passes with only the transaction id, the node and a reader key file; a stranger’s key gets one WRONG_KEY line', async () => {
    // Period 2 is whole (period 1 began before the agent did).
    const included = () =>
      agent.periods(50).filter((p) => p.seq >= 2 && consumer.service.store.get(p.id)?.state === 'included');
    await waitForProgress({
      what: 'a whole period paid and included',
      probe: () => ({ closed: agent.periods(50).length, included: included().length }),
      done: (n) => n.included >= 1,
      progressed: anyRose,
      stallMs: 60_000,
      ceilingMs: 300_000,
      intervalMs: 500,
    });
    const period = included()[0]!;
    const paid = consumer.service.store.get(period.id)!;
    const transactionId = paid.transactionId!;
    expect(transactionId).toMatch(/^0x[0-9a-f]{64}$/);
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
    const pass = await verifyPeriod(['--tx', transactionId, '--node', nodeUrl, '--key-file', readerFile]);
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
    const refused = await verifyPeriod([
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

    const unknown = await verifyPeriod(['--tx', `0x${'00'.repeat(32)}`, '--node', nodeUrl]);
    expect(unknown.stdout).toBe(
      `FAIL PAYMENT_NOT_FOUND: transaction 0x${'00'.repeat(32)} is not included in the ledger\n`,
    );
    expect(unknown.code).toBe(1);
  }, 600_000); // an outer bound only: the wait inside fails on a stall
});
