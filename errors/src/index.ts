/**
 * The base of every error TangleWatt throws on purpose: a stable `code` callers switch on, a one-line
 * message that names the fix, and the `cause` it wraps. Each package declares its own code union and
 * its classes extend this one, so `isError` recognises them all.
 */

// Marks instances on the prototype: a second copy of this module (a bundle, a test loader) still knows them.
const CODED = Symbol.for('tanglewatt.coded-error');

export class CodedError<C extends string = string> extends Error {
  override name = 'CodedError';
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

Object.defineProperty(CodedError.prototype, CODED, { value: true });

/**
 * The base of an error that always has the one code, made from a message (and cause) alone:
 * `class SecretError extends singleCodeError('SECRET_UNAVAILABLE') { override name = 'SecretError'; }`.
 */
export function singleCodeError<C extends string>(code: C) {
  return class extends CodedError<C> {
    constructor(message: string, options?: { cause?: unknown }) {
      super(code, message, options);
    }
  };
}

/**
 * Whether `error` is a CodedError, and when `code` is given, one with that code (or one of those codes):
 * `isError(e, 'NOT_FOUND')` narrows `e.code` to `'NOT_FOUND'`.
 */
export function isError(error: unknown): error is CodedError;
export function isError<C extends string>(error: unknown, code: C | readonly C[]): error is CodedError<C>;
export function isError(error: unknown, code?: string | readonly string[]): boolean {
  if (typeof error !== 'object' || error === null || !(CODED in error)) return false;
  if (code === undefined) return true;
  const actual = (error as { code?: unknown }).code;
  return typeof code === 'string' ? actual === code : code.some((c) => c === actual);
}
