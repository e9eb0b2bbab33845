import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  type AllocationStatement,
  billFromIndexer,
  findAllocationPayments,
  parseAllocationConfig,
  parseBillConfig,
  parseCycle,
  readAllocationMeters,
  verifyBill,
} from '@tanglewatt/bills';
import type { Payment } from '@tanglewatt/contract';
import {
  createLogger,
  ensureBinaries,
  type RunningIndexer,
  startIndexer,
  stopIndexer,
  type TangleState,
  tangleDown,
} from '@tanglewatt/deploy';
import { generateMnemonic, IndexerApi, MnemonicSigner } from '@tanglewatt/ledger';
import { type AgentHandle, startAgent } from '@tanglewatt/meter-agent';
import { agentConfig, constantLoad } from '@tanglewatt/meter-agent/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevTangle } from '../support/dev-tangle.js';
import { processesUnder } from '../support/processes.js';
import { anyRose, waitForProgress } from '../support/progress.js';
import { stopServices } from '../support/shared-tangle.js';
import { api, startTestWallet, type TestWallet } from '../support/wallets.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../bills/src/cli.ts', import.meta.url));
const log = createLogger('allocation-test');
const HALF_NJ_PER_WH = 7_200_000_000_000n;
const CYCLE_MS = 30_000;

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CLI, 'allocate', ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** One flat band all week: 1000 units/Wh, the operator 10 % of it, the grid 50 units/Wh. */
const TARIFF = {
  id: 'allocation-test',
  version: 1,
  timeZone: 'UTC',
  validFrom: '2026-01-01T00:00Z',
  bands: [{ digit: 1, name: 'flat', priceUnitsPerWh: '1000' }],
  slots: [
    { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00', band: 'flat' },
  ],
  fees: { operator: { percentOfEnergy: '10' }, grid: { unitsPerWh: { flat: '50' } } },
};

// Its own tangle (every genesis slot free) and indexer: a roof's generation meter and two members' meters
// publish public channels for a 30 s cycle; the operator's command states, pays and verifies it.
describe('allocation: a community’s generation shared by keys, from the signed readings', {
  timeout: 240_000,
}, () => {
  let dataDir: string;
  let tangle: TangleState;
  let indexer: RunningIndexer;
  let a: TestWallet;
  let b: TestWallet;
  const agents: AgentHandle[] = [];
  let configFile: string;
  let cycleArg: string;
  let payees: { producer: string; operator: string; grid: string };
  /** Watts of each meter's steady load: the roof 480 W, house-a 300 W, house-b 72 W (48 V). */
  const watts = { roof: 480, 'house-a': 300, 'house-b': 72 };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tanglewatt-allocation-'));
    tangle = await startDevTangle(join(dataDir, 'network'), log);
    const binary = (await ensureBinaries({ log }))['tanglewatt-indexer'];
    if (!binary) throw new Error('tanglewatt-indexer did not build: see the ensureBinaries warning above');
    indexer = await startIndexer({
      binary,
      inxAddress: `127.0.0.1:${tangle.ports.inx}`,
      dataDir: join(dataDir, 'indexer'),
    });
    a = await startTestWallet(tangle, { slot: 0 });
    b = await startTestWallet(tangle, { slot: 1 });
    const hrp = a.service.address.slice(0, a.service.address.lastIndexOf('1'));
    const [producer, operator, grid] = (await new MnemonicSigner(generateMnemonic()).addresses({
      count: 3,
      bech32Hrp: hrp,
    })) as [string, string, string];
    payees = { producer, operator, grid };
    const meter = (meterId: keyof typeof watts) =>
      startAgent({
        config: agentConfig(join(dataDir, meterId), {
          meterId,
          // Members' meters only record and publish: the allocation is paid per cycle, not per period.
          role: 'producer',
          parties: { consumer: a.service.address, producer },
          sensors: [constantLoad(48_000, (watts[meterId] * 1000) / 48)],
          sampleIntervalMs: 1000,
          period: { seconds: 10 },
          price: { unitsPerWh: '1' },
          channel: { nodeUrl: tangle.nodes[0]!.restUrl, mode: 'public', batchSeconds: 3 },
        }),
        log: pino({ level: 'warn' }),
      });
    for (const id of ['roof', 'house-a', 'house-b'] as const) agents.push(await meter(id));
    const key = (i: number) => agents[i]!.snapshot().channel!.signingPublicKey;
    configFile = join(dataDir, 'allocation.json');
    await writeFile(
      configFile,
      JSON.stringify({
        tariff: TARIFF,
        gapMs: 3000,
        payees,
        generation: [{ meterId: 'roof', publicKey: key(0) }],
        members: [
          { meterId: 'house-a', publicKey: key(1), keyPercent: '40', address: a.service.address },
          { meterId: 'house-b', publicKey: key(2), keyPercent: '30', address: b.service.address },
        ],
      }),
    );
    // The cycle starts once every meter is sampling, on a whole second.
    const fromMs = Math.ceil((Date.now() + 3000) / 1000) * 1000;
    cycleArg = `${new Date(fromMs).toISOString()}..${new Date(fromMs + CYCLE_MS).toISOString()}`;
    // Wait until the indexer holds every meter's readings past the cycle's end.
    const { config, cycle } = parsed();
    await waitForProgress({
      what: "every meter's readings in the indexer past the cycle's end",
      probe: async () => {
        const meters = await readAllocationMeters(new IndexerApi(indexer.url), config, cycle);
        return Object.fromEntries(meters.map((m) => [m.meterId, m.readings.at(-1)?.tMs ?? 0]));
      },
      done: (last: Record<string, number>) => Object.values(last).every((t) => t >= cycle.toMs),
      progressed: anyRose,
      stallMs: 30_000,
      ceilingMs: 90_000,
      intervalMs: 2000,
    });
    for (const agent of agents.splice(0)) await agent.stop();
  }, 240_000);

  afterAll(async () => {
    for (const agent of agents) await agent.stop();
    await stopServices(a, b);
    if (indexer) await stopIndexer(indexer);
    if (dataDir) {
      await tangleDown(join(dataDir, 'network')).catch(() => undefined);
      expect(processesUnder(dataDir)).toEqual([]);
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  /** The config and cycle as the command reads them. */
  function parsed() {
    const config = parseAllocationConfig(JSON.parse(readFileSync(configFile, 'utf8')), configFile);
    return { config, cycle: parseCycle(cycleArg, config.history) };
  }

  const base = () => ['--config', configFile, '--indexer', indexer.url, '--cycle', cycleArg];

  it("states each member's share as the hand computation from the verified readings gives it", async () => {
    const { code, stdout, stderr } = await cli(base());
    expect([code, stderr.split('\n').length]).toEqual([0, 2]);
    const statement = JSON.parse(stdout) as AllocationStatement;
    const { config, cycle } = parsed();
    const meters = await readAllocationMeters(new IndexerApi(indexer.url), config, cycle);
    // By hand: at a steady P mW, a stretch of dt ms (no longer than gapMs) holds 2 × P × 1000 × dt half-nJ
    // (µW × ms, the meter's trapezoid); only the part inside the cycle counts.
    const energy = (meterId: keyof typeof watts) => {
      const r = meters.find((m) => m.meterId === meterId)!.readings;
      let ms = 0;
      for (let i = 1; i < r.length; i++)
        if (r[i]!.tMs - r[i - 1]!.tMs <= 3000)
          ms += Math.max(0, Math.min(r[i]!.tMs, cycle.toMs) - Math.max(r[i - 1]!.tMs, cycle.fromMs));
      expect(new Set(r.map((x) => x.powerMW))).toEqual(new Set([watts[meterId] * 1000]));
      return 2n * BigInt(watts[meterId]) * 1_000_000n * BigInt(ms);
    };
    const roof = energy('roof');
    const [consumesA, consumesB] = [energy('house-a'), energy('house-b')];
    // house-a: allocated 40 % of 480 W = 192 W, consumes 300 W → covers its allocation.
    // house-b: allocated 30 % = 144 W, consumes 72 W → covers its consumption.
    const coveredA = (roof * 40n) / 100n < consumesA ? (roof * 40n) / 100n : consumesA;
    const coveredB = (roof * 30n) / 100n < consumesB ? (roof * 30n) / 100n : consumesB;
    expect(coveredA).toBe((roof * 40n) / 100n);
    expect(coveredB).toBe(consumesB);
    const wh = (halfNJ: bigint) => {
      const mWh = (halfNJ * 1000n) / HALF_NJ_PER_WH;
      expect((halfNJ * 1000n) % HALF_NJ_PER_WH).toBe(0n); // whole mWh at these powers and whole ms
      return String(Number(mWh) / 1000);
    };
    // Units: producer covered Wh × 1000, operator 10 % of that, grid covered Wh × 50 (floors).
    const units = (covered: bigint) => ({
      producer: String((covered * 1000n) / HALF_NJ_PER_WH),
      operator: String((covered * 100n) / HALF_NJ_PER_WH),
      grid: String((covered * 50n) / HALF_NJ_PER_WH),
    });
    expect(statement.members.map((m) => [m.meterId, m.consumptionWh, m.coveredWh, m.units])).toEqual([
      ['house-a', wh(consumesA), wh(coveredA), units(coveredA)],
      ['house-b', wh(consumesB), wh(coveredB), units(coveredB)],
    ]);
    expect(statement.totals.generationWh).toBe(wh(roof));
    expect(statement.totals.unallocatedWh).toBe(wh(roof - coveredA - coveredB));
    expect(BigInt(units(coveredA).producer)).toBeGreaterThan(0n);
    // The cycle is about 30 s of readings: nearly all of it was bridged.
    expect(Number(roof / (2n * 480n * 1_000_000n))).toBeGreaterThan(CYCLE_MS - 4000);

    const csv = await cli([...base(), '--format', 'csv']);
    expect(csv.stdout).toContain(
      `total,,,,,,${statement.totals.coveredWh},,${statement.totals.unallocatedWh},${statement.totals.generationWh},`,
    );
  });

  it('--pay twice pays once; verify passes the paid member (its bill too) and fails changed keys and the unpaid one', async () => {
    const env = { ALLOCATION_WALLET_TOKEN: a.token };
    const pay = [
      ...base(),
      '--pay',
      '--member',
      'house-a',
      '--wallet-url',
      a.service.url,
      '--token-env',
      'ALLOCATION_WALLET_TOKEN',
    ];
    const first = await cli(pay, env);
    const second = await cli(pay, env);
    expect([first.code, second.code]).toEqual([0, 0]);
    const key = `house-a/allocation/${parsed().cycle.id}`;
    expect(second.stderr).toContain(`payment ${key}: `);
    await expect
      .poll(async () => (await api<Payment>(a, 'GET', `/payments/${encodeURIComponent(key)}`)).body.state, {
        timeout: 60_000,
        interval: 500,
      })
      .toBe('included');
    const indexerApi = new IndexerApi(indexer.url);
    await expect
      .poll(async () => (await findAllocationPayments(indexerApi, key)).length, { timeout: 30_000 })
      .toBe(1);
    expect(a.service.store.list({ limit: 100 }).items.filter((p) => p.idempotencyKey === key)).toHaveLength(
      1,
    );

    const passed = await cli(['verify', ...base(), '--member', 'house-a']);
    expect(passed.code).toBe(0);
    expect(passed.stdout).toMatch(
      /^PASS: house-a paid \d+ units for .+ \(producer \d+, operator \d+, grid \d+; covered [0-9.]+ Wh\) in 0x[0-9a-f]{64}\n$/,
    );
    // The member's own bill lists the payment as bought from the community, marked as checked by
    // `allocate verify` (it has no channel period of its own), and the bill verifier passes it.
    const { cycle } = parsed();
    const billConfig = parseBillConfig(
      { timeZone: 'UTC', retailUnitsPerWh: '0' },
      {
        from: new Date(cycle.fromMs - 600_000).toISOString(),
        to: new Date(Date.now() + 600_000).toISOString(),
      },
    );
    const bill = await billFromIndexer(indexerApi, a.service.address, billConfig);
    expect(bill.lines.map((l) => [l.direction, l.key, l.readings])).toEqual([['bought', key, 'ALLOCATION']]);
    expect(bill.warnings.filter((w) => w.includes(key))).toEqual([]);
    expect((await verifyBill(bill, { indexer: indexerApi })).findings).toEqual([]);

    // The same payment held to other keys (house-a 41 % instead of 40 %): its amount is not theirs.
    const changed = join(dataDir, 'changed-keys.json');
    const json = JSON.parse(readFileSync(configFile, 'utf8')) as { members: { keyPercent: string }[] };
    json.members[0]!.keyPercent = '41';
    await writeFile(changed, JSON.stringify(json));
    const otherKeys = await cli(['verify', ...base(), '--config', changed, '--member', 'house-a']);
    expect(otherKeys.code).toBe(1);
    expect(otherKeys.stdout).toMatch(
      /^FAIL AMOUNT_MISMATCH: producer: the ledger pays \d+, the readings give \d+\n$/,
    );
    const unpaid = await cli(['verify', ...base(), '--member', 'house-b']);
    expect([unpaid.code, unpaid.stdout]).toEqual([
      1,
      `FAIL NOT_PAID: no included payment "house-b/allocation/${key.split('/allocation/')[1]}" in the indexer\n`,
    ]);
  });
});
