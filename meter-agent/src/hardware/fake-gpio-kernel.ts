// Test support: the kernel's GPIO sysfs interface over a real directory tree, so that several processes
// (an agent, a `relay-off` after it was killed) share one "kernel" the way they share /sys on a Pi.
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { SysfsFiles } from './gpio-sysfs.js';

/** What the hardware holds for a line: it outlives the process that set it, and an unexport. */
export interface LineState {
  output: boolean;
  /** Physical level: 1 = high. */
  level: 0 | 1;
}

/** The gpiochips a Raspberry Pi shows under /sys/class/gpio with kernel 6.6 (Raspberry Pi OS Bookworm). */
export const PI_CHIPS = {
  pi3: [
    { label: 'pinctrl-bcm2835', base: 512, ngpio: 54 },
    { label: 'raspberrypi-exp-gpio', base: 566, ngpio: 8 },
  ],
  pi4: [
    { label: 'pinctrl-bcm2711', base: 512, ngpio: 58 },
    { label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8 },
  ],
  pi5: [
    { label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32 },
    { label: 'gpio-brcmstb@107d508520', base: 544, ngpio: 4 },
    { label: 'gpio-brcmstb@107d517c00', base: 548, ngpio: 17 },
    { label: 'gpio-brcmstb@107d517c20', base: 565, ngpio: 6 },
    { label: 'pinctrl-rp1', base: 571, ngpio: 54 },
  ],
} as const;
export type PiModel = keyof typeof PI_CHIPS;

/** Lays out /sys/class/gpio of `model` under `root`; undriven lines read low (a pull-down). */
export async function makePiGpioTree(root: string, model: PiModel): Promise<void> {
  await mkdir(join(root, '.hw'), { recursive: true });
  await writeFile(join(root, 'export'), '');
  await writeFile(join(root, 'unexport'), '');
  for (const chip of PI_CHIPS[model]) {
    const dir = join(root, `gpiochip${chip.base}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'label'), `${chip.label}\n`);
    await writeFile(join(dir, 'base'), `${chip.base}\n`);
    await writeFile(join(dir, 'ngpio'), `${chip.ngpio}\n`);
  }
}

/** The physical state of line `n` in a tree (what a multimeter on the pin would show). */
export async function lineState(root: string, n: number): Promise<LineState> {
  try {
    return JSON.parse(await readFile(join(root, '.hw', String(n)), 'utf8')) as LineState;
  } catch {
    return { output: false, level: 0 };
  }
}

function errno(code: string, path: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${path}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

export interface FakeGpioFaults {
  /** The next N writes to a `value` file fail with EIO (a line whose write did not go through). */
  failValueWrites?: number;
}

/**
 * Implements the semantics of drivers/gpio/gpiolib-sysfs.c on a fixture tree made by `makePiGpioTree`:
 * export/unexport, `direction` ("high"/"low" set the raw level, "out" = "low", "in"), `active_low`, and
 * `value` read and written logically (physical XOR active_low, EPERM unless an output).
 */
export class FakeGpioKernel implements SysfsFiles {
  constructor(
    readonly root: string,
    readonly faults: FakeGpioFaults = {},
  ) {}

  async #chips(): Promise<{ base: number; ngpio: number }[]> {
    const names = (await readdir(this.root)).filter((n) => n.startsWith('gpiochip'));
    return Promise.all(
      names.map(async (n) => ({
        base: Number(await readFile(join(this.root, n, 'base'), 'utf8')),
        ngpio: Number(await readFile(join(this.root, n, 'ngpio'), 'utf8')),
      })),
    );
  }

  #line(path: string): { n: number; dir: string; attr: string } | undefined {
    const dir = dirname(path);
    const m = /^gpio(\d+)$/.exec(basename(dir));
    if (!m || dirname(dir) !== this.root) return undefined;
    return { n: Number(m[1]), dir, attr: basename(path) };
  }

  /** Every physical state this instance set, in order: a line must never pass through on. */
  readonly history: { n: number; state: LineState }[] = [];

  async #setState(n: number, state: LineState): Promise<void> {
    this.history.push({ n, state });
    await writeFile(join(this.root, '.hw', String(n)), JSON.stringify(state));
  }

  async #activeLow(dir: string): Promise<0 | 1> {
    return (await readFile(join(dir, 'active_low'), 'utf8')).trim() === '1' ? 1 : 0;
  }

  async read(path: string): Promise<string> {
    const line = this.#line(path);
    if (line && line.attr === 'value') {
      const state = await lineState(this.root, line.n);
      return `${state.level ^ (await this.#activeLow(line.dir))}\n`;
    }
    if (line && line.attr === 'direction') {
      return (await lineState(this.root, line.n)).output ? 'out\n' : 'in\n';
    }
    return readFile(path, 'utf8');
  }

  async write(path: string, text: string): Promise<void> {
    const value = text.trim();
    if (path === join(this.root, 'export') || path === join(this.root, 'unexport')) {
      const n = Number(value);
      const dir = join(this.root, `gpio${n}`);
      const exported = await this.exists(dir);
      if (basename(path) === 'unexport') {
        if (!exported) throw errno('EINVAL', path);
        await rm(dir, { recursive: true });
        return;
      }
      if (!Number.isInteger(n) || !(await this.#chips()).some((c) => n >= c.base && n < c.base + c.ngpio))
        throw errno('EINVAL', path);
      if (exported) throw errno('EBUSY', path);
      await mkdir(dir);
      await writeFile(join(dir, 'active_low'), '0\n');
      await writeFile(join(dir, 'direction'), '');
      await writeFile(join(dir, 'value'), '');
      return;
    }
    const line = this.#line(path);
    if (!line) return writeFile(path, text);
    if (!(await this.exists(line.dir))) throw errno('ENOENT', path);
    const state = await lineState(this.root, line.n);
    switch (line.attr) {
      case 'direction':
        if (value === 'high') return this.#setState(line.n, { output: true, level: 1 });
        if (value === 'low' || value === 'out') return this.#setState(line.n, { output: true, level: 0 });
        if (value === 'in') return this.#setState(line.n, { output: false, level: 0 });
        throw errno('EINVAL', path);
      case 'active_low': {
        const n = Number(value);
        if (!Number.isInteger(n)) throw errno('EINVAL', path);
        return writeFile(path, n !== 0 ? '1\n' : '0\n');
      }
      case 'value': {
        if (!state.output) throw errno('EPERM', path);
        if (this.faults.failValueWrites) {
          this.faults.failValueWrites--;
          throw errno('EIO', path);
        }
        const n = Number(value);
        if (!Number.isInteger(n)) throw errno('EINVAL', path);
        const logical = n !== 0 ? 1 : 0;
        return this.#setState(line.n, {
          output: true,
          level: (logical ^ (await this.#activeLow(line.dir))) as 0 | 1,
        });
      }
      default:
        throw errno('EACCES', path);
    }
  }

  exists(path: string): Promise<boolean> {
    return stat(path).then(
      () => true,
      () => false,
    );
  }

  list(dir: string): Promise<string[]> {
    return readdir(dir);
  }
}
