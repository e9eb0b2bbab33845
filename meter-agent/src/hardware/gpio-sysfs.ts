import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, MeterAgentError } from '../errors.js';

/**
 * GPIO through the kernel's sysfs interface (/sys/class/gpio), with plain file reads and writes: no
 * native module. What the kernel promises (drivers/gpio/gpiolib-sysfs.c):
 * - writing N to `export` creates `gpioN/` with `direction`, `value` and `active_low`;
 * - writing "high" or "low" to `direction` makes the line an output at that PHYSICAL level (raw, whatever
 *   `active_low` says); "out" is the same as "low";
 * - `value` is read and written as the LOGICAL level: physical XOR `active_low`;
 * - writing `active_low` changes how `value` reads, not the physical level;
 * - an exported line keeps its direction and level after the process that set them exits.
 */
export const DEFAULT_GPIO_ROOT = '/sys/class/gpio';

/** The few file operations GPIO needs: the real ones, or a fake kernel's in tests. */
export interface SysfsFiles {
  read(path: string): Promise<string>;
  write(path: string, text: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  list(dir: string): Promise<string[]>;
}

export const nodeSysfsFiles: SysfsFiles = {
  read: (path) => readFile(path, 'utf8'),
  write: (path, text) => writeFile(path, text),
  exists: (path) =>
    stat(path).then(
      () => true,
      () => false,
    ),
  list: (dir) => readdir(dir),
};

let processFiles: SysfsFiles = nodeSysfsFiles;

/** The file layer GPIO uses when none is passed: the real files, unless a test launcher set a fake kernel. */
export function defaultSysfsFiles(): SysfsFiles {
  return processFiles;
}

/** For a test launcher that runs the real CLI against a fake kernel (see ../fake-pi-main.ts). */
export function setDefaultSysfsFiles(files: SysfsFiles): void {
  processFiles = files;
}

/** The GPIO controllers that drive the 40-pin header's BCM lines, by the label the kernel gives them. */
export const HEADER_CHIP_LABELS: Record<string, string> = {
  'pinctrl-bcm2835': 'Raspberry Pi 1, 2, 3, Zero',
  'pinctrl-bcm2711': 'Raspberry Pi 4, 400, CM4',
  'pinctrl-rp1': 'Raspberry Pi 5, 500, CM5',
};

export interface HeaderChip {
  label: string;
  base: number;
  ngpio: number;
}

/** Finds the header's GPIO chip under `root` by its label (its base differs by model and kernel). */
export async function findHeaderChip(
  root: string,
  files: SysfsFiles = defaultSysfsFiles(),
): Promise<HeaderChip> {
  let names: string[];
  try {
    names = (await files.list(root)).filter((n) => n.startsWith('gpiochip')).sort();
  } catch (cause) {
    throw new MeterAgentError(
      'NO_GPIO',
      `${root} cannot be read (${errorMessage(cause)}): not a Raspberry Pi, or a kernel without GPIO sysfs; use prepaid.relay.kind "simulated"`,
      { cause },
    );
  }
  const seen: string[] = [];
  for (const name of names) {
    const dir = join(root, name);
    const label = (await files.read(join(dir, 'label')).catch(() => '')).trim();
    seen.push(label || name);
    if (!(label in HEADER_CHIP_LABELS)) continue;
    const base = Number((await files.read(join(dir, 'base'))).trim());
    const ngpio = Number((await files.read(join(dir, 'ngpio'))).trim());
    if (Number.isInteger(base) && Number.isInteger(ngpio)) return { label, base, ngpio };
  }
  throw new MeterAgentError(
    'NO_GPIO',
    `no Raspberry Pi header GPIO chip under ${root} (labels found: ${seen.join(', ') || 'none'}; known: ${Object.keys(HEADER_CHIP_LABELS).join(', ')}): set prepaid.relay.pin to the sysfs number instead of bcm`,
  );
}

/** Where a relay's line is: a BCM number on the header chip, or a raw sysfs number for other boards. */
export type GpioLineAddress = { bcm: number } | { pin: number };

export interface ResolvedLine {
  /** The kernel's sysfs number. */
  number: number;
  /** How it was found, for messages: "BCM 17 on pinctrl-bcm2711 (base 512)" or "sysfs 529". */
  description: string;
}

export async function resolveLine(
  root: string,
  address: GpioLineAddress,
  files: SysfsFiles = defaultSysfsFiles(),
): Promise<ResolvedLine> {
  if ('pin' in address) return { number: address.pin, description: `sysfs GPIO ${address.pin}` };
  const chip = await findHeaderChip(root, files);
  if (address.bcm >= chip.ngpio)
    throw new MeterAgentError(
      'NO_GPIO',
      `prepaid.relay.bcm: ${address.bcm} is beyond ${chip.label}'s ${chip.ngpio} lines: use a header GPIO (BCM 0–27)`,
    );
  return {
    number: chip.base + address.bcm,
    description: `BCM ${address.bcm} (sysfs ${chip.base + address.bcm} on ${chip.label})`,
  };
}

const EXPORT_WAIT_MS = 2000;
const EXPORT_POLL_MS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One exported output line. `set`/`get` are logical: with activeLow, on is physically low. */
export class SysfsGpioLine {
  private constructor(
    private readonly dir: string,
    private readonly files: SysfsFiles,
    readonly number: number,
  ) {}

  /**
   * Exports the line (unless it still is, e.g. after a crash) and makes it an output that is logically 0
   * at once: `active_low` first, then the direction at the raw level that means off ("high" when active
   * low), so the line never passes through on.
   */
  static async openOff(
    root: string,
    number: number,
    activeLow: boolean,
    files: SysfsFiles = defaultSysfsFiles(),
  ): Promise<SysfsGpioLine> {
    const dir = join(root, `gpio${number}`);
    if (!(await files.exists(dir))) {
      try {
        await files.write(join(root, 'export'), String(number));
      } catch (cause) {
        // EBUSY: exported meanwhile (by another process); anything else is a real failure.
        if ((cause as NodeJS.ErrnoException).code !== 'EBUSY')
          throw new MeterAgentError(
            'NO_GPIO',
            `cannot export GPIO ${number} (${errorMessage(cause)}): check the number and that the user is in group gpio`,
            { cause },
          );
      }
    }
    const line = new SysfsGpioLine(dir, files, number);
    // udev gives the new files to group gpio a moment after the export: retry until it has.
    const deadline = Date.now() + EXPORT_WAIT_MS;
    for (;;) {
      try {
        await files.write(join(dir, 'active_low'), activeLow ? '1' : '0');
        await files.write(join(dir, 'direction'), activeLow ? 'high' : 'low');
        return line;
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code;
        if ((code === 'EACCES' || code === 'ENOENT') && Date.now() < deadline) {
          await sleep(EXPORT_POLL_MS);
          continue;
        }
        throw new MeterAgentError(
          'NO_GPIO',
          `cannot make GPIO ${number} an output (${errorMessage(cause)}): is the user in group gpio?`,
          { cause },
        );
      }
    }
  }

  async set(on: boolean): Promise<void> {
    await this.files.write(join(this.dir, 'value'), on ? '1' : '0');
  }

  async get(): Promise<boolean> {
    const text = (await this.files.read(join(this.dir, 'value'))).trim();
    if (text !== '0' && text !== '1') throw new Error(`GPIO ${this.number} value reads "${text}"`);
    return text === '1';
  }
}
