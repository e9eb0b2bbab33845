import { createRequire } from 'node:module';
import { errorMessage, MeterAgentError } from '../errors.js';

/** A switch in the power line: on lets energy through. */
export interface Relay {
  readonly description: string;
  readonly isOn: boolean;
  set(on: boolean): Promise<void>;
  close(): Promise<void>;
}

/** A relay for tests and simulations; remembers every switch. */
export class FakeRelay implements Relay {
  readonly description = 'simulated relay';
  readonly switches: boolean[] = [];
  #on = false;
  failNext = false;

  get isOn(): boolean {
    return this.#on;
  }

  async set(on: boolean): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('simulated GPIO failure');
    }
    if (on !== this.#on) this.switches.push(on);
    this.#on = on;
  }

  async close(): Promise<void> {}
}

/** The part of onoff's Gpio we use. */
interface OnoffGpio {
  writeSync(value: 0 | 1): void;
  unexport(): void;
}
interface OnoffModule {
  Gpio: {
    accessible: boolean;
    new (
      gpio: number,
      direction: 'out' | 'high' | 'low',
      edge?: 'none',
      options?: { activeLow?: boolean },
    ): OnoffGpio;
  };
}

const NO_GPIO =
  'onoff is not available (not a Raspberry Pi, or its native build did not run: npm rebuild onoff): use prepaid.relay.kind "simulated"';

function loadOnoff(): OnoffModule {
  try {
    return createRequire(import.meta.url)('onoff') as OnoffModule;
  } catch (cause) {
    throw new MeterAgentError('NO_GPIO', NO_GPIO, { cause });
  }
}

export interface GpioRelayOptions {
  /** GPIO line number as the kernel's sysfs numbers it. */
  pin: number;
  /** The relay board switches on when the pin is low (many opto-isolated boards do). */
  activeLow: boolean;
}

/** A relay on a GPIO pin through the optional native `onoff` module, loaded only here. */
export class GpioRelay implements Relay {
  readonly description: string;
  #on = false;

  private constructor(
    private readonly gpio: OnoffGpio,
    options: GpioRelayOptions,
  ) {
    this.description = `relay on GPIO ${options.pin}${options.activeLow ? ' (active low)' : ''}`;
  }

  /** Opens the pin switched off ('low' with activeLow honoured), so a restart never closes the relay by itself. */
  static open(options: GpioRelayOptions): GpioRelay {
    const { Gpio } = loadOnoff();
    if (!Gpio.accessible)
      throw new MeterAgentError(
        'NO_GPIO',
        'GPIO is not accessible (no /sys/class/gpio, or the service user is not in the gpio group): use prepaid.relay.kind "simulated"',
      );
    try {
      return new GpioRelay(new Gpio(options.pin, 'low', 'none', { activeLow: options.activeLow }), options);
    } catch (cause) {
      throw new MeterAgentError(
        'NO_GPIO',
        `cannot open GPIO ${options.pin}: ${errorMessage(cause)} (on kernels from 6.6 sysfs numbers start at 512 + the BCM number; see /sys/kernel/debug/gpio)`,
        { cause },
      );
    }
  }

  get isOn(): boolean {
    return this.#on;
  }

  async set(on: boolean): Promise<void> {
    this.gpio.writeSync(on ? 1 : 0);
    this.#on = on;
  }

  async close(): Promise<void> {
    this.gpio.writeSync(0);
    this.#on = false;
    this.gpio.unexport();
  }
}
