import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { billFromIndexer, parseBillConfig } from '@tanglewatt/bills';
import type { BillJson, Payment } from '@tanglewatt/contract';
import {
  createLogger,
  ensureBinaries,
  type RunningIndexer,
  startIndexer,
  stopIndexer,
} from '@tanglewatt/deploy';
import { IndexerApi } from '@tanglewatt/ledger';
import { type AgentHandle, startAgent } from '@tanglewatt/meter-agent';
import { agentConfig, wanderingLoad } from '@tanglewatt/meter-agent/testing';
import { PDFDocument } from 'pdf-lib';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyRose, waitForProgress } from '../support/progress.js';
import { sharedTangle, stopServices } from '../support/shared-tangle.js';
import { api, startTestWallet, type TestWallet } from '../support/wallets.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../bills/src/cli.ts', import.meta.url));
const { tangle, node } = sharedTangle();
const log = createLogger('bills-test');
const BILLS = { timeZone: 'UTC', retailUnitsPerWh: '5000', feedInUnitsPerWh: '1000', co2GramsPerKWh: '380' };

/** What a payment gave its payee on the ledger: the output's amount less any deposit owed back. */
async function onLedger(outputId: string): Promise<bigint> {
  const { output } = (await node.output(outputId)) as unknown as {
    output: { amount: string; unlockConditions?: { type: number; amount?: string }[] };
  };
  const deposit = output.unlockConditions?.find((c) => c.type === 1)?.amount ?? '0';
  return BigInt(output.amount) - BigInt(deposit);
}

describe('member bills from the ledger and the meter channel, through the indexer', () => {
  let indexer: RunningIndexer;
  let dir: string;
  let producer: TestWallet;
  let consumer: TestWallet;
  let agent: AgentHandle | undefined;
  let from: string;
  let to: string;
  let included: Payment[] = [];
  let meterKey: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tanglewatt-bills-'));
    const binary = (await ensureBinaries({ log }))['tanglewatt-indexer'];
    if (!binary) throw new Error('tanglewatt-indexer did not build: see the ensureBinaries warning above');
    indexer = await startIndexer({
      binary,
      inxAddress: `127.0.0.1:${tangle.ports.inx}`,
      dataDir: join(dir, 'indexer'),
    });
    const indexerConfig = { url: indexer.url };
    producer = await startTestWallet(tangle, { slot: 41, indexer: indexerConfig, bills: BILLS });
    consumer = await startTestWallet(tangle, { slot: 42, indexer: indexerConfig, bills: BILLS });
    from = new Date(Date.now() - 60_000).toISOString();
    agent = await startAgent({
      config: agentConfig(join(dir, 'agent'), {
        meterId: 'bills-consumer-1',
        parties: { consumer: consumer.service.address, producer: producer.service.address },
        sensors: [
          wanderingLoad({
            seed: 7,
            busVoltageMV: 48_000,
            startMA: 10_000,
            minMA: 8_000,
            maxMA: 12_000,
            stepMA: 150,
          }),
        ],
        sampleIntervalMs: 1000,
        period: { seconds: 10 },
        // About 480 W for 10 s is 1.33 Wh: over 5000 units a period, above a basic output's deposit.
        price: { unitsPerWh: '4000' },
        walletService: { url: consumer.service.url, token: consumer.token },
        channel: { nodeUrl: tangle.nodes[0]!.restUrl, mode: 'public', batchSeconds: 3 },
      }),
      log: pino({ level: 'warn' }),
    });
    const paidAndIncluded = () =>
      agent!.periods(50).filter((p) => consumer.service.store.get(p.id)?.state === 'included').length;
    await waitForProgress({
      what: 'three periods paid and included',
      probe: () => ({ closed: agent!.periods(50).length, included: paidAndIncluded() }),
      done: (n) => n.included >= 3,
      progressed: anyRose,
      stallMs: 60_000,
      ceilingMs: 300_000,
      intervalMs: 500,
    });
    meterKey = agent.snapshot().channel!.signingPublicKey;
    // Stop metering, then let every payment the agent made reach the ledger: the set is final.
    await agent.stop();
    agent = undefined;
    const open = () =>
      consumer.service.store
        .list({ limit: 1000 })
        .items.filter((p) => p.state !== 'included' && p.state !== 'cancelled' && p.state !== 'failed');
    await waitForProgress({
      what: 'every payment included',
      probe: () => ({ open: -open().length }),
      done: (n) => n.open === 0,
      progressed: anyRose,
      stallMs: 60_000,
      ceilingMs: 180_000,
      intervalMs: 500,
    });
    included = consumer.service.store.list({ limit: 1000 }).items.filter((p) => p.state === 'included');
    to = new Date(Date.now() + 60_000).toISOString();
  }, 600_000);

  afterAll(async () => {
    await agent?.stop();
    await stopServices(producer, consumer);
    if (indexer) await stopIndexer(indexer);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The bill once the indexer has reached every included payment. */
  async function billOf(address: string): Promise<BillJson> {
    const config = parseBillConfig(BILLS, { from, to });
    const indexerApi = new IndexerApi(indexer.url);
    let bill: BillJson | undefined;
    await expect
      .poll(
        async () => {
          bill = await billFromIndexer(indexerApi, address, config);
          return bill.lines.length;
        },
        { timeout: 30_000, interval: 1000 },
      )
      .toBe(included.length);
    return bill!;
  }

  it("the consumer's paid total equals the sum of its payments on the ledger, to the unit", async () => {
    expect(included.length).toBeGreaterThanOrEqual(3);
    const bill = await billOf(consumer.service.address);
    let ledgerSum = 0n;
    for (const p of included) ledgerSum += await onLedger(p.outputId!);
    expect(BigInt(bill.totals.paidUnits)).toBe(ledgerSum);
    expect(bill.totals).toMatchObject({
      operatorFeeUnits: '0',
      gridFeeUnits: '0',
      earnedUnits: '0',
      energyPaidUnits: String(ledgerSum),
    });
    expect(bill.lines.map((l) => l.transactionId).sort()).toEqual(
      included.map((p) => p.transactionId!).sort(),
    );
    // Each line's block is on the ledger and carries the transaction the line names.
    for (const line of bill.lines) {
      expect((await node.blockMetadata(line.blockId)).ledgerInclusionState).toBe('included');
      expect(line).toMatchObject({
        direction: 'bought',
        counterparty: producer.service.address,
        // Its messages found from the payment alone, verified, and hashed into its readingsHash.
        readings: 'PASS',
      });
    }
    expect(bill.lines.map((l) => l.energyMWs)).toEqual(
      [...included]
        .sort((a, b) => Date.parse(a.metadata!.periodStart!) - Date.parse(b.metadata!.periodStart!))
        .map((p) => p.metadata!.energyMWs),
    );
    // The meter channel: every paid period read back, verified, with the energy its payment states.
    const readings = new Map(bill.readings.periods.map((r) => [r.periodId, r.energyMWs]));
    for (const line of bill.lines) expect(readings.get(line.periodId!)).toBe(line.energyMWs);
    expect(bill.readings.consumptionMWs).toBe(bill.totals.boughtMWs);
    expect(bill.selfSufficiency).toBe('1');
    expect(bill.warnings).toEqual([]);
  });

  it("the producer's bill earns what the consumer paid, and GET /bills answers the same bill", async () => {
    const bill = await billOf(producer.service.address);
    const consumerBill = await billOf(consumer.service.address);
    expect(bill.totals.earnedUnits).toBe(consumerBill.totals.paidUnits);
    expect(bill.totals.soldMWs).toBe(consumerBill.totals.boughtMWs);
    expect(bill.totals.paidUnits).toBe('0');

    const query = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    const answer = await api<BillJson>(consumer, 'GET', `/bills?${query}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(consumerBill);
    const csv = await fetch(`${consumer.service.url}/bills?${query}&format=csv`, {
      headers: { authorization: `Bearer ${consumer.token}` },
    });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await csv.text()).toContain(`total,paid,,,,,,,,,${consumerBill.totals.paidUnits},0,0,\r\n`);
    const pdf = await fetch(`${consumer.service.url}/bills?${query}&format=pdf`, {
      headers: { authorization: `Bearer ${consumer.token}` },
    });
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(
      (await PDFDocument.load(new Uint8Array(await pdf.arrayBuffer()))).getPageCount(),
    ).toBeGreaterThanOrEqual(1);
  });

  it("naming the household's own meter reads every period on its public channel, paid or not", async () => {
    const paid = await billOf(consumer.service.address);
    const config = parseBillConfig({ ...BILLS, meters: [meterKey] }, { from, to });
    const bill = await billFromIndexer(new IndexerApi(indexer.url), consumer.service.address, config);
    expect(bill.warnings).toEqual([]);
    const periods = bill.readings.periods.map((r) => r.periodId);
    expect(new Set(periods).size).toBe(periods.length);
    for (const line of paid.lines) expect(periods).toContain(line.periodId);
    // The agent closed periods it had not paid when it stopped: metered, so consumption is at least bought.
    expect(BigInt(bill.readings.consumptionMWs)).toBeGreaterThanOrEqual(BigInt(bill.totals.boughtMWs));
    expect(bill.totals.paidUnits).toBe(paid.totals.paidUnits);
  });

  it('the CLI writes the same bill as JSON, and a PDF pdf-lib loads', async () => {
    const consumerBill = await billOf(consumer.service.address);
    const out = join(dir, 'bill.json');
    const args = [
      '--indexer',
      indexer.url,
      '--address',
      consumer.service.address,
      '--from',
      from,
      '--to',
      to,
    ];
    const json = await run(process.execPath, [
      '--import',
      'tsx',
      CLI,
      ...args,
      '--format',
      'json',
      '--out',
      out,
    ]);
    // Without --config the baselines are 0: joining "saved" minus what was paid.
    expect(json.stderr).toBe(
      `wrote ${out}: ${consumerBill.lines.length} lines; paid ${consumerBill.totals.paidUnits}, earned 0, savings -${consumerBill.totals.paidUnits} units\n`,
    );
    const written = JSON.parse(await readFile(out, 'utf8')) as BillJson;
    // … and the bill says so.
    expect(written.totals.paidUnits).toBe(consumerBill.totals.paidUnits);
    expect(written.warnings).toEqual([
      'no bill config (--config): the retail and feed-in baselines and CO2 factor are 0',
    ]);
    const pdfFile = join(dir, 'bill.pdf');
    await run(process.execPath, ['--import', 'tsx', CLI, ...args, '--format', 'pdf', '--out', pdfFile]);
    const doc = await PDFDocument.load(await readFile(pdfFile));
    expect(doc.getSubject()).toBe(`Member bill of ${consumer.service.address}`);
  });
});
