import { describe, expect, it } from 'vitest';
import { LedgerError, NodeRequestError, SdkError, sdkErrorFrom } from './errors.js';

// Rejections as @iota/sdk-wasm 1.1.3 produced them against a stopped node and a real HORNET.
const unreachable =
  '{"type":"error","payload":{"type":"client","error":"node error: error sending request: JsValue(TypeError: fetch failed\\nTypeError: fetch failed\\n    at node:internal/deps/undici/undici:14976:13)"}}';
const addressNotFound =
  '{"type":"error","payload":{"type":"client","error":"address: watt1qqqaqyvrxqcrhusfm7rg44eqpantrd0fkp830ce65humgtandsycvh4swpt not found in range: 0..100"}}';

describe('sdkErrorFrom', () => {
  it('turns a JSON-string rejection for an unreachable node into NODE_UNREACHABLE', () => {
    const error = sdkErrorFrom('getInfo', unreachable);
    expect(error).toBeInstanceOf(SdkError);
    expect(error).toBeInstanceOf(LedgerError);
    expect(error.code).toBe('NODE_UNREACHABLE');
    expect(error.kind).toBe('client');
    expect(error.message).toBe('getInfo: node error: error sending request: JsValue(TypeError: fetch failed');
  });

  it('reports an input the signer does not own as INVALID_INPUT, on one line', () => {
    const error = sdkErrorFrom('buildAndPostBlock', addressNotFound);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain('not found in range');
  });

  it('classifies insufficient funds', () => {
    const error = sdkErrorFrom(
      'buildAndPostBlock',
      '{"type":"error","payload":{"type":"client","error":"insufficient amount: found 10, required 20"}}',
    );
    expect(error.code).toBe('INSUFFICIENT_FUNDS');
  });

  it('gives SDK_ERROR to what it cannot classify', () => {
    expect(
      sdkErrorFrom('x', '{"type":"error","payload":{"type":"block","error":"invalid parents"}}').code,
    ).toBe('SDK_ERROR');
  });

  it('classifies inputs the node no longer offers as INPUT_UNAVAILABLE, to be retried', () => {
    expect(sdkErrorFrom('prepareTransaction', 'no available inputs provided').code).toBe('INPUT_UNAVAILABLE');
  });

  it('accepts Error objects and plain text', () => {
    expect(sdkErrorFrom('x', new Error('boom')).message).toBe('x: boom');
    expect(sdkErrorFrom('x', 'not json').message).toBe('x: not json');
  });

  it('returns an SdkError unchanged', () => {
    const original = sdkErrorFrom('x', 'a');
    expect(sdkErrorFrom('y', original)).toBe(original);
  });
});

describe('NodeRequestError', () => {
  it('maps HTTP 404 to NOT_FOUND and 503 to NODE_NOT_SYNCED', () => {
    expect(new NodeRequestError(404, '/api/core/v2/blocks/0x00', 'block not found').code).toBe('NOT_FOUND');
    expect(new NodeRequestError(503, '/api/core/v2/tips', '').code).toBe('NODE_NOT_SYNCED');
    expect(new NodeRequestError(500, '/x', 'oops').message).toBe('/x: HTTP 500 oops');
  });
});
