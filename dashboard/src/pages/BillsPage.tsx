import { lazy, Suspense, useMemo, useState } from 'react';
import type { Endpoint } from '../api/config';
import { ApiError } from '../api/http';
import type { BillJson, WalletClient } from '../api/wallet';
import { Amount } from '../components/Amount';
import type { BillPoint } from '../components/BillChart';
import { IdLink } from '../components/IdLink';
import { Empty, Loading, NotLoaded } from '../components/states';
import { useServices } from '../context';
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

/** Running totals of what was paid and what the retail supplier would have charged, line by line. */
export function billPoints(bill: BillJson): BillPoint[] {
  const retailOf = new Map(bill.bands.map((b) => [String(b.digit), exactToNumber(b.retailUnitsPerWh)]));
  let paid = 0;
  let retail = 0;
  return bill.lines
    .filter((l) => l.direction === 'bought')
    .map((l) => {
      paid += Number(l.amountUnits) + Number(l.operatorUnits) + Number(l.gridUnits);
      for (const [digit, mws] of Object.entries(l.bands))
        retail += (Number(mws) / 3_600_000) * (retailOf.get(digit) ?? 0);
      const tMs = l.periodStart ? Date.parse(l.periodStart) : l.milestoneTimestamp * 1000;
      return { tMs, paid, retail };
    });
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
  const points = useMemo(() => (bill.data ? billPoints(bill.data) : []), [bill.data]);
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
              <dt>Paid in all</dt>
              <dd>
                <Amount units={b.totals.paidUnits} token={token} inline />
              </dd>
              <dt>of which operator fee</dt>
              <dd>
                <Amount units={b.totals.operatorFeeUnits} token={token} inline />
              </dd>
              <dt>of which grid fee</dt>
              <dd>
                <Amount units={b.totals.gridFeeUnits} token={token} inline />
              </dd>
              <dt>Earned</dt>
              <dd>
                <Amount units={b.totals.earnedUnits} token={token} inline />
              </dd>
              <dt>Retail baseline</dt>
              <dd>{formatExact(b.totals.retailBaselineUnits)} units</dd>
              <dt>Feed-in baseline</dt>
              <dd>{formatExact(b.totals.feedInBaselineUnits)} units</dd>
              <dt>Energy bought</dt>
              <dd>{formatEnergyMWs(b.totals.boughtMWs)}</dd>
              <dt>Energy sold</dt>
              <dd>{formatEnergyMWs(b.totals.soldMWs)}</dd>
              <dt>Self-sufficiency</dt>
              <dd>{formatShare(b.selfSufficiency)}</dd>
              <dt>Self-consumption</dt>
              <dd>{formatShare(b.selfConsumption)}</dd>
              <dt>CO₂ avoided</dt>
              <dd>{formatExact(b.co2AvoidedGrams, 0)} g</dd>
            </dl>
            <div>
              {points.length > 0 && (
                <Suspense fallback={<Loading what="chart" />}>
                  <BillChart
                    points={points}
                    label={`What ${endpoint.name} paid against the retail baseline`}
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
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Band</th>
                <th scope="col">Bought</th>
                <th scope="col">Sold</th>
                <th scope="col">Retail units/Wh</th>
                <th scope="col">Feed-in units/Wh</th>
              </tr>
            </thead>
            <tbody>
              {b.bands.map((band) => (
                <tr key={band.digit}>
                  <td>{band.digit}</td>
                  <td>{formatEnergyMWs(band.boughtMWs)}</td>
                  <td>{formatEnergyMWs(band.soldMWs)}</td>
                  <td>{band.retailUnitsPerWh}</td>
                  <td>{band.feedInUnitsPerWh}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Paid periods ({b.lines.length})</h3>
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Period</th>
                <th scope="col"> </th>
                <th scope="col">Energy</th>
                <th scope="col">Amount</th>
                <th scope="col">Transaction</th>
              </tr>
            </thead>
            <tbody>
              {b.lines.map((l) => (
                <tr key={`${l.transactionId}|${l.key}`}>
                  <td>{l.periodId ?? l.key}</td>
                  <td>{l.direction}</td>
                  <td>{formatEnergyMWs(l.energyMWs)}</td>
                  <td>
                    <Amount units={l.amountUnits} token={token} inline />
                  </td>
                  <td>
                    <IdLink id={l.transactionId} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
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
