import { lazy, Suspense, useMemo, useState } from 'react';
import type { Endpoint } from '../api/config';
import { ApiError } from '../api/http';
import type { BillJson, WalletClient } from '../api/wallet';
import { Amount } from '../components/Amount';
import type { BillSeries } from '../components/BillChart';
import { type Column, DataTable } from '../components/DataTable';
import { IdLink } from '../components/IdLink';
import { Empty, Loading, NotLoaded } from '../components/states';
import { Term } from '../components/Term';
import { useServices } from '../context';
import type { TokenInfo } from '../format/amount';
import { formatEnergyMWs } from '../format/energy';
import { exactToNumber, formatExact, formatShare } from '../format/exact';
import { useProtocol } from '../hooks/useProtocol';
import { useResource } from '../hooks/useResource';
import { PageHeading } from './PageHeading';

const BillChart = lazy(() => import('../components/BillChart'));

interface Cycle {
  from: string;
  to: string;
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** This month so far: the first of the month to today. */
export function currentMonth(now = new Date()): Cycle {
  return { from: day(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))), to: day(now) };
}

interface Chart {
  times: number[];
  series: BillSeries[];
}

const lineMs = (l: BillJson['lines'][number]) =>
  l.periodStart ? Date.parse(l.periodStart) : l.milestoneTimestamp * 1000;

/** Running totals of what was paid and what the retail supplier would have charged, purchase by purchase. */
export function costChart(bill: BillJson): Chart {
  const retailOf = new Map(bill.bands.map((b) => [String(b.digit), exactToNumber(b.retailUnitsPerWh)]));
  let paid = 0;
  let retail = 0;
  const bought = bill.lines.filter((l) => l.direction === 'bought');
  const paidValues: number[] = [];
  const retailValues: number[] = [];
  for (const l of bought) {
    paid += Number(l.amountUnits) + Number(l.operatorUnits) + Number(l.gridUnits);
    for (const [digit, mws] of Object.entries(l.bands))
      retail += (Number(mws) / 3_600_000) * (retailOf.get(digit) ?? 0);
    paidValues.push(paid);
    retailValues.push(retail);
  }
  return {
    times: bought.map(lineMs),
    series: [
      { label: 'Paid (running total)', values: paidValues },
      { label: 'Retail baseline', values: retailValues, dashed: true },
    ],
  };
}

/** Wh bought and sold in each paid period (a period has one or the other). */
export function energyChart(bill: BillJson): Chart {
  const wh = (l: BillJson['lines'][number]) => Number(l.energyMWs) / 3_600_000;
  return {
    times: bill.lines.map(lineMs),
    series: [
      { label: 'Bought (Wh)', values: bill.lines.map((l) => (l.direction === 'bought' ? wh(l) : null)) },
      { label: 'Sold (Wh)', values: bill.lines.map((l) => (l.direction === 'sold' ? wh(l) : null)) },
    ],
  };
}

export function BillsPage() {
  const { wallets } = useServices();
  const [cycle, setCycle] = useState<Cycle>(() => currentMonth());
  return (
    <>
      <PageHeading title="Bills" />
      <form className="bill-cycle" onSubmit={(e) => e.preventDefault()} aria-label="Billing cycle">
        <label>
          From{' '}
          <input
            type="date"
            value={cycle.from}
            onChange={(e) => e.target.value && setCycle((c) => ({ ...c, from: e.target.value }))}
          />
        </label>{' '}
        <label>
          To (included){' '}
          <input
            type="date"
            value={cycle.to}
            onChange={(e) => e.target.value && setCycle((c) => ({ ...c, to: e.target.value }))}
          />
        </label>
      </form>
      {wallets.length === 0 ? (
        <Empty>No wallet-service is configured: add one to config.json.</Empty>
      ) : (
        wallets.map((w) => (
          <WalletBill key={w.endpoint.url} endpoint={w.endpoint} client={w.client} cycle={cycle} />
        ))
      )}
    </>
  );
}

function WalletBill({ endpoint, client, cycle }: { endpoint: Endpoint; client: WalletClient; cycle: Cycle }) {
  const token = useProtocol(client)?.token;
  const bill = useResource(
    (signal) => client.bill(cycle, { signal }),
    `${client.url}|${cycle.from}|${cycle.to}`,
  );
  const headingId = `bill-${endpoint.name.replace(/\W+/g, '-')}`;
  const charts = useMemo(
    () => (bill.data ? { cost: costChart(bill.data), energy: energyChart(bill.data) } : undefined),
    [bill.data],
  );
  const b = bill.data;
  return (
    <section aria-labelledby={headingId} className="card">
      <h2 id={headingId}>{endpoint.name}</h2>
      {!b ? (
        <NotLoaded
          loading={bill.loading}
          error={bill.error}
          what={`${endpoint.name} bill`}
          retry={bill.reload}
        />
      ) : (
        <>
          <Verdict bill={b} />
          <div className="meter-grid">
            <dl className="bill-totals">
              <Term name="Paid in all">
                <Amount units={b.totals.paidUnits} token={token} inline />
              </Term>
              <Term name="of which operator fee">
                <Amount units={b.totals.operatorFeeUnits} token={token} inline />
              </Term>
              <Term name="of which grid fee">
                <Amount units={b.totals.gridFeeUnits} token={token} inline />
              </Term>
              <Term name="Earned">
                <Amount units={b.totals.earnedUnits} token={token} inline />
              </Term>
              <Term name="Retail baseline">{formatExact(b.totals.retailBaselineUnits)} units</Term>
              <Term name="Feed-in baseline">{formatExact(b.totals.feedInBaselineUnits)} units</Term>
              <Term name="Energy bought">{formatEnergyMWs(b.totals.boughtMWs)}</Term>
              <Term name="Energy sold">{formatEnergyMWs(b.totals.soldMWs)}</Term>
              <Term name="Self-sufficiency">{formatShare(b.selfSufficiency)}</Term>
              <Term name="Self-consumption">{formatShare(b.selfConsumption)}</Term>
              <Term name="CO₂ avoided">{formatExact(b.co2AvoidedGrams, 0)} g</Term>
            </dl>
            <div>
              {charts && charts.energy.times.length > 0 && (
                <Suspense fallback={<Loading what="charts" />}>
                  {charts.cost.times.length > 0 && (
                    <BillChart
                      {...charts.cost}
                      unit="base units"
                      label={`What ${endpoint.name} paid against the retail baseline`}
                    />
                  )}
                  <BillChart
                    {...charts.energy}
                    unit="Wh"
                    label={`Energy ${endpoint.name} bought and sold per period`}
                  />
                </Suspense>
              )}
              <p>
                <BillDownload client={client} cycle={cycle} name={endpoint.name} format="csv" />{' '}
                <BillDownload client={client} cycle={cycle} name={endpoint.name} format="pdf" />
              </p>
            </div>
          </div>
          <h3>Bands</h3>
          <DataTable
            className="data-table"
            caption={`Energy per tariff band of ${endpoint.name}`}
            columns={bandColumns}
            rows={b.bands}
            rowKey={(band) => band.digit}
          />
          <h3>Paid periods ({b.lines.length})</h3>
          <DataTable
            className="data-table"
            caption={`Paid periods of ${endpoint.name}, each with its transaction on the ledger`}
            scrollLabel={`Paid periods of ${endpoint.name}`}
            columns={lineColumns(token)}
            rows={b.lines}
            rowKey={(l) => `${l.transactionId}|${l.key}`}
          />
          {b.warnings.length > 0 && (
            <ul className="bill-warnings" aria-label="Warnings">
              {b.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}

type BandRow = BillJson['bands'][number];
type LineRow = BillJson['lines'][number];

const bandColumns: Column<BandRow>[] = [
  { header: 'Band', cell: (b) => b.digit },
  { header: 'Bought', cell: (b) => formatEnergyMWs(b.boughtMWs) },
  { header: 'Sold', cell: (b) => formatEnergyMWs(b.soldMWs) },
  { header: 'Retail units/Wh', cell: (b) => b.retailUnitsPerWh },
  { header: 'Feed-in units/Wh', cell: (b) => b.feedInUnitsPerWh },
];

function lineColumns(token: TokenInfo | undefined): Column<LineRow>[] {
  return [
    { header: 'Period', cell: (l) => l.periodId ?? l.key },
    { header: 'Direction', cell: (l) => l.direction },
    { header: 'Energy', cell: (l) => formatEnergyMWs(l.energyMWs) },
    { header: 'Amount', cell: (l) => <Amount units={l.amountUnits} token={token} inline /> },
    {
      header: 'Fees',
      cell: (l) => (
        <Amount units={String(BigInt(l.operatorUnits) + BigInt(l.gridUnits))} token={token} inline />
      ),
    },
    { header: 'Readings', cell: (l) => l.readings ?? '—' },
    { header: 'Transaction', cell: (l) => <IdLink id={l.transactionId} /> },
    { header: 'Block', cell: (l) => <IdLink id={l.blockId} /> },
  ];
}

/** The answer to "did joining save me money?", in one sentence. */
function Verdict({ bill }: { bill: BillJson }) {
  const savings = exactToNumber(bill.totals.savingsUnits);
  const text = formatExact(bill.totals.savingsUnits).replace(/^-/, '');
  return (
    <p className="big" data-testid="bill-verdict">
      {savings > 0
        ? `Joining saved ${text} units against the retail supplier and feed-in.`
        : savings < 0
          ? `Joining cost ${text} units more than the retail supplier and feed-in.`
          : 'Joining cost the same as the retail supplier and feed-in.'}
    </p>
  );
}

/** The bill as a CSV or PDF file, fetched with the token in the header and handed over as a Blob URL. */
function BillDownload({
  client,
  cycle,
  name,
  format,
}: {
  client: WalletClient;
  cycle: Cycle;
  name: string;
  format: 'csv' | 'pdf';
}) {
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  const download = async () => {
    setState({ busy: true });
    try {
      const blob = await client.billFile(cycle, format);
      const href = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = href;
      a.download = `${name.replace(/\W+/g, '-').toLowerCase()}-bill-${cycle.from}.${format}`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(href), 0);
      setState({ busy: false });
    } catch (error) {
      setState({
        busy: false,
        error: error instanceof ApiError || error instanceof Error ? error.message : String(error),
      });
    }
  };
  const label = format.toUpperCase();
  return (
    <span className="csv-download">
      <button type="button" onClick={() => void download()} disabled={state.busy}>
        {state.busy ? `Preparing ${label}…` : `Download ${label}`}
      </button>
      {state.error && (
        <span className="reason reason-failed" role="alert">
          {' '}
          {label} download failed: {state.error}
        </span>
      )}
    </span>
  );
}
