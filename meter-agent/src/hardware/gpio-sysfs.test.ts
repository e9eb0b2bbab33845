import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MeterAgentError } from '../errors.js';
import { FakeGpioKernel, lineState, makePiGpioTree, type PiModel } from './fake-gpio-kernel.js';
import { findHeaderChip, resolveLine } from './gpio-sysfs.js';
import { GpioRelay, openGpioRelayOff } from './relay.js';

async function piTree(model: PiModel): Promise<string> {
  const root = join(await mkdtemp(join(tmpdir(), `gpio-${model}-`)), 'class-gpio');
  await makePiGpioTree(root, model);
  return root;
}

/** Physically on for the relay board: high when active high, low when active low. */
const physicallyOn = (level: 0 | 1, activeLow: boolean) => level === (activeLow ? 0 : 1);

const MODELS: [PiModel, string, number][] = [
  ['pi3', 'pinctrl-bcm2835', 529],
  ['pi4', 'pinctrl-bcm2711', 529],
  ['pi5', 'pinctrl-rp1', 588],
];

describe('GPIO by BCM number on every Raspberry Pi (kernel 6.6 fixture trees)', () => {
  it.each(MODELS)(
    '%s: finds the header chip %s by its label; BCM 17 is sysfs %i',
    async (model, label, n) => {
      const root = await piTree(model);
      const kernel = new FakeGpioKernel(root);
      expect((await findHeaderChip(root, kernel)).label).toBe(label);
      expect((await resolveLine(root, { bcm: 17 }, kernel)).number).toBe(n);
    },
  );

  it('refuses a BCM number beyond the chip, and a tree without a Pi header chip, naming the fix', async () => {
    const root = await piTree('pi3');
    const kernel = new FakeGpioKernel(root);
    const beyond = await resolveLine(root, { bcm: 54 }, kernel).catch((e: unknown) => e);
    expect((beyond as MeterAgentError).message).toMatch(
      /prepaid\.relay\.bcm: 54 is beyond pinctrl-bcm2835's 54 lines/,
    );
    await writeFile(join(root, 'gpiochip512', 'label'), 'some-other-soc\n');
    const none = await resolveLine(root, { bcm: 17 }, kernel).catch((e: unknown) => e);
    expect((none as MeterAgentError).code).toBe('NO_GPIO');
    expect((none as Error).message).toMatch(
      /labels found: some-other-soc, raspberrypi-exp-gpio.*set prepaid\.relay\.pin/,
    );
  });
});

describe('GPIO relay: physically off from the first moment, both polarities', () => {
  for (const [model, , n] of MODELS)
    for (const activeLow of [false, true])
      it(`${model}, ${activeLow ? 'active low' : 'active high'}: starts physically off, never passing through on, also when a crash left it on`, async () => {
        const root = await piTree(model);
        // Fresh boot: the line is not exported yet.
        const kernel = new FakeGpioKernel(root);
        const relay = await GpioRelay.open({ line: { bcm: 17 }, activeLow, gpioRoot: root, files: kernel });
        const atOpen = [...kernel.history];
        let state = await lineState(root, n);
        expect(state.output).toBe(true);
        expect(physicallyOn(state.level, activeLow)).toBe(false);
        expect(relay.isOn).toBe(false);

        await relay.set(true);
        state = await lineState(root, n);
        expect(physicallyOn(state.level, activeLow)).toBe(true);
        expect(relay.isOn).toBe(true);

        // A crash leaves it exported and on; the next process opens it off, at once.
        const next = new FakeGpioKernel(root);
        const reopened = await GpioRelay.open({ line: { bcm: 17 }, activeLow, gpioRoot: root, files: next });
        state = await lineState(root, n);
        expect(physicallyOn(state.level, activeLow)).toBe(false);
        expect(reopened.isOn).toBe(false);
        expect(
          [...atOpen, ...next.history].filter(
            (h) => h.state.output && physicallyOn(h.state.level, activeLow),
          ),
        ).toEqual([]);
      });

  it('the old way (direction "low" with active_low) would have switched an active-low relay on: the fake kernel says so', async () => {
    const root = await piTree('pi4');
    const kernel = new FakeGpioKernel(root);
    await kernel.write(join(root, 'export'), '529');
    await kernel.write(join(root, 'gpio529', 'active_low'), '1');
    await kernel.write(join(root, 'gpio529', 'direction'), 'low');
    expect(await lineState(root, 529)).toEqual({ output: true, level: 0 }); // physically low: ON for this board
    expect((await kernel.read(join(root, 'gpio529', 'value'))).trim()).toBe('1');
  });

  it('a switch that does not go through says so and keeps reading back the truth', async () => {
    const root = await piTree('pi5');
    const kernel = new FakeGpioKernel(root);
    const relay = await GpioRelay.open({ line: { bcm: 17 }, activeLow: true, gpioRoot: root, files: kernel });
    await relay.set(true);
    kernel.faults.failValueWrites = 1;
    const error = await relay.set(false).catch((e: unknown) => e);
    expect((error as MeterAgentError).code).toBe('RELAY_NOT_SWITCHED');
    expect((error as Error).message).toMatch(
      /relay on BCM 17 \(sysfs 588 on pinctrl-rp1\) \(active low\): cannot switch off: EIO/,
    );
    expect(relay.isOn).toBe(true);
    await relay.set(false);
    expect(relay.isOn).toBe(false);
    expect(physicallyOn((await lineState(root, 588)).level, true)).toBe(false);
  });

  it('a raw sysfs pin works for other boards; one the kernel does not have fails with NO_GPIO', async () => {
    const root = await piTree('pi4');
    const kernel = new FakeGpioKernel(root);
    const relay = await openGpioRelayOff({
      line: { pin: 530 },
      activeLow: false,
      gpioRoot: root,
      files: kernel,
    });
    expect(relay.description).toBe('relay on sysfs GPIO 530');
    const error = await GpioRelay.open({
      line: { pin: 17 },
      activeLow: false,
      gpioRoot: root,
      files: kernel,
    }).catch((e: unknown) => e);
    expect((error as MeterAgentError).code).toBe('NO_GPIO');
    expect((error as Error).message).toMatch(/cannot export GPIO 17 \(EINVAL/);
  });
});
