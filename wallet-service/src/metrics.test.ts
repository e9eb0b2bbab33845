import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seriesValues, seriesValue as value } from '@tanglewatt/contract/metrics';
import type { NodeInfo } from '@tanglewatt/ledger';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiToken } from './access.js';
import { WalletMetrics, walletMetricNames } from './metrics.js';
import { PaymentsStore } from './payments-store.js';
import type { Settlement } from './settlement.js';
import { type ListeningApi, listenTestApi } from './testing/api.js';
import type { WalletLedger } from './wallet-ledger.js';

/** Asserts the scraped value of each series named (undefined: absent from the scrape). */
const expectSeries = (text: string, want: Record<string, number | undefined>) =>
  expect(seriesValues(text, Object.keys(want))).toEqual(want);

const PAYEE = 'watt1qpszqzadsym6wpppd6z037dvlejmjuke7s24hm95s9fg9vpua7vluehe53e';
const OPERATOR = `watt1q${'p'.repeat(58)}`;
const GRID = `watt1q${'z'.repeat(58)}`;
const tokens: ApiToken[] = [
  { name: 'prometheus', secret: 'read-secret', scopes: ['read'] },
  { name: 'agent', secret: 'pay-secret', scopes: ['pay'] },
];
const txId = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const blockId = (n: number) => `0x${(1000 + n).toString(16).padStart(64, '0')}`;

let api: ListeningApi;
let url: string;
let store: PaymentsStore;
let dataDir: string;
let metrics: WalletMetrics;
/** What the fake node answers; undefined: unreachable. */
let nodeInfo: NodeInfo | undefined;

beforeEach(async () => {
  const log = pino({ level: 'silent' });
  dataDir = await mkdtemp(join(tmpdir(), 'wallet-metrics-'));
  store = await PaymentsStore.open(dataDir);
  nodeInfo = undefined;
  const node = {
    info: async () => {
      if (!nodeInfo) throw new Error('connection refused');
      return nodeInfo;
    },
  };
  const ledger = { ledgerIndex: 41 } as unknown as WalletLedger;
  metrics = new WalletMetrics({ store, ledger, node, dataDir });
  api = await listenTestApi({
    store,
    ledger,
    settlement: { notify: () => undefined } as unknown as Settlement,
    tokens,
    log,
    metrics,
  });
  url = api.url;
});

afterEach(async () => {
  metrics.close();
  await api.close();
  await store.close();
});

async function scrape(): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer read-secret' } });
  expect(res.status).toBe(200);
  return res.text();
}

async function request(key: string, amount = '1000000', micro = false) {
  await store.request({ idempotencyKey: key, to: PAYEE, amount }, { micro });
}

async function sign(tx: number, keys: string[]) {
  await store.recordSigned({
    txId: txId(tx),
    kind: 'payments',
    keys,
    outputIndexes: keys.map((_, i) => i),
    inputs: [`${txId(900 + tx)}0000`],
    payloadJson: '{}',
  });
}

describe('wallet-service GET /metrics', () => {
  it('needs a read token, like every other read', async () => {
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    const pay = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer pay-secret' } });
    expect(pay.status).toBe(403);
    expect((await fetch(`${url}/metrics?access_token=read-secret`)).status).toBe(401);
  });

  it('answers the Prometheus text format with every series it names, and no token in it', async () => {
    const res = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer read-secret' } });
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const names = walletMetricNames();
    expect(names).toEqual(
      expect.arrayContaining([
        'tanglewatt_wallet_payments_requested_total',
        'tanglewatt_wallet_payments_included_total',
        'tanglewatt_wallet_payments_failed_total',
        'tanglewatt_wallet_units_paid_total',
        'tanglewatt_wallet_payments_pending',
        'tanglewatt_wallet_settlement_latency_seconds_bucket',
        'tanglewatt_wallet_settlement_latency_seconds_count',
        'tanglewatt_wallet_transactions_posted_total',
        'tanglewatt_wallet_transactions_reposted_total',
        'tanglewatt_wallet_transaction_conflicts_total',
        'tanglewatt_wallet_journal_size_bytes',
        'tanglewatt_wallet_node_reachable',
        'tanglewatt_wallet_node_confirmed_milestone_index',
      ]),
    );
    for (const name of names.map((n) => n.replace(/_(bucket|sum|count)$/, ''))) {
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, 'm'));
    }
    expect(text).not.toContain('read-secret');
    expect(value(text, 'tanglewatt_wallet_payments_pending{state="queued"}')).toBe(0);
    expect(value(text, 'tanglewatt_wallet_ledger_milestone_index')).toBe(41);
  });

  it('counts a payment from request to inclusion: requested, posted, re-posted, included, latency', async () => {
    await request('period-1');
    await request('period-2', '1', true);
    let text = await scrape();
    expectSeries(text, {
      'tanglewatt_wallet_payments_requested_total{kind="basic"}': 1,
      'tanglewatt_wallet_payments_requested_total{kind="micro"}': 1,
      'tanglewatt_wallet_payments_pending{state="queued"}': 2,
      'tanglewatt_wallet_payments_included_total{kind="basic"}': undefined,
    });

    await sign(1, ['period-1', 'period-2']);
    await store.recordPosted(txId(1), blockId(1));
    await store.recordPosted(txId(1), blockId(2));
    text = await scrape();
    expectSeries(text, {
      'tanglewatt_wallet_transactions_posted_total{kind="payments"}': 1,
      'tanglewatt_wallet_transactions_reposted_total{kind="payments"}': 1,
      'tanglewatt_wallet_payments_pending{state="submitted"}': 2,
      tanglewatt_wallet_transactions_open: 1,
    });

    await store.recordIncluded(txId(1), blockId(2), 17, Math.floor(Date.now() / 1000));
    text = await scrape();
    expectSeries(text, {
      'tanglewatt_wallet_payments_included_total{kind="basic"}': 1,
      'tanglewatt_wallet_payments_included_total{kind="micro"}': 1,
      tanglewatt_wallet_settlement_latency_seconds_count: 2,
      'tanglewatt_wallet_settlement_latency_seconds_bucket{le="+Inf"}': 2,
      'tanglewatt_wallet_payments_pending{state="submitted"}': 0,
      tanglewatt_wallet_transactions_open: 0,
    });
    // The same request again is the same payment: nothing more is counted.
    await request('period-1');
    text = await scrape();
    expect(value(text, 'tanglewatt_wallet_payments_requested_total{kind="basic"}')).toBe(1);
  });

  it('counts the units paid per role: a tariff split adds its operator and grid shares', async () => {
    await request('plain', '1000000');
    await store.request(
      {
        idempotencyKey: 'split',
        to: PAYEE,
        amount: '178',
        shares: [
          { role: 'operator', to: OPERATOR, amount: '17' },
          { role: 'grid', to: GRID, amount: '23' },
        ],
      },
      { micro: true, shares: [{ micro: true }, { micro: true }] },
    );
    await sign(1, ['plain', 'split']);
    await store.recordPosted(txId(1), blockId(1));
    expectSeries(await scrape(), { 'tanglewatt_wallet_units_paid_total{role="payee"}': undefined });
    await store.recordIncluded(txId(1), blockId(1), 17, Math.floor(Date.now() / 1000));
    // Payee: 1000000 + 178; operator 17; grid 23.
    expectSeries(await scrape(), {
      'tanglewatt_wallet_units_paid_total{role="payee"}': 1_000_178,
      'tanglewatt_wallet_units_paid_total{role="operator"}': 17,
      'tanglewatt_wallet_units_paid_total{role="grid"}': 23,
    });
  });

  it('counts a conflict, and a payment failed after the ledger refused it twice', async () => {
    await request('period-1');
    await sign(1, ['period-1']);
    await store.recordPosted(txId(1), blockId(1));
    await store.recordConflicting(txId(1), 'refused', { rejected: true });
    let text = await scrape();
    expectSeries(text, {
      'tanglewatt_wallet_transaction_conflicts_total{kind="payments"}': 1,
      'tanglewatt_wallet_payments_pending{state="conflicting"}': 1,
      'tanglewatt_wallet_payments_failed_total{kind="basic"}': undefined,
    });
    await sign(2, ['period-1']);
    await store.recordConflicting(txId(2), 'refused again', { rejected: true });
    text = await scrape();
    expectSeries(text, {
      'tanglewatt_wallet_transaction_conflicts_total{kind="payments"}': 2,
      'tanglewatt_wallet_payments_failed_total{kind="basic"}': 1,
      'tanglewatt_wallet_transactions_posted_total{kind="payments"}': 1,
    });
  });

  it('counts only what happens after it started: a reopened store replays without counting', async () => {
    await request('period-1');
    await sign(1, ['period-1']);
    await store.recordPosted(txId(1), blockId(1));
    metrics.close();
    await store.close();
    store = await PaymentsStore.open(dataDir);
    const fresh = new WalletMetrics({
      store,
      ledger: { ledgerIndex: 1 },
      node: { info: () => Promise.reject() },
    });
    await store.recordPosted(txId(1), blockId(2));
    await store.recordIncluded(txId(1), blockId(2), 3, 1);
    const text = await fresh.render();
    fresh.close();
    expectSeries(text, {
      'tanglewatt_wallet_payments_requested_total{kind="basic"}': undefined,
      'tanglewatt_wallet_transactions_posted_total{kind="payments"}': undefined,
      'tanglewatt_wallet_transactions_reposted_total{kind="payments"}': 1,
      'tanglewatt_wallet_payments_included_total{kind="basic"}': 1,
    });
  });

  it("reports the payments journal's size on disk and whether the node answers", async () => {
    await request('period-1');
    let text = await scrape();
    const bytes = (await stat(join(dataDir, 'payments.journal'))).size;
    expect(bytes).toBeGreaterThan(0);
    expect(value(text, 'tanglewatt_wallet_journal_size_bytes{journal="payments"}')).toBe(bytes);
    expect(value(text, 'tanglewatt_wallet_node_reachable')).toBe(0);
    nodeInfo = { status: { confirmedMilestone: { index: 123 } } } as NodeInfo;
    text = await scrape();
    expect(value(text, 'tanglewatt_wallet_node_reachable')).toBe(1);
    expect(value(text, 'tanglewatt_wallet_node_confirmed_milestone_index')).toBe(123);
    nodeInfo = undefined;
    text = await scrape();
    expect(value(text, 'tanglewatt_wallet_node_reachable')).toBe(0);
    expect(value(text, 'tanglewatt_wallet_node_confirmed_milestone_index')).toBe(123);
  });
});
