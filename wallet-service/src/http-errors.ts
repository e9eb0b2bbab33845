import type { ApiErrorBody } from '@tanglewatt/contract';
import { CodedError, isError } from '@tanglewatt/errors';
import type { LedgerErrorCode } from '@tanglewatt/ledger';
import type { WalletErrorCode } from './errors.js';

/** The codes the API answers with of its own accord (bad requests, tokens, routes, limits). */
export type HttpErrorCode =
  | 'INVALID_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'BODY_TOO_LARGE'
  | 'MISDIRECTED_REQUEST'
  | 'RATE_LIMITED'
  | 'INTERNAL'
  | 'STARTING'
  /** The route needs a part this service was not configured with (GET /bills: an indexer). */
  | 'NOT_CONFIGURED';

/** Every code a request may be answered with. Any other error is a fault of the service: 500 INTERNAL. */
export type AnsweredCode =
  | HttpErrorCode
  | LedgerErrorCode
  | Extract<WalletErrorCode, 'NOT_CANCELLABLE' | 'IDEMPOTENCY_CONFLICT' | 'DID_UNRESOLVED'>;

/**
 * The one table of HTTP statuses. A ledger failure is the node's: 503 while it cannot be reached, 404 for
 * what it does not have, 502 for anything else it refused or failed at.
 */
export const HTTP_STATUS: Readonly<Record<AnsweredCode, number>> = {
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  DID_UNRESOLVED: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_CANCELLABLE: 409,
  IDEMPOTENCY_CONFLICT: 409,
  NOT_CONFIGURED: 409,
  BODY_TOO_LARGE: 413,
  MISDIRECTED_REQUEST: 421,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  NODE_REQUEST_FAILED: 502,
  NODE_NOT_SYNCED: 502,
  INSUFFICIENT_FUNDS: 502,
  INVALID_ADDRESS: 502,
  INVALID_INPUT: 502,
  INPUT_UNAVAILABLE: 502,
  TIMEOUT: 502,
  SDK_ERROR: 502,
  NODE_UNREACHABLE: 503,
  STARTING: 503,
};

/** The request field a code always concerns, named in its answer. */
const FIELD_OF: Partial<Record<AnsweredCode, string>> = { IDEMPOTENCY_CONFLICT: 'idempotencyKey' };

const ANSWERED_CODES = Object.keys(HTTP_STATUS) as AnsweredCode[];

/** An answer a route gives on purpose: a code from the table, one line, and the field at fault if any. */
export class HttpError extends CodedError<HttpErrorCode> {
  override name = 'HttpError';
  constructor(
    code: HttpErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(code, message);
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }
}

export interface HttpAnswer {
  status: number;
  body: ApiErrorBody;
  /** Not an error any request may cause: the service's own fault, to be logged. */
  unexpected: boolean;
}

export function errorBody(code: string, message: string, field?: string): ApiErrorBody {
  return { error: { code, message, ...(field ? { field } : {}) } };
}

/** What a request that failed with `error` is answered: the status from the table and the error body. */
export function httpAnswer(error: unknown, limits: { maxBodyBytes: number }): HttpAnswer {
  const answered = isError(error, ANSWERED_CODES) ? error : fromBodyParser(error, limits.maxBodyBytes);
  if (!answered) {
    return {
      status: HTTP_STATUS.INTERNAL,
      body: errorBody('INTERNAL', 'internal error: see the service log'),
      unexpected: true,
    };
  }
  const field = answered instanceof HttpError ? answered.field : FIELD_OF[answered.code];
  return {
    status: HTTP_STATUS[answered.code],
    body: errorBody(answered.code, answered.message, field),
    unexpected: false,
  };
}

/** express.json() marks its failures with a `type`. */
function fromBodyParser(error: unknown, maxBodyBytes: number): HttpError | undefined {
  const type = (error as { type?: unknown } | null | undefined)?.type;
  if (type === 'entity.too.large')
    return new HttpError('BODY_TOO_LARGE', `body: at most ${maxBodyBytes} bytes`);
  if (type === 'entity.parse.failed') return new HttpError('INVALID_REQUEST', 'body: not valid JSON');
  return undefined;
}
