import { access, constants } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as I2cBusModule from 'i2c-bus';
import { errorMessage, MeterAgentError } from '../errors.js';

/**
 * The part of an I²C bus the drivers use: SMBus word transfers to a device address. Words are as SMBus
 * delivers them (first byte on the wire in the low byte); drivers of big-endian chips swap them.
 */
export interface I2cBus {
  readonly name: string;
  readWord(address: number, register: number): Promise<number>;
  writeWord(address: number, register: number, word: number): Promise<void>;
  close(): Promise<void>;
}

const NO_NATIVE =
  'i2c-bus is not available (not a Raspberry Pi, or its native build did not run: npm rebuild i2c-bus): use sensor.kind "simulated"';

function loadI2cBus(): typeof I2cBusModule {
  try {
    return createRequire(import.meta.url)('i2c-bus') as typeof I2cBusModule;
  } catch (cause) {
    throw new MeterAgentError('NO_I2C', NO_NATIVE, { cause });
  }
}

/** Opens /dev/i2c-<busNumber> through the optional native `i2c-bus` module, loaded only here. */
export async function openI2cBus(busNumber: number): Promise<I2cBus> {
  const i2c = loadI2cBus();
  const device = `/dev/i2c-${busNumber}`;
  let bus: I2cBusModule.PromisifiedBus;
  try {
    // i2c-bus opens the device only at the first transfer; check now, so the error says what to do.
    await access(device, constants.R_OK | constants.W_OK);
    bus = await i2c.openPromisified(busNumber);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const fix =
      code === 'ENOENT'
        ? 'enable I²C (raspi-config > Interface Options > I2C, or dtparam=i2c_arm=on) and reboot'
        : code === 'EACCES'
          ? 'add the service user to the i2c group'
          : errorMessage(cause);
    throw new MeterAgentError('NO_I2C', `cannot open ${device}: ${fix}; or use sensor.kind "simulated"`, {
      cause,
    });
  }
  return {
    name: device,
    readWord: (address, register) => bus.readWord(address, register),
    writeWord: (address, register, word) => bus.writeWord(address, register, word),
    close: () => bus.close(),
  };
}

/** Errors Linux gives for a transfer nobody acknowledges: no device at that address. */
export function isNoDeviceError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EREMOTEIO' || code === 'ENXIO' || code === 'EIO';
}
