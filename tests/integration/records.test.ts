import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newX25519SecretKey, toHex, verifyPeriods, x25519PublicKey } from '@tanglewatt/channels/node';
import {
  createLogger,
  ensureBinaries,
  type RunningIndexer,
  startIndexer,
  stopIndexer,
} from '@tanglewatt/deploy';
import { IndexerApi } from '@tanglewatt/ledger';
import { type AgentHandle, type PeriodView, startAgent } from '@tanglewatt/meter-agent';
import { agentConfig, wanderingLoad } from '@tanglewatt/meter-agent/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyRose, waitForProgress } from '../support/progress.js';
import { sharedTangle, stopServices } from '../support/shared-tangle.js';
import { startTestWallet, type TestWallet } from '../support/wallets.js';

const { tangle, nodeUrl } = sharedTangle();
const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;

/** The channels CLI as an outsider runs it: exit code and what it printed. */
async function channelsCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'channels/src/cli.ts', ...args],
      {
        cwd: ROOT,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('verifiable records of a real agent’s channel, through the indexer', () => {
  let producer: TestWallet;
  let consumer: TestWallet;
  let agent: AgentHandle;
  let indexer: RunningIndexer;
  let dir: string;
  let readerFile: string;
  const readerKey = newX25519SecretKey();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tanglewatt-records-'));
    const binary = (await ensureBinaries({ log: createLogger('records-test') }))['tanglewatt-indexer'];
    if (!binary) throw new Error('tanglewatt-indexer did not build: see the ensureBinaries warning above');
    indexer = await startIndexer({
      binary,
      inxAddress: `127.0.0.1:${tangle.ports.inx}`,
      dataDir: join(dir, 'indexer'),
    });
    readerFile = join(dir, 'reader.key');
    await writeFile(readerFile, `${toHex(readerKey)}\n`, { mode: 0o600 });
    producer = await startTestWallet(tangle, { slot: 43 });
    consumer = await startTestWallet(tangle, { slot: 44 });
    agent = await startAgent({
      config: agentConfig(join(dir, 'agent'), {
        meterId: 'records-consumer-1',
        parties: { consumer: consumer.service.address, producer: producer.service.address },
        sensors: [
          wanderingLoad({
            seed: 5,
            busVoltageMV: 48_000,
            startMA: 10_000,
            minMA: 8_000,
            maxMA: 12_000,
            stepMA: 100,
          }),
        ],
        sampleIntervalMs: 1000,
        period: { seconds: 10 },
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
    if (indexer) await stopIndexer(indexer);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exports the records of two paid periods, verifies them PASS on the ledger, and FAILs on a deleted line', async () => {
    const included = () =>
      agent
        .periods(50)
        .filter(
          (p) =>
            p.seq >= 2 &&
            p.channel?.root !== undefined &&
            consumer.service.store.get(p.id)?.state === 'included',
        );
    await waitForProgress({
      what: 'two whole periods paid and included with their channel roots',
      probe: () => ({ closed: agent.periods(50).length, included: included().length }),
      done: (n) => n.included >= 2,
      progressed: anyRose,
      stallMs: 60_000,
      ceilingMs: 300_000,
      intervalMs: 500,
    });
    const [first, second] = included().sort((a, b) => a.seq - b.seq) as [PeriodView, PeriodView];
    const api = new IndexerApi(indexer.url);
    // The indexer has the payments once it indexed their milestones.
    await expect
      .poll(
        async () =>
          (await api.allTagBlocks('tanglewatt/pay/v1')).filter((b) =>
            [first.id, second.id].some((id) =>
              Buffer.from(b.data.slice(2), 'hex').toString().includes(`"${id}"`),
            ),
          ).length,
        { timeout: 30_000, interval: 1_000 },
      )
      .toBe(2);

    const fromSeq = first.channel!.fromSeq!;
    const toSeq = second.channel!.toSeq!;
    const channelId = agent.snapshot().channel!.channelId;
    const out = join(dir, 'records.jsonl');
    const exported = await channelsCli([
      'export-records',
      ...['--indexer', indexer.url, '--node', nodeUrl, '--channel', channelId, '--key-file', readerFile],
      ...['--from', String(fromSeq), '--to', String(toSeq), '--out', out],
    ]);
    expect(exported.stdout).toBe(
      `exported ${toSeq - fromSeq + 1} records (seq ${fromSeq}..${toSeq}) of channel ${channelId}; signer: the channel's own key (its id is the key's hash)\n`,
    );
    expect(exported.code).toBe(0);
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    const records = lines.map(
      (l) => JSON.parse(l) as { seq: number; ledger: { milestoneIndex?: number; milestoneId?: string } },
    );
    expect(records.map((r) => r.seq)).toEqual(
      Array.from({ length: toSeq - fromSeq + 1 }, (_, i) => fromSeq + i),
    );
    expect(
      records.every(
        (r) => r.ledger.milestoneIndex !== undefined && /^0x[0-9a-f]{64}$/.test(r.ledger.milestoneId ?? ''),
      ),
    ).toBe(true);

    const energyMWs = BigInt(first.energyMWs) + BigInt(second.energyMWs);
    const verified = await channelsCli([
      'verify-records',
      out,
      ...['--indexer', indexer.url, '--node', nodeUrl, '--seq', `${fromSeq}..${toSeq}`],
    ]);
    expect(verified.stdout).toBe(
      `PASS: ${lines.length} records (seq ${fromSeq}..${toSeq}) of channel ${channelId}; ${energyMWs} mWs in the periods they close; signer: the channel's own key (its id is the key's hash); every block checked on the ledger\n`,
    );
    expect(verified.code).toBe(0);

    // One line deleted in the middle: one FAIL line naming its seq.
    const gone = Math.floor(lines.length / 2);
    const cut = join(dir, 'cut.jsonl');
    await writeFile(cut, `${lines.filter((_, i) => i !== gone).join('\n')}\n`);
    const failed = await channelsCli(['verify-records', cut, '--indexer', indexer.url]);
    expect(failed.stdout).toBe(
      `FAIL MISSING: line ${gone + 1}, seq ${fromSeq + gone}: seq ${fromSeq + gone} missing (between seq ${fromSeq + gone - 1} and ${fromSeq + gone + 1})\n`,
    );
    expect(failed.code).toBe(1);
  }, 600_000); // an outer bound only: the wait inside fails on a stall

  it('verify-period finds a payment by period id and payer through the indexer; verifyPeriods sums the periods', async () => {
    // Runs after the test above, which waited until two periods were paid and indexed.
    const periods = agent
      .periods(50)
      .filter((p) => p.seq >= 2 && consumer.service.store.get(p.id)?.state === 'included')
      .sort((a, b) => a.seq - b.seq)
      .slice(0, 2);
    const [period] = periods as [PeriodView];
    const pass = await channelsCli([
      'verify-period',
      ...[
        '--period',
        period.id,
        '--address',
        consumer.service.address,
        '--indexer',
        indexer.url,
        '--key-file',
        readerFile,
      ],
    ]);
    const { fromSeq, toSeq } = period.channel!;
    expect(pass.stdout).toBe(
      `PASS: ${toSeq! - fromSeq! + 1} messages (seq ${fromSeq}..${toSeq}) verified; root matches; period ${period.id}; signer: the channel's own key (its id is the key's hash)\n`,
    );
    expect(pass.code).toBe(0);

    const stranger = await channelsCli([
      'verify-period',
      ...[
        '--period',
        period.id,
        '--address',
        producer.service.address,
        '--indexer',
        indexer.url,
        '--key-file',
        readerFile,
      ],
    ]);
    expect(stranger.stdout).toBe(
      `FAIL PAYMENT_NOT_FOUND: no included tanglewatt/pay/v1 payment for period ${period.id} by ${producer.service.address} in the indexer\n`,
    );
    expect(stranger.code).toBe(1);

    const summed = await verifyPeriods(
      periods.map((p) => ({ periodId: p.id, payer: consumer.service.address })),
      { indexer: new IndexerApi(indexer.url), readerSecretKey: readerKey },
    );
    expect(summed.failures).toEqual([]);
    expect(summed.energyMWs).toBe(periods.reduce((sum, p) => sum + BigInt(p.energyMWs), 0n));
    expect(summed.amounts).toBe(periods.reduce((sum, p) => sum + BigInt(p.amount), 0n));
  });
});
