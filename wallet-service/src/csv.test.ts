import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Payment } from '@tanglewatt/contract';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PAYMENT_CSV_COLUMNS, paymentsCsv, writeCsv } from './csv.js';
import { PaymentsStore } from './payments-store.js';
import type { Settlement } from './settlement.js';
import { type ListeningApi, listenTestApi } from './testing/api.js';
import type { WalletLedger } from './wallet-ledger.js';

const PAYEE = 'watt1qpszqzadsym6wpppd6z037dvlejmjuke7s24hm95s9fg9vpua7vluehe53e';
const OPERATOR = `watt1q${'p'.repeat(58)}`;
const GRID = `watt1q${'z'.repeat(58)}`;
const HUGE = '18446744073709551615';
const TX = `0x${'ab'.repeat(32)}`;
const BLOCK = `0x${'cd'.repeat(32)}`;

describe('writeCsv', () => {
  it('quotes a field with a comma, a quote, CR or LF (RFC 4180) and ends every record with CRLF', () => {
    const text = writeCsv(
      ['a', 'b'],
      [
        ['x,y', 'say "hi"'],
        ['line\nbreak', 'cr\rhere'],
        ['plain', ''],
      ],
    );
    expect(text).toBe('a,b\r\n"x,y","say ""hi"""\r\n"line\nbreak","cr\rhere"\r\nplain,\r\n');
  });
});

describe('paymentsCsv', () => {
  it('writes the amount digit for digit and the inclusion as milestone index and time', () => {
    const payment: Payment = {
      idempotencyKey: 'meter-1/2026-01-01T00:00:00Z',
      to: PAYEE,
      amount: HUGE,
      state: 'included',
      micro: false,
      attempts: 1,
      transactionId: TX,
      blockId: BLOCK,
      milestoneIndex: 4_294_967_295,
      milestoneTimestamp: 1_767_225_600,
      createdAt: '2026-01-01T00:00:01.000Z',
      updatedAt: '2026-01-01T00:00:05.000Z',
    };
    const queued: Payment = { ...payment, idempotencyKey: 'k2', state: 'queued', amount: '1' };
    for (const key of ['transactionId', 'blockId', 'milestoneIndex', 'milestoneTimestamp'] as const)
      delete queued[key];
    const [header, first, second, end] = paymentsCsv([payment, queued]).split('\r\n');
    expect(header).toBe(PAYMENT_CSV_COLUMNS.join(','));
    expect(first).toBe(
      `meter-1/2026-01-01T00:00:00Z,2026-01-01T00:00:01.000Z,payee,${PAYEE},${HUGE},included,${TX},${BLOCK},,4294967295,2026-01-01T00:00:00.000Z`,
    );
    expect(second).toBe(`k2,2026-01-01T00:00:01.000Z,payee,${PAYEE},1,queued,,,,,`);
    expect(end).toBe('');
  });

  it('writes a payment split by a tariff as one row per output: payee, operator, grid', () => {
    const out = (n: number) => `${TX}${n.toString(16).padStart(4, '0')}`;
    const split: Payment = {
      idempotencyKey: 'house-12/2026-01-14T16:00:00.000Z',
      to: PAYEE,
      amount: '178',
      shares: [
        {
          role: 'operator',
          to: OPERATOR,
          amount: '17',
          micro: true,
          depositUnits: '42600',
          outputId: out(1),
        },
        { role: 'grid', to: GRID, amount: '23', micro: true, depositUnits: '42600', outputId: out(2) },
      ],
      state: 'included',
      micro: true,
      depositUnits: '42600',
      outputId: out(0),
      attempts: 1,
      transactionId: TX,
      blockId: BLOCK,
      milestoneIndex: 17,
      milestoneTimestamp: 1_768_406_520,
      createdAt: '2026-01-14T16:02:00.500Z',
      updatedAt: '2026-01-14T16:02:05.000Z',
    };
    const rows = paymentsCsv([split]).split('\r\n').slice(1, -1);
    const tail = `included,${TX},${BLOCK}`;
    const at = '17,2026-01-14T16:02:00.000Z';
    expect(rows).toEqual([
      `${split.idempotencyKey},${split.createdAt},payee,${PAYEE},178,${tail},${out(0)},${at}`,
      `${split.idempotencyKey},${split.createdAt},operator,${OPERATOR},17,${tail},${out(1)},${at}`,
      `${split.idempotencyKey},${split.createdAt},grid,${GRID},23,${tail},${out(2)},${at}`,
    ]);
    // What the consumer paid in all: 178 + 17 + 23.
    const amount = PAYMENT_CSV_COLUMNS.indexOf('amount');
    expect(rows.reduce((sum, r) => sum + BigInt(r.split(',')[amount]!), 0n)).toBe(218n);
  });
});

describe('wallet-service GET /payments.csv', () => {
  let api: ListeningApi;
  let url: string;
  let store: PaymentsStore;

  beforeAll(async () => {
    const log = pino({ level: 'silent' });
    const dataDir = await mkdtemp(join(tmpdir(), 'wallet-csv-'));
    store = await PaymentsStore.open(dataDir);
    // Three payments a day apart: 2026-01-01, -02 and -03 at noon UTC.
    vi.useFakeTimers({ toFake: ['Date'] });
    for (const [day, key, amount] of [
      [1, 'p-1', HUGE],
      [2, 'p-2', '2'],
      [3, 'p-3', '3'],
    ] as const) {
      vi.setSystemTime(new Date(`2026-01-0${day}T12:00:00Z`));
      await store.request({ idempotencyKey: key, to: PAYEE, amount }, { micro: false });
    }
    vi.useRealTimers();
    api = await listenTestApi({
      store,
      ledger: { ledgerIndex: 1 } as unknown as WalletLedger,
      settlement: {} as Settlement,
      tokenSupply: 10n ** 20n,
      tokens: [
        { name: 'reader', secret: 'read-secret', scopes: ['read'] },
        { name: 'agent', secret: 'pay-secret', scopes: ['pay'] },
      ],
      log,
    });
    url = api.url;
  });

  afterAll(async () => {
    await api.close();
    await store.close();
  });

  const get = (query = '', token = 'read-secret') =>
    fetch(`${url}/payments.csv${query}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const keys = (text: string) =>
    text
      .split('\r\n')
      .slice(1, -1)
      .map((line) => line.split(',')[0]);

  it('answers every payment, oldest first, as a CSV download with exact amounts', async () => {
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="payments.csv"');
    const text = await res.text();
    expect(text.startsWith(`${PAYMENT_CSV_COLUMNS.join(',')}\r\n`)).toBe(true);
    expect(keys(text)).toEqual(['p-1', 'p-2', 'p-3']);
    expect(text).toContain(`p-1,2026-01-01T12:00:00.000Z,payee,${PAYEE},${HUGE},queued,,,,,\r\n`);
  });

  it('takes since (inclusive) and until (exclusive) as ISO times or dates', async () => {
    expect(keys(await (await get('?since=2026-01-02')).text())).toEqual(['p-2', 'p-3']);
    expect(keys(await (await get('?until=2026-01-02T12:00:00Z')).text())).toEqual(['p-1']);
    expect(keys(await (await get('?since=2026-01-02T12:00:00%2B00:00&until=2026-01-03')).text())).toEqual([
      'p-2',
    ]);
    expect(keys(await (await get('?since=2027-01-01')).text())).toEqual([]);
  });

  it('answers a bad query with 400 and one line naming the field', async () => {
    for (const [query, field] of [
      ['?since=yesterday', 'since'],
      ['?until=2026-13-01', 'until'],
      ['?since=2026-01-01T00:00:00', 'since'],
      ['?since=2026-01-03&until=2026-01-01', 'until'],
      ['?since=2026-01-01&since=2026-01-02', 'since'],
      ['?from=2026-01-01', 'from'],
    ]) {
      const res = await get(query);
      expect(res.status, query).toBe(400);
      const body = (await res.json()) as { error: { code: string; field: string; message: string } };
      expect(body.error.code).toBe('INVALID_REQUEST');
      expect(body.error.field, query).toBe(field);
      expect(body.error.message.startsWith(`${field}: `), body.error.message).toBe(true);
      expect(body.error.message).not.toContain('\n');
    }
  });

  it('takes the read token in the Authorization header only, like every read but /events', async () => {
    expect((await get('', '')).status).toBe(401);
    expect((await get('', 'pay-secret')).status).toBe(403);
    expect((await fetch(`${url}/payments.csv?access_token=read-secret`)).status).toBe(401);
  });
});
