import { readFile } from 'node:fs/promises';
import { paymentRequest } from '@tanglewatt/contract';
import { amendBody } from '@tanglewatt/market';
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
    expect(Object.keys(request.properties ?? {})).toEqual([
      'idempotencyKey',
      'to',
      'amount',
      'metadata',
      'shares',
    ]);
  });
});

describe('OpenAPI document against the validating schemas', () => {
  const doc = openApiDocument() as {
    components: {
      schemas: Record<string, { properties: Record<string, { pattern?: string }>; anyOf?: unknown }>;
    };
  };

  it('states that an amount is more than 0, as the service checks', () => {
    const pattern = new RegExp(doc.components.schemas.PaymentRequest!.properties.amount!.pattern!);
    for (const amount of ['0', '1', '01', '18446744073709551615']) {
      const request = { idempotencyKey: 'k', to: 'watt1x', amount };
      expect(pattern.test(amount), amount).toBe(paymentRequest.safeParse(request).success);
    }
  });

  it('states that an amend changes the energy or the price, as the service checks', () => {
    const orderId = 'a'.repeat(64);
    expect(doc.components.schemas.Amend!.anyOf).toEqual([
      { required: ['energyWh'] },
      { required: ['priceUnitsPerWh'] },
    ]);
    expect(amendBody.safeParse({ orderId }).success).toBe(false);
    expect(amendBody.safeParse({ orderId, energyWh: 5 }).success).toBe(true);
    expect(amendBody.safeParse({ orderId, priceUnitsPerWh: '2' }).success).toBe(true);
  });
});
