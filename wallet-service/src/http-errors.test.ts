import { CodedError } from '@tanglewatt/errors';
import {
  LedgerError,
  type LedgerErrorCode,
  NodeRequestError,
  NodeUnreachableError,
} from '@tanglewatt/ledger';
import { describe, expect, it } from 'vitest';
import {
  DidUnresolvedError,
  IdempotencyConflictError,
  KeystoreError,
  NotCancellableError,
  WalletConfigError,
} from './errors.js';
import { HTTP_STATUS, HttpError, httpAnswer } from './http-errors.js';

const limits = { maxBodyBytes: 65_536 };

describe('httpAnswer', () => {
  it("answers a route's own error with its code's status, its message and its field", () => {
    expect(
      httpAnswer(new HttpError('INVALID_REQUEST', 'to: must not be this wallet itself', 'to'), limits),
    ).toEqual({
      status: 400,
      body: {
        error: { code: 'INVALID_REQUEST', message: 'to: must not be this wallet itself', field: 'to' },
      },
      unexpected: false,
    });
    expect(httpAnswer(new HttpError('NOT_FOUND', 'no such route: see /openapi.json'), limits)).toEqual({
      status: 404,
      body: { error: { code: 'NOT_FOUND', message: 'no such route: see /openapi.json' } },
      unexpected: false,
    });
  });

  it("answers a ledger failure as the node's: 503 unreachable, 404 not found, 502 otherwise", () => {
    const unreachable = httpAnswer(new NodeUnreachableError('http://127.0.0.1:14265'), limits);
    expect(unreachable.status).toBe(503);
    expect(unreachable.body.error).toEqual({
      code: 'NODE_UNREACHABLE',
      message: 'node at http://127.0.0.1:14265 is unreachable',
    });
    expect(httpAnswer(new NodeRequestError(404, '/api/core/v2/blocks/0x00', ''), limits).status).toBe(404);
    const codes: LedgerErrorCode[] = [
      'NODE_REQUEST_FAILED',
      'NODE_NOT_SYNCED',
      'INSUFFICIENT_FUNDS',
      'INVALID_ADDRESS',
      'INVALID_INPUT',
      'INPUT_UNAVAILABLE',
      'TIMEOUT',
      'SDK_ERROR',
    ];
    for (const code of codes) expect(httpAnswer(new LedgerError(code, 'x'), limits).status, code).toBe(502);
  });

  it('answers the payment store and DID errors with 409 and 404, naming the key a conflict is about', () => {
    expect(httpAnswer(new IdempotencyConflictError('k-1'), limits)).toEqual({
      status: 409,
      body: {
        error: {
          code: 'IDEMPOTENCY_CONFLICT',
          message:
            'idempotencyKey: "k-1" was already used for a different payment (other payee, amount or metadata)',
          field: 'idempotencyKey',
        },
      },
      unexpected: false,
    });
    const cancel = httpAnswer(new NotCancellableError('payment "k-1" is on its way'), limits);
    expect(cancel.status).toBe(409);
    expect(cancel.body.error).toEqual({ code: 'NOT_CANCELLABLE', message: 'payment "k-1" is on its way' });
    expect(httpAnswer(new DidUnresolvedError('did:iota:x cannot be resolved: gone'), limits).status).toBe(
      404,
    );
  });

  it("turns express.json()'s failures into 413 and 400", () => {
    const tooLarge = Object.assign(new Error('request entity too large'), { type: 'entity.too.large' });
    expect(httpAnswer(tooLarge, limits)).toEqual({
      status: 413,
      body: { error: { code: 'BODY_TOO_LARGE', message: 'body: at most 65536 bytes' } },
      unexpected: false,
    });
    const badJson = Object.assign(new SyntaxError('Unexpected token'), { type: 'entity.parse.failed' });
    expect(httpAnswer(badJson, limits).body.error).toEqual({
      code: 'INVALID_REQUEST',
      message: 'body: not valid JSON',
    });
  });

  it('answers anything else with 500 INTERNAL, says nothing of it, and marks it for the log', () => {
    const internal = {
      status: 500,
      body: { error: { code: 'INTERNAL', message: 'internal error: see the service log' } },
      unexpected: true,
    };
    expect(httpAnswer(new Error('secret path /var/lib/x'), limits)).toEqual(internal);
    // Coded, but not a code any request may cause: the service's own fault.
    expect(httpAnswer(new KeystoreError('KEYSTORE_BAD_PASSWORD', 'wrong password'), limits)).toEqual(
      internal,
    );
    expect(httpAnswer(new WalletConfigError('config: listen.port: in use'), limits)).toEqual(internal);
    expect(httpAnswer(new CodedError('JOURNAL_FAILED', 'disk full'), limits)).toEqual(internal);
    expect(httpAnswer(undefined, limits)).toEqual(internal);
    expect(httpAnswer('a string', limits)).toEqual(internal);
  });

  it('gives every HttpError the status of its code', () => {
    for (const code of ['METHOD_NOT_ALLOWED', 'RATE_LIMITED', 'UNAUTHORIZED', 'FORBIDDEN'] as const)
      expect(new HttpError(code, 'x').status).toBe(HTTP_STATUS[code]);
    expect(HTTP_STATUS).toMatchObject({ METHOD_NOT_ALLOWED: 405, RATE_LIMITED: 429, UNAUTHORIZED: 401 });
  });
});
