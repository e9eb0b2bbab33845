// The relay invariant: energized only while the agent is alive, metering valid samples, and owed a
// purchase. Every test drives the real GPIO code against a fake kernel over a Raspberry Pi fixture tree.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startAgent } from './agent.js';
import { ManualClock } from './clock.js';
import { MeterAgentError } from './errors.js';
import { FakeGpioKernel, lineState, makePiGpioTree, type PiModel } from './hardware/fake-gpio-kernel.js';
import { GpioRelay } from './hardware/relay.js';
import { silentLogger } from './log.js';
import { FakeWallet } from './payments/fake-wallet.js';
import type { PowerReading, PowerSensor } from './power-sensor.js';
import { submitPurchase } from './prepaid.js';
import { readState } from './store/state.js';
import { exited, sleep, spawnFakePi } from './testing/agent-process.js';
import { agentConfig, T0, tempDir, UNUSED_WALLET_SERVICE, writeConfigFile } from './testing/fixtures.js';
import { run, TestAgents, tick } from './testing/in-process.js';

/** BCM 17 as sysfs numbers it with kernel 6.6. */
const BCM17: Record<PiModel, number> = { pi3: 529, pi4: 529, pi5: 588 };

/** 5 V × 200 mA = 1 W, until it is unplugged. */
class UnpluggableSensor implements PowerSensor {
  readonly name = 'load';
  readonly description = 'a 1 W load on a sensor that can be unplugged';
  unplugged = false;
  async read(): Promise<PowerReading> {
    if (this.unplugged) throw new Error('I2C read failed: remote I/O error (EREMOTEIO)');
    return { busVoltageMV: 5000, currentUA: 200_000, powerUW: 1_000_000, overflow: false };
  }
  async close(): Promise<void> {}
}

async function setup(model: PiModel, activeLow: boolean) {
  const dir = await tempDir('relay-failsafe-');
  const gpioRoot = join(dir, 'sys-class-gpio');
  await makePiGpioTree(gpioRoot, model);
  const config = agentConfig(join(dir, 'data'), {
    meterId: 'house-7',
    role: 'producer',
    walletService: undefined,
    prepaid: { enabled: true, relay: { kind: 'gpio', bcm: 17, activeLow, gpioRoot } },
  });
  /** What the relay board sees on the pin: on or off. */
  const physicallyOn = async () => {
    const s = await lineState(gpioRoot, BCM17[model]);
    return s.output && s.level === (activeLow ? 0 : 1);
  };
  return { dir, gpioRoot, config, physicallyOn };
}

const agents = new TestAgents();

describe('relay invariant (in-process agent, fake kernel)', () => {
  it('sensor gap → relay off: unplugging the metered sensor switches the relay off after the gap threshold, and on again when it reads', async () => {
    const { config, gpioRoot, physicallyOn } = await setup('pi4', true);
    const clock = new ManualClock(T0);
    const sensor = new UnpluggableSensor();
    const kernel = new FakeGpioKernel(gpioRoot);
    const agent = await agents.start(clock, { config, sensors: [sensor], gpioFiles: kernel });
    await agent.purchase(20_000n, 'p-gap'); // 20 J at 1 W
    expect(await physicallyOn()).toBe(true);
    await run(clock, agent, 2000);
    sensor.unplugged = true;
    await run(clock, agent, 3000); // the gap threshold is 3 × 1 s: not past it yet
    expect(await physicallyOn()).toBe(true);
    await run(clock, agent, 1000);
    expect(await physicallyOn()).toBe(false);
    expect(agent.snapshot().purchase?.id).toBe('p-gap'); // still owed: it was not delivered
    await run(clock, agent, 5000);
    expect(await physicallyOn()).toBe(false);
    sensor.unplugged = false;
    await run(clock, agent, 1000);
    expect(await physicallyOn()).toBe(true);
    await agent.stop();
    expect(await physicallyOn()).toBe(false);
  });

  it('failed switch-off retried: a switch-off that fails is retried until the line reads back off, and only then is the purchase done', async () => {
    const { config, gpioRoot, physicallyOn } = await setup('pi5', false);
    const clock = new ManualClock(T0);
    const kernel = new FakeGpioKernel(gpioRoot);
    const problems: string[] = [];
    const agent = await agents.launch({ config, clock, gpioFiles: kernel });
    agent.events.on('problem', (m) => problems.push(m));
    await tick(clock, agent, 0);
    await agent.purchase(3_000n, 'p-stuck'); // 3 J at 1 W: three seconds
    await run(clock, agent, 2000);
    expect(await physicallyOn()).toBe(true);
    kernel.faults.failValueWrites = 3; // the switch-off and two retries fail
    await run(clock, agent, 1000); // delivered: switch-off fails
    expect(await physicallyOn()).toBe(true);
    expect((await readState(config.dataDir!)).purchases.get('p-stuck')?.done).toBeUndefined();
    expect(agent.snapshot().relay?.on).toBe(true);
    await run(clock, agent, 1000); // tick and sample retry: both fail
    expect(await physicallyOn()).toBe(true);
    await run(clock, agent, 1000);
    expect(await physicallyOn()).toBe(false);
    const done = (await readState(config.dataDir!)).purchases.get('p-stuck')?.done;
    // What flowed while the relay would not open is counted too.
    expect(done).toMatchObject({ reason: 'delivered' });
    expect(BigInt(done!.deliveredMWs)).toBeGreaterThan(3_000n);
    expect(problems.filter((p) => p.startsWith('relay did not switch off'))).toHaveLength(1);
  });

  it('a stop whose first switch-off fails tries again before it goes on stopping', async () => {
    const { config, gpioRoot, physicallyOn } = await setup('pi3', false);
    const clock = new ManualClock(T0);
    const kernel = new FakeGpioKernel(gpioRoot);
    const agent = await startAgent({ config, clock, log: silentLogger(), gpioFiles: kernel });
    await tick(clock, agent, 0);
    await agent.purchase(60_000n, 'p-stop-retry');
    expect(await physicallyOn()).toBe(true);
    kernel.faults.failValueWrites = 2;
    await agent.stop();
    expect(kernel.faults.failValueWrites).toBe(0);
    expect(await physicallyOn()).toBe(false);
  });

  it('a restart whose sensor cannot be opened still switches off the relay a crash left on', async () => {
    const { config, gpioRoot, physicallyOn } = await setup('pi3', true);
    const kernel = new FakeGpioKernel(gpioRoot);
    const left = await GpioRelay.open({ line: { bcm: 17 }, activeLow: true, gpioRoot, files: kernel });
    await left.set(true); // ...and the process dies
    expect(await physicallyOn()).toBe(true);
    const error = await startAgent({
      config: {
        ...config,
        sensors: [{ name: 'load', kind: 'ina219', address: '0x40', shuntOhms: 0.1, maxCurrentA: 3.2 }],
      },
      log: silentLogger(),
      gpioFiles: new FakeGpioKernel(gpioRoot),
      openI2cBus: async () => {
        throw new MeterAgentError('NO_I2C', 'no /dev/i2c-1');
      },
    }).catch((e: unknown) => e);
    expect((error as MeterAgentError).code).toBe('NO_I2C');
    expect(await physicallyOn()).toBe(false);
  });

  it('a stop switches the relay off first, before waiting for a hanging wallet-service', async () => {
    const { config, gpioRoot, physicallyOn } = await setup('pi4', false);
    const clock = new ManualClock(T0);
    const wallet = new FakeWallet();
    wallet.mode = 'hang';
    const agent = await startAgent({
      config: {
        ...config,
        role: 'consumer',
        walletService: { ...UNUSED_WALLET_SERVICE, timeoutMs: 1000 },
        period: { seconds: 2 },
      },
      clock,
      wallet,
      log: silentLogger(),
      gpioFiles: new FakeGpioKernel(gpioRoot),
    });
    await tick(clock, agent, 0);
    await agent.purchase(60_000n, 'p-stop');
    await run(clock, agent, 3000); // a period closed: its payment hangs
    expect(wallet.calls.length).toBeGreaterThan(0);
    expect(await physicallyOn()).toBe(true);
    let stopped = false;
    const stopping = agent.stop().then(() => {
      stopped = true;
    });
    while ((await physicallyOn()) && !stopped) await sleep(5);
    expect(await physicallyOn()).toBe(false);
    expect(stopped).toBe(false); // still waiting for the payment in flight
    await stopping;
  });
});

describe('relay invariant across processes (the real CLI, fake kernel shared through the tree)', () => {
  it('relay-off from a fresh process turns off a line left on, and says so in one line', {
    timeout: 30_000,
  }, async () => {
    const { dir, config, gpioRoot, physicallyOn } = await setup('pi5', true);
    const left = await GpioRelay.open({
      line: { bcm: 17 },
      activeLow: true,
      gpioRoot,
      files: new FakeGpioKernel(gpioRoot),
    });
    await left.set(true);
    expect(await physicallyOn()).toBe(true);
    const configFile = await writeConfigFile(dir, config);
    const logFile = join(dir, 'relay-off.log');
    const child = spawnFakePi(['relay-off', '--config', configFile], gpioRoot, logFile);
    expect((await exited(child)).code, await readFile(logFile, 'utf8').catch(() => '')).toBe(0);
    expect(await physicallyOn()).toBe(false);
    expect((await readFile(logFile, 'utf8')).trim()).toBe(
      'relay on BCM 17 (sysfs 588 on pinctrl-rp1) (active low): off (reads back off)',
    );
  });

  it('kill -9 of a running agent with the relay on, then relay-off as ExecStopPost runs it → physically off', {
    timeout: 60_000,
  }, async () => {
    const { dir, config, gpioRoot, physicallyOn } = await setup('pi4', true);
    const configFile = await writeConfigFile(dir, config);
    const logFile = join(dir, 'agent.log');
    const log = () => readFile(logFile, 'utf8').catch(() => '');
    const agent = spawnFakePi(['run', '--config', configFile], gpioRoot, logFile);
    try {
      await submitPurchase(config.dataDir!, 3_600_000n, 'p-kill'); // 1 Wh at 1 W: an hour
      const deadline = Date.now() + 30_000;
      while (!(await physicallyOn()) && Date.now() < deadline) await sleep(100);
      expect(await physicallyOn(), await log()).toBe(true);
    } finally {
      agent.kill('SIGKILL');
    }
    expect((await exited(agent)).signal).toBe('SIGKILL');
    // The kernel keeps an exported line where it was: the dead agent's relay is still on.
    expect(await physicallyOn()).toBe(true);
    const off = spawnFakePi(['relay-off', '--config', configFile], gpioRoot, logFile);
    expect((await exited(off)).code, await log()).toBe(0);
    expect(await physicallyOn()).toBe(false);
    const state = await readState(config.dataDir!);
    expect(state.purchases.get('p-kill')?.done).toBeUndefined(); // still owed: the next start resumes it
  });
});

describe('the systemd unit', () => {
  it("runs relay-off with the agent's own config before every start and after every stop, and is watched", async () => {
    const unit = await readFile(
      new URL('../../deploy/systemd/tanglewatt-meter-agent.service', import.meta.url),
      'utf8',
    );
    const line = (key: string) => unit.split('\n').filter((l) => l.startsWith(`${key}=`));
    const config = /--config (\S+)/.exec(line('ExecStart')[0]!)?.[1];
    expect(config).toBeDefined();
    for (const key of ['ExecStartPre', 'ExecStopPost'])
      expect(line(key)).toEqual([expect.stringMatching(new RegExp(` relay-off --config ${config}$`))]);
    expect(line('Type')).toEqual(['Type=notify']);
    expect(line('NotifyAccess')).toEqual(['NotifyAccess=all']);
    expect(line('WatchdogSec')).toHaveLength(1);
  });
});
