import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { billFromIndexer, parseBillConfig } from '@tanglewatt/bills';
import { newX25519SecretKey, toHex, x25519PublicKey } from '@tanglewatt/channels';
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

async function ledgerSum(payments: Payment[]): Promise<bigint> {
  let sum = 0n;
  for (const p of payments) sum += await onLedger(p.outputId!);
  return sum;
}

const isOpen = (p: Payment) => p.state !== 'included' && p.state !== 'cancelled' && p.state !== 'failed';

// Two households, each metering its load and paying the other for it: A on a public channel, B on a
// restricted one that only B's reader key opens.
describe('member bills from the ledger and the meter channels, through the indexer', () => {
  let indexer: RunningIndexer;
  let dir: string;
  let a: TestWallet;
  let b: TestWallet;
  const agents: AgentHandle[] = [];
  const readerKey = newX25519SecretKey();
  let readerKeyFile: string;
  let from: string;
  let to: string;
  /** Each household's payments, all included once the agents stopped. */
  let paidByA: Payment[] = [];
  let paidByB: Payment[] = [];
  let meterKeyA: string;

  const meter = (household: 'a' | 'b', payer: TestWallet, payee: TestWallet, seed: number) =>
    startAgent({
      config: agentConfig(join(dir, `agent-${household}`), {
        meterId: `bills-${household}`,
        parties: { consumer: payer.service.address, producer: payee.service.address },
        sensors: [
          wanderingLoad({
            seed,
            busVoltageMV: 48_000,
            startMA: 10_000,
            minMA: 8_000,
            maxMA: 12_000,
            stepMA: 150,
          }),
        ],
        sampleIntervalMs: 1000,
        period: { seconds: 10 },
        price: { unitsPerWh: '4000' },
        walletService: { url: payer.service.url, token: payer.token },
        channel:
          household === 'a'
            ? { nodeUrl: tangle.nodes[0]!.restUrl, mode: 'public', batchSeconds: 3 }
            : {
                nodeUrl: tangle.nodes[0]!.restUrl,
                mode: 'restricted',
                readers: [toHex(x25519PublicKey(readerKey))],
                batchSeconds: 3,
              },
      }),
      log: pino({ level: 'warn' }),
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tanglewatt-bills-'));
    const binary = (await ensureBinaries({ log }))['tanglewatt-indexer'];
    if (!binary) throw new Error('tanglewatt-indexer did not build: see the ensureBinaries warning above');
    indexer = await startIndexer({
      binary,
      inxAddress: `127.0.0.1:${tangle.ports.inx}`,
      dataDir: join(dir, 'indexer'),
    });
    readerKeyFile = join(dir, 'reader.key');
    await writeFile(readerKeyFile, `${toHex(readerKey)}\n`, { mode: 0o600 });
    a = await startTestWallet(tangle, { slot: 42, indexerUrl: indexer.url, bills: BILLS });
    b = await startTestWallet(tangle, {
      slot: 41,
      indexerUrl: indexer.url,
      bills: { ...BILLS, readerKeyFile },
    });
    from = new Date(Date.now() - 60_000).toISOString();
    agents.push(await meter('a', a, b, 7), await meter('b', b, a, 8));
    const included = (w: TestWallet) =>
      w.service.store.list({ limit: 1000 }).items.filter((p) => p.state === 'included');
    await waitForProgress({
      what: 'three periods of each household paid and included',
      probe: () => ({ a: included(a).length, b: included(b).length }),
      done: (n) => n.a >= 3 && n.b >= 3,
      progressed: anyRose,
      stallMs: 60_000,
      ceilingMs: 300_000,
      intervalMs: 500,
    });
    meterKeyA = agents[0]!.snapshot().channel!.signingPublicKey;
    // Stop metering, then let every payment reach the ledger: the sets are final.
    for (const agent of agents.splice(0)) await agent.stop();
    const open = () =>
      [a, b].flatMap((w) => w.service.store.list({ limit: 1000 }).items.filter(isOpen)).length;
    await waitForProgress({
      what: 'every payment included',
      probe: () => ({ open: -open() }),
      done: (n) => n.open === 0,
      progressed: anyRose,
      stallMs: 60_000,
      ceilingMs: 180_000,
      intervalMs: 500,
    });
    paidByA = included(a);
    paidByB = included(b);
    to = new Date(Date.now() + 60_000).toISOString();
  }, 600_000);

  afterAll(async () => {
    for (const agent of agents) await agent.stop();
    await stopServices(a, b);
    if (indexer) await stopIndexer(indexer);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A household's bill once the indexer has reached every included payment it made or received and its readings. */
  async function billOf(address: string, readerSecretKey?: Uint8Array): Promise<BillJson> {
    const config = parseBillConfig(BILLS, { from, to });
    const indexerApi = new IndexerApi(indexer.url);
    let bill: BillJson | undefined;
    await expect
      .poll(
        async () => {
          bill = await billFromIndexer(
            indexerApi,
            address,
            config,
            readerSecretKey ? { readerSecretKey } : {},
          );
          // A period's channel messages were posted before its payment, but a busy node may reference
          // them a milestone after the payment: the bill marks those lines PENDING_INDEX until the indexer
          // holds them (MESSAGE_NOT_FOUND once it has passed the payment's milestone + 2; waited out too, in
          // case the node referenced them later still).
          const unseen = bill.lines.filter(
            (l) => l.readings === 'PENDING_INDEX' || l.readings === 'MESSAGE_NOT_FOUND',
          ).length;
          return `${bill.lines.length} lines, ${unseen} with messages not indexed yet`;
        },
        { timeout: 60_000, interval: 1000 },
      )
      .toBe(`${paidByA.length + paidByB.length} lines, 0 with messages not indexed yet`);
    return bill!;
  }

  it("a household's paid and earned totals equal its payments on the ledger, to the unit", async () => {
    expect(paidByA.length).toBeGreaterThanOrEqual(3);
    const bill = await billOf(a.service.address);
    expect(BigInt(bill.totals.paidUnits)).toBe(await ledgerSum(paidByA));
    expect(BigInt(bill.totals.earnedUnits)).toBe(await ledgerSum(paidByB));
    expect(bill.totals).toMatchObject({ operatorFeeUnits: '0', gridFeeUnits: '0' });
    const bought = bill.lines.filter((l) => l.direction === 'bought');
    expect(bought.map((l) => l.transactionId).sort()).toEqual(paidByA.map((p) => p.transactionId!).sort());
    for (const line of bill.lines) {
      // Each line's block is on the ledger.
      expect((await node.blockMetadata(line.blockId)).ledgerInclusionState).toBe('included');
      expect(line.counterparty).toBe(b.service.address);
    }
    // Each purchase's messages found from the payment alone, verified, and hashed into its readingsHash.
    expect(bought.map((l) => l.readings)).toEqual(bought.map(() => 'PASS'));
    const readings = new Map(bill.readings.periods.map((r) => [r.periodId, r.energyMWs]));
    for (const line of bought) expect(readings.get(line.periodId!)).toBe(line.energyMWs);
    expect(bill.readings.consumptionMWs).toBe(bill.totals.boughtMWs);
    expect(bill.selfSufficiency).toBe('1');
    expect(bill.warnings).toEqual([]);
  });

  it("the other household's bill mirrors it, and its restricted channel opens only with its reader key", async () => {
    const billA = await billOf(a.service.address);
    const bill = await billOf(b.service.address, readerKey);
    expect(bill.totals.earnedUnits).toBe(billA.totals.paidUnits);
    expect(bill.totals.soldMWs).toBe(billA.totals.boughtMWs);
    expect(bill.totals.paidUnits).toBe(billA.totals.earnedUnits);
    expect(BigInt(bill.totals.paidUnits)).toBe(await ledgerSum(paidByB));
    const bought = bill.lines.filter((l) => l.direction === 'bought');
    expect(bought.map((l) => l.readings)).toEqual(bought.map(() => 'PASS'));
    expect(bill.warnings).toEqual([]);

    // Without the key the money is the same; the readings cannot be checked, and the bill says so.
    const blind = await billOf(b.service.address);
    expect(blind.totals).toEqual(bill.totals);
    expect(new Set(blind.lines.filter((l) => l.direction === 'bought').map((l) => l.readings))).toEqual(
      new Set(['WRONG_KEY']),
    );
    expect(blind.selfSufficiency).toBeNull();
    expect(blind.warnings.length).toBe(bought.length);
  });

  it('GET /bills answers the same bills (with the reader key from bills.readerKeyFile), as CSV and PDF too', async () => {
    const query = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    const answerB = await api<BillJson>(b, 'GET', `/bills?${query}`);
    expect(answerB.status).toBe(200);
    expect(answerB.body).toEqual(await billOf(b.service.address, readerKey));
    const billA = await billOf(a.service.address);
    expect((await api<BillJson>(a, 'GET', `/bills?${query}`)).body).toEqual(billA);
    const auth = { headers: { authorization: `Bearer ${a.token}` } };
    const csv = await fetch(`${a.service.url}/bills?${query}&format=csv`, auth);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await csv.text()).toContain(`total,paid,,,,,,,,,${billA.totals.paidUnits},0,0,\r\n`);
    const pdf = await fetch(`${a.service.url}/bills?${query}&format=pdf`, auth);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(
      (await PDFDocument.load(new Uint8Array(await pdf.arrayBuffer()))).getPageCount(),
    ).toBeGreaterThanOrEqual(1);
  });

  it("naming the household's own meter reads every period on its public channel, paid or not", async () => {
    const paid = await billOf(a.service.address);
    const config = parseBillConfig({ ...BILLS, meters: [meterKeyA] }, { from, to });
    const bill = await billFromIndexer(new IndexerApi(indexer.url), a.service.address, config);
    expect(bill.warnings).toEqual([]);
    const periods = bill.readings.periods.map((r) => r.periodId);
    expect(new Set(periods).size).toBe(periods.length);
    for (const line of paid.lines.filter((l) => l.direction === 'bought'))
      expect(periods).toContain(line.periodId);
    // The agent closed periods it had not paid when it stopped: metered, so consumption is at least bought.
    expect(BigInt(bill.readings.consumptionMWs)).toBeGreaterThanOrEqual(BigInt(bill.totals.boughtMWs));
    expect(bill.totals.paidUnits).toBe(paid.totals.paidUnits);
  });

  it('the CLI writes the same bill as JSON (a reader key from --reader-key-file), and a PDF pdf-lib loads', async () => {
    const billB = await billOf(b.service.address, readerKey);
    const out = join(dir, 'bill.json');
    const args = ['--indexer', indexer.url, '--address', b.service.address, '--from', from, '--to', to];
    const json = await run(process.execPath, [
      ...['--import', 'tsx', CLI, ...args],
      ...['--reader-key-file', readerKeyFile, '--format', 'json', '--out', out],
    ]);
    // Without --config the baselines are 0: joining "saved" what was earned less what was paid.
    const { paidUnits, earnedUnits } = billB.totals;
    expect(json.stderr).toBe(
      `wrote ${out}: ${billB.lines.length} lines; paid ${paidUnits}, earned ${earnedUnits}, savings ${BigInt(earnedUnits) - BigInt(paidUnits)} units\n`,
    );
    const written = JSON.parse(await readFile(out, 'utf8')) as BillJson;
    expect(written.lines).toEqual(billB.lines);
    expect(written.warnings).toEqual([
      'no bill config (--config): the retail and feed-in baselines and CO2 factor are 0',
    ]);
    const pdfFile = join(dir, 'bill.pdf');
    await run(process.execPath, ['--import', 'tsx', CLI, ...args, '--format', 'pdf', '--out', pdfFile]);
    const doc = await PDFDocument.load(await readFile(pdfFile));
    expect(doc.getSubject()).toBe(`Member bill of ${b.service.address}`);
  });
});
