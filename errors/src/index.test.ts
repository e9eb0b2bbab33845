import { describe, expect, it } from 'vitest';
import { CodedError, isError, singleCodeError } from './index.js';

type DoorCode = 'DOOR_LOCKED' | 'DOOR_MISSING';

class DoorError extends CodedError<DoorCode> {
  override name = 'DoorError';
}

describe('CodedError', () => {
  it('keeps the code, the message and the cause', () => {
    const cause = new Error('EACCES');
    const error = new DoorError('DOOR_LOCKED', 'front door: locked; unlock it first', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('DOOR_LOCKED');
    expect(error.message).toBe('front door: locked; unlock it first');
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('DoorError');
    expect(String(error)).toBe('DoorError: front door: locked; unlock it first');
  });

  it('has no cause unless one is given', () => {
    expect('cause' in new DoorError('DOOR_MISSING', 'no door')).toBe(false);
  });
});

describe('isError', () => {
  it('recognises any CodedError and nothing else', () => {
    expect(isError(new DoorError('DOOR_MISSING', 'no door'))).toBe(true);
    expect(isError(new CodedError('ANY', 'any'))).toBe(true);
    expect(isError(new Error('plain'))).toBe(false);
    expect(isError({ code: 'DOOR_MISSING', message: 'looks like one' })).toBe(false);
    expect(isError('DOOR_MISSING')).toBe(false);
    expect(isError(undefined)).toBe(false);
    expect(isError(null)).toBe(false);
  });

  it('matches one code or any of several', () => {
    const error: unknown = new DoorError('DOOR_LOCKED', 'locked');
    expect(isError(error, 'DOOR_LOCKED')).toBe(true);
    expect(isError(error, 'DOOR_MISSING')).toBe(false);
    expect(isError(error, ['DOOR_MISSING', 'DOOR_LOCKED'])).toBe(true);
    expect(isError(error, [])).toBe(false);
  });

  it('narrows the code to the one asked for', () => {
    const error: unknown = new DoorError('DOOR_LOCKED', 'locked');
    if (!isError(error, ['DOOR_LOCKED', 'DOOR_MISSING'])) throw new Error('expected a DoorError');
    const code: DoorCode = error.code;
    expect(code).toBe('DOOR_LOCKED');
  });

  it('recognises an error made by another copy of this module', () => {
    // A bundle or a second loader has its own class object; the mark on the prototype is shared.
    const foreign = Object.create({ [Symbol.for('tanglewatt.coded-error')]: true }) as object;
    Object.assign(foreign, { code: 'DOOR_LOCKED', message: 'locked' });
    expect(isError(foreign, 'DOOR_LOCKED')).toBe(true);
  });
});

describe('singleCodeError', () => {
  class GateStuckError extends singleCodeError('GATE_STUCK') {
    override name = 'GateStuckError';
  }

  it('makes errors of its one code from a message and a cause', () => {
    const cause = new Error('EIO');
    const error = new GateStuckError('gate 2: stuck half open; free it by hand', { cause });
    expect(error).toBeInstanceOf(CodedError);
    expect(error.code).toBe('GATE_STUCK');
    expect(error.message).toBe('gate 2: stuck half open; free it by hand');
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('GateStuckError');
    expect(isError(error, 'GATE_STUCK')).toBe(true);
  });
});
