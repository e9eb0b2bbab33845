/**
 * A simulated month of the local community on a real tangle: each household a wallet-service (the
 * household harness, on a genesis-funded account) and a meter agent on a simulated load, on a clock that
 * runs the month in minutes, paying the next household round the ring for every period at the tariff's
 * time-of-use prices, the operator's and grid's shares in the same transaction. Then each household's bill
 * is built through the community indexer, checked by the bill verifier, and the bills are added up against
 * the ledger (see ./ledger.ts).
 */
import { join } from 'node:path';
import { billFromIndexer, parseBillConfig, verifyBill } from '@tanglewatt/bills';
import { fromHex, publicTag } from '@tanglewatt/channels';
import type { BillJson } from '@tanglewatt/contract';
import { generateMnemonic, IndexerApi, MnemonicSigner, NodeApi } from '@tanglewatt/ledger';
import type { AgentHandle } from '@tanglewatt/meter-agent';
import type { Logger } from 'pino';
import { mapLimit, sleep, until } from '../community/households.js';
import {
  devMnemonic,
  fundedSlot,
  type RunningHousehold,
  startHousehold,
  startHouseholdAgent,
} from '../household.js';
import { startIndexer, stopIndexer } from '../indexer.js';
import { ensureBinaries } from '../install.js';
import type { TangleState } from '../tangle.js';
import { monthClock } from './clock.js';
import { checkMonth, type MonthCheck } from './ledger.js';
import { householdLoad, monthTariff } from './tariff.js';

const DAY_MS = 86_400_000;

export interface MonthOptions {
  tangle: TangleState;
  dataDir: string;
  log: Logger;
  households: number;
  days: number;
  periodHours: number;
  /** Genesis slots the households pay from (default 0, 1, …). */
  slots?: readonly number[];
  /** Real seconds each period takes (default 2): sets the clock's speed. */
  realSecondsPerPeriod?: number;
  /** Simulated seconds between samples (default 60, the agent's most). */
  sampleSeconds?: number;
  /** First simulated instant, a UTC midnight (default: the month ending at today's UTC midnight). */
  startMs?: number;
  /** Called with the bills while the tangle and indexer still run (a test checks the verifier's CLI here). */
  onBills?: (context: {
    indexerUrl: string;
    nodeUrl: string;
    households: MonthHouseholdResult[];
  }) => Promise<void>;
}

export interface MonthHouseholdResult {
  name: string;
  address: string;
  /** Its meter's channel (public): `export-records --channel`. */
  channelId: string;
  /** The newest message its meter posted on that channel (seq), -1 for none. */
  lastPostedSeq: number;
  /** Periods its agent closed in the month, and how many of them it paid. */
  periods: number;
  paidPeriods: number;
  bill: BillJson;
  /** The bill verifier's lines: ['PASS'] or FAIL lines. */
  verdict: string[];
}

export interface MonthResult extends MonthCheck {
  households: MonthHouseholdResult[];
  days: number;
  periodHours: number;
  speed: number;
  from: string;
  to: string;
  /** Real ms: the month's run on the clock, then until every payment was included. */
  simulatedRunMs: number;
  settleMs: number;
  ok: boolean;
}

function checkOptions(o: MonthOptions): void {
  const whole = (v: number, min: number) => Number.isSafeInteger(v) && v >= min;
  if (!whole(o.households, 2)) throw new Error('households: a whole number ≥ 2');
  if (!whole(o.days, 1)) throw new Error('days: a whole number ≥ 1');
  if (!whole(o.periodHours, 1) || 24 % o.periodHours !== 0)
    throw new Error('period-hours: a whole number of hours that divides a day (1, 2, 3, 4, 6, 8, 12, 24)');
  if (o.slots && o.slots.length < o.households) throw new Error(`slots: one per household (${o.households})`);
}

export async function runMonthOnTangle(options: MonthOptions): Promise<MonthResult> {
  checkOptions(options);
  const { tangle, log, days, periodHours } = options;
  const n = options.households;
  const startMs = options.startMs ?? Math.floor(Date.now() / DAY_MS) * DAY_MS - days * DAY_MS;
  const endMs = startMs + days * DAY_MS;
  const speed = (periodHours * 3_600) / (options.realSecondsPerPeriod ?? 2);
  const nodeUrl = tangle.nodes[0]!.restUrl;
  const binary = (await ensureBinaries({ log }))['tanglewatt-indexer'];
  if (!binary) throw new Error('tanglewatt-indexer did not build: see the ensureBinaries warning above');
  const indexer = await startIndexer({
    binary,
    inxAddress: `127.0.0.1:${tangle.ports.inx}`,
    dataDir: join(options.dataDir, 'indexer'),
  });
  const wallets: RunningHousehold[] = [];
  const agents: AgentHandle[] = [];
  try {
    const mnemonic = await devMnemonic();
    await mapLimit(
      Array.from({ length: n }, (_, i) => i),
      4,
      async (i) => {
        const slot = fundedSlot(tangle, options.slots?.[i] ?? i);
        wallets[i] = await startHousehold(
          {
            dir: join(options.dataDir, `H${i + 1}`),
            nodeUrl,
            mnemonic,
            accountIndex: slot.accountIndex,
            initialOutputs: [slot.outputId],
            unsetEnv: 'TANGLEWATT_MONTH_UNSET',
            wallet: {
              api: { rateLimitPerMinute: 100_000 },
              market: { enabled: false },
              settlement: { lingerMs: 200, reattachAfterSeconds: 5 },
              ledger: { pollIntervalMs: 250 },
            },
          },
          log.child({ household: `H${i + 1}` }, { level: 'warn' }),
        );
      },
    );
    const hrp = wallets[0]!.address.slice(0, wallets[0]!.address.lastIndexOf('1'));
    const [operator, grid] = (await new MnemonicSigner(generateMnemonic()).addresses({
      count: 2,
      bech32Hrp: hrp,
    })) as [string, string];
    const tariff = { schedule: monthTariff(startMs - DAY_MS), operator, grid };
    const clock = monthClock({ startMs, endMs, speed });
    for (const [i, h] of wallets.entries())
      agents.push(
        await startHouseholdAgent(h, {
          config: {
            meterId: `month-H${i + 1}`,
            role: 'consumer',
            parties: { consumer: h.address, producer: wallets[(i + 1) % n]!.address },
            sensors: [householdLoad(i)],
            sampleIntervalMs: (options.sampleSeconds ?? 60) * 1000,
            // Samples made durable once a simulated hour: the month's disk writes stay few.
            durability: { everySeconds: 3_600 },
            period: { seconds: periodHours * 3_600 },
            price: { unitsPerWh: '200' },
            tariff,
            channel: { nodeUrl, mode: 'public', batchSeconds: 3_600 },
          },
          pay: 'api',
          clock,
          log: log.child({ meter: `H${i + 1}` }, { level: 'warn' }),
        }),
      );
    clock.begin();
    const runStarted = Date.now();
    log.info({ households: n, days, periodHours, speed }, 'month running');
    await sleep(clock.realMsUntilEnd());
    const simulatedRunMs = Date.now() - runStarted;
    // The month is over: the clock runs at real speed, so no further period closes while payments settle.
    const inMonth = (agent: AgentHandle) => agent.periods(100_000).filter((p) => p.endMs <= endMs);
    const settleStarted = Date.now();
    await until(
      'every period of the month closed, paid and included',
      120_000 + n * days * 2_000,
      async () => {
        for (const agent of agents) {
          const periods = inMonth(agent);
          // The last period ends with the month: its agent may close it a moment after the sleep ends.
          if (!periods.some((p) => p.endMs === endMs)) return undefined;
          if (periods.some((p) => p.paymentState === 'queued')) return undefined;
        }
        for (const w of wallets)
          if (
            w.service.store
              .list({ limit: 100_000 })
              .items.some((p) => !['included', 'failed', 'cancelled'].includes(p.state))
          )
            return undefined;
        return true;
      },
    );
    const settleMs = Date.now() - settleStarted;
    const periodsOf = agents.map(inMonth);
    const indexerApi = new IndexerApi(indexer.url);
    // A busy node may reference a channel message a milestone after later ones, or leave a block
    // unreferenced until its agent posts it again: the records and bills are read once the indexer holds
    // every message each meter posted — first while the agents run (they post unreferenced blocks again),
    // then after they stopped (a stop posts what is still buffered).
    const allIndexed = async (snapshots: ReturnType<AgentHandle['snapshot']>['channel'][]) => {
      for (const [i, c] of snapshots.entries()) {
        const posted = (c?.lastPostedSeq ?? -1) + 1;
        const tag = c ? publicTag(fromHex(c.channelId, 32, 'channel id')) : '';
        await until(`the indexer holds H${i + 1}'s ${posted} channel messages`, 60_000, async () =>
          posted === 0 || (await indexerApi.allTagBlocks(tag)).length >= posted ? true : undefined,
        );
      }
    };
    await allIndexed(agents.map((a) => a.snapshot().channel));
    const stopped = agents.splice(0);
    await Promise.all(stopped.map((a) => a.stop()));
    const channels = stopped.map((a) => a.snapshot().channel);
    const channelIds = channels.map((c) => c?.channelId ?? '');
    await allIndexed(channels);

    const node = new NodeApi(nodeUrl);
    const from = new Date(startMs).toISOString();
    const to = new Date(endMs).toISOString();
    const config = parseBillConfig(
      { timeZone: 'UTC', retailUnitsPerWh: '250', feedInUnitsPerWh: '80', co2GramsPerKWh: '380' },
      { from, to },
    );
    const included = wallets.map((w) =>
      w.service.store.list({ limit: 100_000 }).items.filter((p) => p.state === 'included'),
    );
    const results: MonthHouseholdResult[] = [];
    for (const [i, w] of wallets.entries()) {
      const expected = included[i]!.length + included[(i + n - 1) % n]!.length;
      // The indexer follows the ledger: wait until it holds every payment made and received.
      let bill: BillJson | undefined;
      await until(`H${i + 1}'s bill with its ${expected} payments`, 60_000, async () => {
        bill = await billFromIndexer(indexerApi, w.address, config);
        return bill.lines.length >= expected ? bill : undefined;
      });
      const { findings } = await verifyBill(bill!, { indexer: indexerApi, node });
      results.push({
        name: `H${i + 1}`,
        address: w.address,
        channelId: channelIds[i]!,
        lastPostedSeq: channels[i]?.lastPostedSeq ?? -1,
        periods: periodsOf[i]!.length,
        paidPeriods: periodsOf[i]!.filter((p) => p.paymentState === 'accepted').length,
        bill: bill!,
        verdict: findings.length === 0 ? ['PASS'] : findings.map((f) => `FAIL ${f.code}: ${f.message}`),
      });
    }
    await options.onBills?.({ indexerUrl: indexer.url, nodeUrl, households: results });
    const check = await checkMonth({
      node,
      wallets,
      included,
      periods: periodsOf,
      bills: results.map((r) => r.bill),
    });
    return {
      ...check,
      households: results,
      days,
      periodHours,
      speed,
      from,
      to,
      simulatedRunMs,
      settleMs,
      ok: check.problems.length === 0 && results.every((r) => r.verdict[0] === 'PASS'),
    };
  } finally {
    await Promise.all(agents.map((a) => a.stop().catch(() => undefined)));
    await Promise.all(wallets.map((w) => w?.service.stop().catch(() => undefined)));
    await stopIndexer(indexer).catch(() => undefined);
  }
}
