import type { I2cBus } from './i2c.js';
import { decodeConfiguration, INA219_DEFAULT_CONFIGURATION, INA219_REGISTER } from './ina219.js';
import { pgaRangeUV } from './ina219-settings.js';

function errno(code: string, message: string): NodeJS.ErrnoException {
  const error = new Error(message) as NodeJS.ErrnoException;
  error.code = code;
  return error;
}

export interface TrueInput {
  /** Current through the shunt in A; negative when it flows from IN− to IN+. */
  currentA: number;
  /** Voltage at IN− against ground, in V. */
  busVoltageV: number;
}

/**
 * One simulated INA219: a register file of six big-endian words, filled the way the chip fills it
 * from a true shunt current and bus voltage (datasheet 8.5: current = shunt × Cal / 4096,
 * power = current × bus / 5000, CNVR cleared by reading power). It promises no more than the datasheet:
 * the shunt register clips at the PGA range, the current register is shunt × Cal / 4096 clipped to 16 bits,
 * OVF is set only when that current or the power calculation overflows, and calibration bit 0 reads 0.
 */
export class FakeIna219Chip {
  /** Register file: register r lives at bytes [2r] (MSB) and [2r+1] (LSB), as on the wire. */
  readonly bytes = new Uint8Array(12);
  #input: TrueInput = { currentA: 0, busVoltageV: 0 };
  #failTransfers = 0;
  #failCode = 'EIO';
  readonly log: { op: 'read' | 'write'; register: number; word: number }[] = [];

  constructor(readonly shuntOhms: number) {
    this.reset();
  }

  reset(): void {
    this.bytes.fill(0);
    this.setRegister(INA219_REGISTER.configuration, INA219_DEFAULT_CONFIGURATION);
  }

  register(register: number): number {
    return ((this.bytes[2 * register] ?? 0) << 8) | (this.bytes[2 * register + 1] ?? 0);
  }

  private setRegister(register: number, word: number): void {
    this.bytes[2 * register] = (word >> 8) & 0xff;
    this.bytes[2 * register + 1] = word & 0xff;
  }

  /** Sets what the chip measures and runs one conversion of both channels. */
  measure(input: TrueInput): void {
    this.#input = input;
    this.convert();
  }

  /** Fails the next `count` transfers to this chip with errno `code` (EIO: bus glitch). */
  failNextTransfers(count: number, code = 'EIO'): void {
    this.#failTransfers = count;
    this.#failCode = code;
  }

  /** Loses calibration, as a brown-out does. */
  powerCycle(): void {
    this.reset();
    this.convert();
  }

  convert(): void {
    const config = decodeConfiguration(this.register(INA219_REGISTER.configuration));
    if ((config.mode & 0b011) === 0) return; // power-down or ADC off: no conversions
    const rangeUV = pgaRangeUV(config.pga);
    const trueShuntUV = this.#input.currentA * this.shuntOhms * 1e6;
    // The ADC clips at the PGA range's full scale; that alone sets no flag (OVF is about the arithmetic).
    const shuntUV = Math.max(-rangeUV, Math.min(rangeUV, trueShuntUV));
    const shuntReg = Math.round(shuntUV / 10);
    let overflow = false;
    const busFullScale = config.busRangeV === 32 ? 8000 : 4000;
    const busBits = Math.max(0, Math.min(busFullScale, Math.round(this.#input.busVoltageV / 0.004)));
    const calibration = this.register(INA219_REGISTER.calibration);
    let current = Math.trunc((shuntReg * calibration) / 4096);
    if (current > 0x7fff || current < -0x8000) {
      overflow = true;
      current = Math.max(-0x8000, Math.min(0x7fff, current));
    }
    let power = Math.trunc((Math.abs(current) * busBits) / 5000);
    if (power > 0xffff) {
      overflow = true;
      power = 0xffff;
    }
    this.setRegister(INA219_REGISTER.shuntVoltage, shuntReg & 0xffff);
    this.setRegister(INA219_REGISTER.busVoltage, (busBits << 3) | 0b10 | (overflow ? 1 : 0));
    this.setRegister(INA219_REGISTER.current, current & 0xffff);
    this.setRegister(INA219_REGISTER.power, power);
  }

  /** The chip's side of a read: returns the register's bytes in wire order. */
  read(register: number): [number, number] {
    if (this.#failTransfers > 0) {
      this.#failTransfers--;
      throw errno(this.#failCode, `${this.#failCode}: simulated I²C failure`);
    }
    if (register > 5) return [0, 0];
    const word = this.register(register);
    this.log.push({ op: 'read', register, word });
    if (register === INA219_REGISTER.power) {
      const bus = this.register(INA219_REGISTER.busVoltage);
      this.setRegister(INA219_REGISTER.busVoltage, bus & ~0b10);
    }
    return [word >> 8, word & 0xff];
  }

  /** The chip's side of a write: bytes in wire order (MSB first). */
  write(register: number, msb: number, lsb: number): void {
    if (this.#failTransfers > 0) {
      this.#failTransfers--;
      throw errno(this.#failCode, `${this.#failCode}: simulated I²C failure`);
    }
    const word = (msb << 8) | lsb;
    this.log.push({ op: 'write', register, word });
    if (register === INA219_REGISTER.configuration) {
      if (word & 0x8000) {
        this.reset();
        return;
      }
      this.setRegister(register, word);
    } else if (register === INA219_REGISTER.calibration) {
      this.setRegister(register, word & 0xfffe); // bit 0 is void
    } else {
      return; // the other registers are read-only
    }
    this.convert();
  }
}

/**
 * An I²C bus holding fake INA219 chips. SMBus word transfers put the first byte on the wire in the low
 * byte, exactly as Linux's i2c-dev does, so the driver's byte swap is exercised for real. An address
 * without a chip fails the way Linux does when nothing acknowledges (EREMOTEIO).
 */
export class FakeIna219Bus implements I2cBus {
  readonly name = 'fake-i2c';
  readonly chips = new Map<number, FakeIna219Chip>();
  closed = false;
  /** Transfers started (held ones included). */
  transfers = 0;
  #held: Promise<void> | undefined;

  /**
   * Holds every transfer from now until the returned function is called, as an ioctl stuck in the kernel
   * does (a device stretching the clock): the transfer's promise stays pending, then completes normally.
   */
  hold(): () => void {
    let release!: () => void;
    this.#held = new Promise((resolve) => {
      release = resolve;
    });
    return () => {
      this.#held = undefined;
      release();
    };
  }

  addChip(address: number, shuntOhms: number): FakeIna219Chip {
    const chip = new FakeIna219Chip(shuntOhms);
    this.chips.set(address, chip);
    return chip;
  }

  private chip(address: number): FakeIna219Chip {
    const chip = this.chips.get(address);
    if (!chip) throw errno('EREMOTEIO', 'Remote I/O error');
    return chip;
  }

  async readWord(address: number, register: number): Promise<number> {
    this.transfers++;
    if (this.#held) await this.#held;
    const [first, second] = this.chip(address).read(register);
    return first | (second << 8);
  }

  async writeWord(address: number, register: number, word: number): Promise<void> {
    this.transfers++;
    if (this.#held) await this.#held;
    this.chip(address).write(register, word & 0xff, (word >> 8) & 0xff);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
