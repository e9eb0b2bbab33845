import { isError } from '@tanglewatt/errors';
import { errorMessage, MeterAgentError } from '../errors.js';
import {
  DEFAULT_GPIO_ROOT,
  defaultSysfsFiles,
  type GpioLineAddress,
  resolveLine,
  type SysfsFiles,
  SysfsGpioLine,
} from './gpio-sysfs.js';

/** A switch in the power line: on lets energy through. */
export interface Relay {
  readonly description: string;
  /** What the relay last read back (true when unsure whether it is off). */
  readonly isOn: boolean;
  /** Switches and reads back; throws RELAY_NOT_SWITCHED when the relay is not where it was told to be. */
  set(on: boolean): Promise<void>;
  /** Switches off (best effort) and lets go of the hardware. */
  close(): Promise<void>;
}

/** A relay for tests and simulations; remembers every switch. */
export class FakeRelay implements Relay {
  readonly description = 'simulated relay';
  readonly switches: boolean[] = [];
  #on = false;
  /** The next switch (either way) fails. */
  failNext = false;
  /** The next N switches off fail (a relay that does not let go). */
  failOffs = 0;

  get isOn(): boolean {
    return this.#on;
  }

  async set(on: boolean): Promise<void> {
    if (this.failNext || (!on && this.failOffs > 0)) {
      if (this.failNext) this.failNext = false;
      else this.failOffs--;
      throw new MeterAgentError('RELAY_NOT_SWITCHED', 'simulated GPIO failure');
    }
    if (on !== this.#on) this.switches.push(on);
    this.#on = on;
  }

  async close(): Promise<void> {
    this.#on = false;
  }
}

export interface GpioRelayOptions {
  /** The line: `{bcm: 17}` on a Raspberry Pi's header, or `{pin: 529}` as sysfs numbers it. */
  line: GpioLineAddress;
  /** The relay board switches on when the pin is low (many opto-isolated boards do). */
  activeLow: boolean;
  /** Where the kernel's GPIO sysfs is; a fixture tree in tests. */
  gpioRoot?: string;
  /** The file layer (a fake kernel in tests). */
  files?: SysfsFiles;
}

/** A relay on a GPIO line through the kernel's sysfs files; off is the line's logical 0. */
export class GpioRelay implements Relay {
  readonly description: string;
  #on = true;

  private constructor(
    private readonly line: SysfsGpioLine,
    where: string,
    activeLow: boolean,
  ) {
    this.description = `relay on ${where}${activeLow ? ' (active low)' : ''}`;
  }

  /**
   * Exports the line and makes it an output that is physically off from the first moment, then reads it
   * back. Throws NO_GPIO when the line cannot be had, RELAY_NOT_SWITCHED when it does not read back off.
   */
  static async open(options: GpioRelayOptions): Promise<GpioRelay> {
    const root = options.gpioRoot ?? DEFAULT_GPIO_ROOT;
    const files = options.files ?? defaultSysfsFiles();
    const resolved = await resolveLine(root, options.line, files);
    const line = await SysfsGpioLine.openOff(root, resolved.number, options.activeLow, files);
    const relay = new GpioRelay(line, resolved.description, options.activeLow);
    await relay.#readBack(false);
    return relay;
  }

  get isOn(): boolean {
    return this.#on;
  }

  async #readBack(wanted: boolean): Promise<void> {
    let on: boolean;
    try {
      on = await this.line.get();
    } catch (cause) {
      this.#on = true; // unknown counts as on
      throw new MeterAgentError(
        'RELAY_NOT_SWITCHED',
        `${this.description}: cannot read back: ${errorMessage(cause)}`,
        { cause },
      );
    }
    this.#on = on;
    if (on !== wanted)
      throw new MeterAgentError(
        'RELAY_NOT_SWITCHED',
        `${this.description}: told ${wanted ? 'on' : 'off'}, reads back ${on ? 'on' : 'off'}`,
      );
  }

  async set(on: boolean): Promise<void> {
    let writeError: unknown;
    try {
      await this.line.set(on);
    } catch (error) {
      writeError = error;
    }
    try {
      await this.#readBack(on); // after a failed write too: it may be where it should be anyway
    } catch (error) {
      if (writeError === undefined) throw error;
      throw new MeterAgentError(
        'RELAY_NOT_SWITCHED',
        `${this.description}: cannot switch ${on ? 'on' : 'off'}: ${errorMessage(writeError)}`,
        { cause: writeError },
      );
    }
  }

  /** Off and read back; the line stays exported and driven off (never left floating). */
  async close(): Promise<void> {
    await this.set(false);
  }
}

/**
 * Drives a relay off and reads it back, retrying `attempts` times `intervalMs` apart. For a stop, and for
 * `meter-agent relay-off` (the unit's ExecStartPre and ExecStopPost) after a crash.
 */
export async function switchOffUntilConfirmed(
  relay: Relay,
  attempts: number,
  intervalMs: number,
): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await relay.set(false);
      return;
    } catch (error) {
      if (i >= attempts) throw error;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/**
 * Opens a GPIO relay off, trying again (each try drives the line off anew) while it does not read back
 * off. What `meter-agent relay-off` and the agent's start do.
 */
export async function openGpioRelayOff(
  options: GpioRelayOptions,
  attempts = 5,
  intervalMs = 200,
): Promise<GpioRelay> {
  for (let i = 1; ; i++) {
    try {
      return await GpioRelay.open(options);
    } catch (error) {
      const retry = isError(error, 'RELAY_NOT_SWITCHED');
      if (!retry || i >= attempts) throw error;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
