import { EventEmitter } from 'node:events';
import { seriesValues } from '@tanglewatt/contract/metrics';
import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { AgentMetrics } from './metrics.js';
import { FakeWallet } from './payments/fake-wallet.js';
import { readState } from './store/state.js';
import { constantLoad, freshDataDir } from './testing/fixtures.js';
import { run, TestAgents } from './testing/in-process.js';
import { config, T0 } from './testing/tariff-fixtures.js';

const agents = new TestAgents();
/** half-nJ per mW·s. */
const MWS = 2_000_000n;

const halfNJ = (mws: number) => (BigInt(mws) * MWS).toString();

describe('the agent’s OBIS registers', () => {
  it('advance per band at each close across a band boundary, and come back identical after a restart', async () => {
    const clock = new ManualClock(T0);
    const wallet = new FakeWallet();
    const dir = await freshDataDir('registers-');
    const first = await agents.start(clock, { config: config(dir), wallet });
    expect(first.snapshot().registers).toBeNull();
    await run(clock, first, 125_000); // period 1 (16:00–16:02) closed
    // Period 1 at 1 W: 16:00:00–16:01:00 standard (band 2) 60 000 mW·s, 16:01:00–16:01:59 high (band 1)
    // 59 000 mW·s; nothing exported.
    const afterP1 = {
      '1-0:1.8.0': halfNJ(119_000),
      '1-0:1.8.1': halfNJ(59_000),
      '1-0:1.8.2': halfNJ(60_000),
      '1-0:2.8.0': '0',
      '1-0:2.8.1': '0',
      '1-0:2.8.2': '0',
    };
    const shown = (agent: typeof first) =>
      Object.fromEntries(agent.snapshot().registers!.values.map((r) => [r.obis, r.halfNJ]));
    expect(shown(first)).toEqual(afterP1);
    await agents.drainAndStop(first);

    const second = await agents.start(clock, { config: config(dir), wallet });
    expect(shown(second)).toEqual(afterP1); // rebuilt from the journal, not reset
    await run(clock, second, 120_000); // period 2 (16:02–16:04): 16:01:59–16:03:59 high, 120 000 mW·s
    const afterP2 = {
      ...afterP1,
      '1-0:1.8.0': halfNJ(239_000),
      '1-0:1.8.1': halfNJ(179_000),
    };
    expect(shown(second)).toEqual(afterP2);
    // 239 000 mW·s = 239/3600 Wh = 0.066388… Wh.
    expect(second.snapshot().registers!.values.find((r) => r.obis === '1-0:1.8.0')!.wh).toBe(0.066388);
    expect(second.snapshot().registers!.atMs).toBe(T0 + 240_000);

    const metrics = new AgentMetrics({ events: new EventEmitter(), snapshot: () => second.snapshot() });
    const text = await metrics.registry.metrics();
    expect(
      seriesValues(text, [
        'tanglewatt_agent_register_wh{obis="1-0:1.8.1"}',
        'tanglewatt_agent_register_wh{obis="1-0:2.8.0"}',
      ]),
    ).toEqual({
      'tanglewatt_agent_register_wh{obis="1-0:1.8.1"}': 0.049722, // 179/3600 Wh
      'tanglewatt_agent_register_wh{obis="1-0:2.8.0"}': 0,
    });
    metrics.close();
    await agents.drainAndStop(second);

    const [p1, p2] = (await readState(dir)).periods;
    expect(p1!.registers!.halfNJ).toEqual(afterP1);
    expect(p2!.registers!.halfNJ).toEqual(afterP2);
  });

  it('count export in the 2.8.x registers by band', async () => {
    const clock = new ManualClock(T0);
    const dir = await freshDataDir('registers-export-');
    // A 1 W export (5 V × −200 mA) over the same period: the same band split on the export side.
    const agent = await agents.start(clock, {
      config: config(dir, { sensors: [constantLoad(5000, -200)] }),
      wallet: new FakeWallet(),
    });
    await run(clock, agent, 121_000);
    const [p1] = (await readState(dir)).periods;
    expect(p1!.registers!.halfNJ).toEqual({
      '1-0:1.8.0': '0',
      '1-0:1.8.1': '0',
      '1-0:1.8.2': '0',
      '1-0:2.8.0': halfNJ(119_000),
      '1-0:2.8.1': halfNJ(59_000),
      '1-0:2.8.2': halfNJ(60_000),
    });
    expect(p1!.payment.state).toBe('nothing-due');
  });

  it('record a meter replacement (another meter id on the same data dir) as an event and carry on', async () => {
    const clock = new ManualClock(T0);
    const wallet = new FakeWallet();
    const dir = await freshDataDir('registers-replaced-');
    const first = await agents.start(clock, { config: config(dir), wallet });
    await run(clock, first, 125_000);
    await agents.drainAndStop(first);
    const second = await agents.start(clock, { config: config(dir, { meterId: 'house-12b' }), wallet });
    await run(clock, second, 120_000);
    const view = second.snapshot().registers!;
    expect(view.events).toEqual([
      { kind: 'METER_REPLACED', atMs: T0 + 240_000, fromMeterId: 'house-12', toMeterId: 'house-12b' },
    ]);
    expect(view.values.find((r) => r.obis === '1-0:1.8.0')!.halfNJ).toBe(halfNJ(239_000));
    await agents.drainAndStop(second);
  });
});
