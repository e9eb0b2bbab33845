// Test support: the real CLI (`run`, `relay-off`, …) with GPIO sysfs served by FakeGpioKernel over the
// fixture tree named by FAKE_GPIO_ROOT, so separate processes share one "kernel" as they share /sys on a Pi.
// Run as: node --import tsx meter-agent/src/fake-pi-main.ts relay-off --config <file>
import { FakeGpioKernel } from './hardware/fake-gpio-kernel.js';
import { setDefaultSysfsFiles } from './hardware/gpio-sysfs.js';

const root = process.env.FAKE_GPIO_ROOT;
if (!root) throw new Error('FAKE_GPIO_ROOT: the fixture tree made by makePiGpioTree');
setDefaultSysfsFiles(new FakeGpioKernel(root));
await import('./cli.js');
