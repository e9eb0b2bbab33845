import type { MarketSnapshot, MarketTrade } from '@tanglewatt/contract';
import { describe, expect, it } from 'vitest';
import type { AgentHandle } from '../agent.js';
import { ManualClock } from '../clock.js';
import type { AgentConfigInput } from '../config.js';
import { FakeRelay } from '../hardware/relay.js';
import { FakeWallet } from '../payments/fake-wallet.js';
import { readState } from '../store/state.js';
import { agentConfig, constantLoad, freshDataDir, PRODUCER, T0 } from '../testing/fixtures.js';
import { realPause, run as runAgent, TestAgents } from '../testing/in-process.js';
import { marketTrade, SELLER } from '../testing/trade.js';
import type { MarketSource } from './desk.js';

/** Plays the wallet-service's market: a fixed book, and the acknowledgements it was asked for. */
class FakeMarket implements MarketSource {
  trades: MarketTrade[] = [];
  readonly acked: string[] = [];
  down = false;

  async market(): Promise<MarketSnapshot> {
    if (this.down) throw new Error('wallet-service is unreachable');
    return {
      market: 'test',
      nowMs: T0,
      ledgerIndex: 1,
      trades: this.trades,
      acks: this.acked.map((tradeId) => ({ tradeId, party: 'buyer' as const, messageId: 'a'.repeat(64) })),
    };
  }

  async ackTrade(tradeId: string): Promise<unknown> {
    this.acked.push(tradeId);
    return {};
  }
}

/** A 1 Wh trade at 1000 units/Wh whose window opens 5 s in. */
function trade(id: string, overrides: Partial<MarketTrade> = {}): MarketTrade {
  return marketTrade(id, T0, { window: { startMs: T0 + 5_000, endMs: T0 + 120_000 }, ...overrides });
}

/** 12 V × 30 A = 360 W: 1 Wh in exactly ten 1-second segments; a 60 s period holds 6 Wh. */
function config(dir: string): AgentConfigInput {
  return agentConfig(dir, {
    sensors: [constantLoad(12_000, 30_000)],
    prepaid: { enabled: true, relay: { kind: 'simulated' } },
    market: { pollSeconds: 1 },
  });
}

const agents = new TestAgents();

interface Household {
  agent: AgentHandle;
  relay: FakeRelay;
}

async function start(
  clock: ManualClock,
  wallet: FakeWallet,
  market: FakeMarket,
  dir: string,
): Promise<Household> {
  const relay = new FakeRelay();
  const agent = await agents.start(clock, { config: config(dir), wallet, market, relay });
  return { agent, relay };
}

/** Desk work (state journal appends, each synced) runs beside sampling: give it real time per step. */
const run = (clock: ManualClock, agent: AgentHandle, ms: number) =>
  runAgent(clock, agent, ms, { settle: realPause(2, 5) });

const stop = (agent: AgentHandle) => agents.drainAndStop(agent);

/** A clock at T0, a wallet, a market offering `trades` and a data dir; `start` starts a household on them. */
async function setup(...trades: MarketTrade[]) {
  const clock = new ManualClock(T0);
  const wallet = new FakeWallet();
  const market = new FakeMarket();
  market.trades = trades;
  const dir = await dataDir();
  return { clock, wallet, market, dir, start: () => start(clock, wallet, market, dir) };
}

/** Sum of what was asked of the wallet-service per payee. */
function paidTo(wallet: FakeWallet, to: string): bigint {
  return wallet.calls
    .filter((c) => c.to === to)
    .reduce(
      (sum, c, i, all) =>
        all.findIndex((d) => d.idempotencyKey === c.idempotencyKey) === i ? sum + BigInt(c.amount) : sum,
      0n,
    );
}

describe('market trades run by the meter-agent', () => {
  it('delivers a trade through the relay inside its window and pays the seller exactly its price', async () => {
    const { clock, wallet, market, dir, start } = await setup(trade('a'));
    const { agent, relay } = await start();
    await run(clock, agent, 3_000);
    expect(relay.isOn).toBe(false); // the window has not started
    await run(clock, agent, 4_000);
    expect(relay.isOn).toBe(true);
    await run(clock, agent, 60_000);
    expect(relay.switches).toEqual([true, false]);
    await stop(agent);

    const state = await readState(dir);
    const entry = state.trades.get('a'.repeat(64))!;
    expect(entry.closed).toMatchObject({ state: 'delivered', creditedMWs: '3600000', shortfallMWs: '0' });
    // 1 Wh at 1000 units/Wh, to the seller, once.
    expect(paidTo(wallet, SELLER)).toBe(1000n);
    expect([...wallet.paid.keys()].filter((k) => k.startsWith('market/'))).toEqual([
      `market/${'a'.repeat(64)}/1000`,
    ]);
    // The first period held 6 Wh, 1 of them traded: the regular producer is paid for 5 Wh at 3600/Wh.
    const first = state.periods[0]!;
    expect(first.traded).toEqual({
      halfNJ: (3_600_000n * 2_000_000n).toString(),
      totalHalfNJ: (3_600_000n * 2_000_000n).toString(),
    });
    expect(first.amount).toBe('18000');
    expect(wallet.paid.get(first.id)).toBe('18000');
    expect(market.acked).toEqual(['a'.repeat(64)]);
  });

  it('closes a trade short at its window end, pays what arrived and records the shortfall', async () => {
    // 2 Wh in a 10-second window: at 360 W only 1 Wh can arrive.
    const { clock, wallet, dir, start } = await setup(
      trade('b', { energyWh: 2, window: { startMs: T0 + 2_000, endMs: T0 + 12_000 } }),
    );
    const { agent, relay } = await start();
    await run(clock, agent, 70_000);
    expect(relay.isOn).toBe(false);
    await stop(agent);

    const state = await readState(dir);
    const entry = state.trades.get('b'.repeat(64))!;
    const credited = BigInt(entry.closed!.creditedMWs);
    expect(entry.closed!.state).toBe('shortfall');
    expect(credited).toBeGreaterThan(0n);
    expect(credited).toBeLessThan(2n * 3_600_000n);
    expect(BigInt(entry.closed!.shortfallMWs)).toBe(2n * 3_600_000n - credited);
    // floor(credited Wh × 1000 units/Wh)
    const owed = (credited * 1000n) / 3_600_000n;
    expect(entry.closed!.owedUnits).toBe(owed.toString());
    expect(paidTo(wallet, SELLER)).toBe(owed);
    expect(state.purchases.get(`trade:${'b'.repeat(64)}`)?.done?.reason).toBe('window-ended');
  });

  it('survives a restart mid-delivery and still pays each increment once', async () => {
    // 3 Wh from second 5: thirty seconds of delivery, crossing the first period's end.
    const { clock, wallet, dir, start } = await setup(
      trade('c', { energyWh: 3, window: { startMs: T0 + 45_000, endMs: T0 + 300_000 } }),
    );
    const first = await start();
    await run(clock, first.agent, 63_000);
    expect(first.relay.isOn).toBe(true);
    await stop(first.agent);
    expect(first.relay.isOn).toBe(false); // a stop opens the relay

    const second = await start();
    expect(second.relay.isOn).toBe(true); // the unfinished trade resumes
    await run(clock, second.agent, 60_000);
    expect(second.relay.isOn).toBe(false);
    await stop(second.agent);

    const state = await readState(dir);
    const entry = state.trades.get('c'.repeat(64))!;
    expect(entry.closed?.state).toBe('delivered');
    expect(paidTo(wallet, SELLER)).toBe(3000n);
    // Paid in increments (after the first period and at delivery), never the same key twice.
    expect(entry.dues.length).toBeGreaterThanOrEqual(2);
    expect(entry.dues.at(-1)!.key).toBe(`market/${'c'.repeat(64)}/3000`);
    // Across the periods, the traded energy left out of regular payments is exactly the 3 Wh.
    const traded = state.periods.reduce((sum, p) => sum + BigInt(p.traded?.halfNJ ?? '0'), 0n);
    expect(traded).toBe(3n * 3_600_000n * 2_000_000n);
  });

  it('keeps the relay open after a restart past the window’s end, and closes the trade short', async () => {
    const { clock, dir, start } = await setup(
      trade('e', { energyWh: 5, window: { startMs: T0 + 2_000, endMs: T0 + 30_000 } }),
    );
    const first = await start();
    await run(clock, first.agent, 10_000);
    expect(first.relay.isOn).toBe(true);
    await stop(first.agent);
    clock.advance(60_000); // down until well after the window
    const second = await start();
    await run(clock, second.agent, 3_000);
    expect(second.relay.switches).toEqual([]);
    await stop(second.agent);
    const state = await readState(dir);
    const entry = state.trades.get('e'.repeat(64))!;
    expect(entry.closed?.state).toBe('shortfall');
    expect(state.purchases.get(`trade:${'e'.repeat(64)}`)?.done?.reason).toBe('window-ended');
    const owed = (BigInt(entry.closed!.creditedMWs) * 1000n) / 3_600_000n;
    expect(entry.closed!.owedUnits).toBe(owed.toString());
  });

  it('ignores trades of other households and keeps going while the wallet-service is down', async () => {
    const { clock, market, start } = await setup(trade('d', { buyer: PRODUCER }));
    market.down = true;
    const { agent, relay } = await start();
    await run(clock, agent, 3_000);
    expect(agent.snapshot().errors.some((e) => e.message.includes('reading the market failed'))).toBe(true);
    market.down = false;
    await run(clock, agent, 10_000);
    expect(relay.switches).toEqual([]);
    expect(agent.snapshot().trades).toEqual([]);
    expect(market.acked).toEqual([]);
    await stop(agent);
  });
});

const dataDir = () => freshDataDir('meter-agent-market-');
