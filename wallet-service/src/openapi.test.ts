import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { OPENAPI_FILE, openApiDocument } from './openapi.js';

describe('OpenAPI document', () => {
  it('in the repository matches what the schemas generate (run npm run openapi after changing them)', async () => {
    const committed = JSON.parse(await readFile(OPENAPI_FILE, 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  it('describes the payment request from the validating schema', () => {
    const doc = openApiDocument() as {
      components: { schemas: Record<string, { required?: string[]; properties?: Record<string, unknown> }> };
    };
    const request = doc.components.schemas.PaymentRequest!;
    expect(request.required).toEqual(expect.arrayContaining(['idempotencyKey', 'to', 'amount']));
    expect(Object.keys(request.properties ?? {})).toEqual(['idempotencyKey', 'to', 'amount', 'metadata']);
  });
});
