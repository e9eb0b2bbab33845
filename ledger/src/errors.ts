import { CodedError } from '@tanglewatt/errors';

/** Every failure that crosses the ledger boundary is one of these, with a stable code callers can switch on. */
export type LedgerErrorCode =
  | 'NODE_UNREACHABLE'
  | 'NODE_REQUEST_FAILED'
  | 'NOT_FOUND'
  | 'NODE_NOT_SYNCED'
  | 'INSUFFICIENT_FUNDS'
  | 'INVALID_ADDRESS'
  | 'INVALID_INPUT'
  | 'INPUT_UNAVAILABLE'
  | 'TIMEOUT'
  | 'SDK_ERROR';

export class LedgerError extends CodedError<LedgerErrorCode> {
  override name = 'LedgerError';
}

export class NodeUnreachableError extends LedgerError {
  override name = 'NodeUnreachableError';
  constructor(
    readonly url: string,
    options?: { cause?: unknown; timeoutMs?: number },
  ) {
    super(
      'NODE_UNREACHABLE',
      options?.timeoutMs === undefined
        ? `node at ${url} is unreachable`
        : `node at ${url} did not answer within ${options.timeoutMs} ms`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

export class NodeRequestError extends LedgerError {
  override name = 'NodeRequestError';
  constructor(
    readonly status: number,
    readonly path: string,
    detail: string,
  ) {
    super(
      status === 404 ? 'NOT_FOUND' : status === 503 ? 'NODE_NOT_SYNCED' : 'NODE_REQUEST_FAILED',
      `${path}: HTTP ${status}${detail ? ` ${detail}` : ''}`,
    );
  }
}

export class InvalidInputError extends LedgerError {
  override name = 'InvalidInputError';
  constructor(
    readonly field: string,
    allowed: string,
  ) {
    super(field === 'address' ? 'INVALID_ADDRESS' : 'INVALID_INPUT', `${field}: ${allowed}`);
  }
}

export class LedgerTimeoutError extends LedgerError {
  override name = 'LedgerTimeoutError';
  constructor(what: string, ms: number) {
    super('TIMEOUT', `${what} did not happen within ${ms} ms`);
  }
}

/** An SDK failure; `kind` is the SDK's own error type (client, block, wallet, …). */
export class SdkError extends LedgerError {
  override name = 'SdkError';
  constructor(
    code: LedgerErrorCode,
    readonly operation: string,
    readonly kind: string,
    message: string,
  ) {
    super(code, `${operation}: ${message}`);
  }
}

interface SdkRejection {
  type?: string;
  payload?: { type?: string; error?: unknown };
}

/**
 * The WASM SDK rejects with a JSON string such as
 * `{"type":"error","payload":{"type":"client","error":"node error: …"}}` rather than an Error.
 * Turn any such rejection into a typed SdkError.
 */
export function sdkErrorFrom(operation: string, rejection: unknown): SdkError {
  if (rejection instanceof SdkError) return rejection;
  let kind = 'unknown';
  let message: string;
  if (typeof rejection === 'string') {
    message = rejection;
    try {
      const parsed = JSON.parse(rejection) as SdkRejection;
      kind = parsed.payload?.type ?? kind;
      const inner = parsed.payload?.error;
      message = typeof inner === 'string' ? inner : JSON.stringify(inner ?? parsed);
    } catch {
      // not JSON: keep the raw text
    }
  } else if (rejection instanceof Error) {
    message = rejection.message;
  } else {
    message = String(rejection);
  }
  return new SdkError(classifySdkMessage(message), operation, kind, firstLine(message));
}

function classifySdkMessage(message: string): LedgerErrorCode {
  const m = message.toLowerCase();
  if (m.includes('fetch failed') || m.includes('error sending request') || m.includes('econnrefused'))
    return 'NODE_UNREACHABLE';
  // The inputs named are spent already (the caller's view of the ledger is behind): try again later.
  if (m.includes('no available inputs') || m.includes('already spent')) return 'INPUT_UNAVAILABLE';
  if (m.includes('insufficient') || m.includes('not enough')) return 'INSUFFICIENT_FUNDS';
  // An input address outside the signer's searched range: the signer does not own that input.
  if (m.includes('not found in range')) return 'INVALID_INPUT';
  if (m.includes('404') || m.includes('not found')) return 'NOT_FOUND';
  if (m.includes('bech32') || m.includes('invalid address')) return 'INVALID_ADDRESS';
  if (m.includes('not synced') || m.includes('unhealthy')) return 'NODE_NOT_SYNCED';
  return 'SDK_ERROR';
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? text;
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}
