import type { Payment, PaymentState } from '@tanglewatt/contract';
import {
  Counter,
  Gauge,
  Histogram,
  journalSizeGauge,
  ProcessMetrics,
  type Registry,
  scrapedGauge,
  seriesNames,
} from '@tanglewatt/contract/metrics';
import { journalSizes } from '@tanglewatt/journal';
import type { NodeInfo } from '@tanglewatt/ledger';
import type { PaymentsStore, StoredTransaction, TransactionState } from './payments-store.js';

/**
 * Prometheus metrics of the wallet-service. Counters count what happened since the process started (the
 * store's own events, after the journal took them); gauges are read from the store, the ledger view, the
 * data dir and the node when Prometheus scrapes.
 */

export interface WalletMetricsSource {
  store: Pick<PaymentsStore, 'on' | 'off' | 'list' | 'unsettled' | 'openTransactions'>;
  ledger: { readonly ledgerIndex: number };
  node: { info(): Promise<NodeInfo> };
  /** Where the journals are; without it no journal sizes are reported. */
  dataDir?: string;
  /** Add the prom-client process and Node.js metrics (process_*, nodejs_*). */
  processMetrics?: boolean;
}

/** Buckets of the settlement latency: a private tangle's milestones come every few seconds. */
const LATENCY_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800];
/** How long a scrape waits for the node's info before calling it unreachable. */
const NODE_PROBE_MS = 2_000;
const PENDING_STATES = ['queued', 'submitted', 'conflicting'] as const;

const paymentKind = (p: Payment) => (p.micro ? 'micro' : 'basic');

function define(registry: Registry, read: () => WalletMetricsSource | undefined) {
  const registers = [registry];
  return {
    requested: new Counter({
      name: 'tanglewatt_wallet_payments_requested_total',
      help: 'Payments requested (new idempotency keys), by output kind (basic or micro)',
      labelNames: ['kind'],
      registers,
    }),
    included: new Counter({
      name: 'tanglewatt_wallet_payments_included_total',
      help: 'Payments a confirmed milestone included, by output kind',
      labelNames: ['kind'],
      registers,
    }),
    failed: new Counter({
      name: 'tanglewatt_wallet_payments_failed_total',
      help: 'Payments given up for good (failed), by output kind',
      labelNames: ['kind'],
      registers,
    }),
    unitsPaid: new Counter({
      name: 'tanglewatt_wallet_units_paid_total',
      help: 'Base units of included payments, by role: payee, or the operator and grid shares of a tariff split',
      labelNames: ['role'],
      registers,
    }),
    latency: new Histogram({
      name: 'tanglewatt_wallet_settlement_latency_seconds',
      help: 'From a payment request to its inclusion, as this service recorded both',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    posted: new Counter({
      name: 'tanglewatt_wallet_transactions_posted_total',
      help: 'Transactions posted for the first time, by kind (payments, claim, consolidation)',
      labelNames: ['kind'],
      registers,
    }),
    reposted: new Counter({
      name: 'tanglewatt_wallet_transactions_reposted_total',
      help: 'Transactions posted again (the same transaction in a new block), by kind',
      labelNames: ['kind'],
      registers,
    }),
    conflicts: new Counter({
      name: 'tanglewatt_wallet_transaction_conflicts_total',
      help: 'Transactions the ledger found conflicting (their payments wait for another), by kind',
      labelNames: ['kind'],
      registers,
    }),
    pending: new Gauge({
      name: 'tanglewatt_wallet_payments_pending',
      help: 'Payments not settled yet (the queue), by state',
      labelNames: ['state'],
      registers,
      collect() {
        const source = read();
        if (!source) return;
        const counts = new Map<string, number>(PENDING_STATES.map((s) => [s, 0]));
        for (const p of source.store.unsettled()) counts.set(p.state, (counts.get(p.state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    }),
    openTransactions: scrapedGauge({
      name: 'tanglewatt_wallet_transactions_open',
      help: 'Transactions signed or posted and not included or conflicting yet',
      registers,
      value: () => read()?.store.openTransactions().length,
    }),
    journals: journalSizeGauge({
      name: 'tanglewatt_wallet_journal_size_bytes',
      help: 'Bytes on disk of each journal in the data dir',
      registers,
      dataDir: () => read()?.dataDir,
      sizes: journalSizes,
    }),
    ledgerIndex: scrapedGauge({
      name: 'tanglewatt_wallet_ledger_milestone_index',
      help: "The milestone the wallet's view of its outputs has applied",
      registers,
      value: () => read()?.ledger.ledgerIndex,
    }),
    // Both node gauges are set by one probe when a scrape starts (see WalletMetrics.render).
    nodeReachable: new Gauge({
      name: 'tanglewatt_wallet_node_reachable',
      help: 'Whether the node answered its info within 2 s at the last scrape (1) or not (0)',
      registers,
    }),
    confirmedMilestone: new Gauge({
      name: 'tanglewatt_wallet_node_confirmed_milestone_index',
      help: "The node's confirmed milestone index at the last scrape it answered",
      registers,
    }),
  };
}

/** Every metric name the wallet-service exports (a histogram by its three series). */
export function walletMetricNames(): string[] {
  return seriesNames((registry) => define(registry, () => undefined));
}

export class WalletMetrics extends ProcessMetrics {
  private readonly m: ReturnType<typeof define>;
  /** Each known payment's last state: a change of state is what the counters count. */
  private readonly paymentStates = new Map<string, PaymentState>();
  /** Blocks and state of each transaction not final yet. */
  private readonly transactions = new Map<string, { blocks: number; state: TransactionState }>();
  private readonly onPayment = (p: Payment) => this.payment(p);
  private readonly onTransaction = (tx: StoredTransaction) => this.transaction(tx);

  constructor(private readonly source: WalletMetricsSource) {
    super(source.processMetrics);
    this.m = define(this.registry, () => this.source);
    for (const p of source.store.list({ limit: Number.MAX_SAFE_INTEGER }).items)
      this.paymentStates.set(p.idempotencyKey, p.state);
    for (const tx of source.store.openTransactions())
      this.transactions.set(tx.txId, { blocks: tx.blockIds.length, state: tx.state });
    source.store.on('payment', this.onPayment);
    source.store.on('transaction', this.onTransaction);
  }

  /** The text exposition format, after asking the node how it is. */
  override async render(): Promise<string> {
    await this.probeNode();
    return super.render();
  }

  close(): void {
    this.source.store.off('payment', this.onPayment);
    this.source.store.off('transaction', this.onTransaction);
  }

  private async probeNode(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), NODE_PROBE_MS);
    });
    try {
      const info = await Promise.race([this.source.node.info(), timeout]);
      this.m.nodeReachable.set(1);
      this.m.confirmedMilestone.set(info.status.confirmedMilestone.index);
    } catch {
      this.m.nodeReachable.set(0);
    } finally {
      clearTimeout(timer);
    }
  }

  private payment(p: Payment): void {
    const before = this.paymentStates.get(p.idempotencyKey);
    this.paymentStates.set(p.idempotencyKey, p.state);
    if (before === p.state) return;
    const kind = paymentKind(p);
    if (before === undefined && p.state === 'queued') this.m.requested.inc({ kind });
    if (p.state === 'included') {
      this.m.included.inc({ kind });
      this.m.unitsPaid.inc({ role: 'payee' }, Number(p.amount));
      for (const share of p.shares ?? []) this.m.unitsPaid.inc({ role: share.role }, Number(share.amount));
      // A payment first seen included was adopted from another copy of this wallet: it had no wait here.
      if (before !== undefined)
        this.m.latency.observe(Math.max(0, (Date.parse(p.updatedAt) - Date.parse(p.createdAt)) / 1000));
    }
    if (p.state === 'failed') this.m.failed.inc({ kind });
  }

  private transaction(tx: StoredTransaction): void {
    const final = tx.state === 'included' || tx.state === 'conflicting';
    const known = this.transactions.get(tx.txId);
    // A final transaction already forgotten has been counted: a later event for it changes nothing.
    if (!known && final) return;
    const before = known ?? { blocks: 0, state: 'signed' as TransactionState };
    for (let n = before.blocks + 1; n <= tx.blockIds.length; n++)
      (n === 1 ? this.m.posted : this.m.reposted).inc({ kind: tx.kind });
    if (tx.state === 'conflicting' && before.state !== 'conflicting') this.m.conflicts.inc({ kind: tx.kind });
    if (final) this.transactions.delete(tx.txId);
    else this.transactions.set(tx.txId, { blocks: tx.blockIds.length, state: tx.state });
  }
}
