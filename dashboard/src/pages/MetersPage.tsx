import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import type { Endpoint } from '../api/config';
import type { AgentSnapshot, MeterClient, PaymentOutcome, PeriodRecord, SampleEvent } from '../api/meter';
import { applyOutcome, periodPaymentState } from '../api/meter';
import { LiveBadge } from '../components/LiveBadge';
import type { PowerPoint } from '../components/PowerChart';
import { ScrollRegion } from '../components/ScrollRegion';
import { StateBadge } from '../components/StateBadge';
import { Empty, ErrorMessage, Loading } from '../components/states';
import { useServices } from '../context';
import { formatAmount, formatPricePerWh, priceToUnitsPerWh } from '../format/amount';
import { formatCurrentUA, formatEnergyMWs, formatPowerUW, formatVoltageMV } from '../format/energy';
import { shortAddress } from '../format/ids';
import { formatDateTime, formatDuration, formatTime, isoTime } from '../format/time';
import { useProtocol } from '../hooks/useProtocol';
import { useNow, useResource } from '../hooks/useResource';
import { useLiveEvent, useLiveStatus, useResync } from '../live/hooks';
import { explorerHref } from '../router';
import { PageHeading } from './PageHeading';

const PowerChart = lazy(() => import('../components/PowerChart'));

const WINDOW_MS = 5 * 60_000;
const PERIODS = 20;

/** Appends a sample and drops what fell out of the window (samples arrive once a second). */
export function pushSample(points: PowerPoint[], sample: PowerPoint, windowMs = WINDOW_MS): PowerPoint[] {
  const last = points[points.length - 1];
  if (last && sample.tMs <= last.tMs) return points;
  const from = sample.tMs - windowMs;
  const kept = points[0] && points[0].tMs < from ? points.filter((p) => p.tMs >= from) : points;
  return [...kept, sample];
}

export function MetersPage() {
  const { meters, wallets } = useServices();
  const protocol = useProtocol(wallets[0]?.client);
  return (
    <>
      <PageHeading title="Meters" />
      {meters.length === 0 ? (
        <Empty>No meter agent is configured: add one to config.json.</Empty>
      ) : (
        meters.map((m) => (
          <MeterPanel key={m.endpoint.url} endpoint={m.endpoint} client={m.client} token={protocol?.token} />
        ))
      )}
    </>
  );
}

function MeterPanel({
  endpoint,
  client,
  token,
}: {
  endpoint: Endpoint;
  client: MeterClient;
  token: { decimals: number; ticker: string } | undefined;
}) {
  const status = useResource((signal) => client.status({ signal }), client.url);
  const periods = useResource((signal) => client.periods(PERIODS, { signal }), client.url);
  const live = useLiveStatus(client.eventsUrl);
  const [points, setPoints] = useState<PowerPoint[]>([]);
  const [lastSample, setLastSample] = useState<SampleEvent | undefined>(undefined);
  const headingId = `meter-${endpoint.name.replace(/\W+/g, '-')}`;

  useEffect(() => {
    const s = status.data?.lastSample;
    if (s && status.data) setPoints((p) => (p.length ? p : [{ tMs: s.tMs, powerUW: status.data!.powerUW }]));
  }, [status.data]);

  useLiveEvent<SampleEvent>(client.eventsUrl, 'sample', (s) => {
    setLastSample(s);
    setPoints((p) => pushSample(p, { tMs: s.tMs, powerUW: s.powerUW }));
  });
  useLiveEvent<AgentSnapshot>(client.eventsUrl, 'status', (s) => status.setData(s));
  useLiveEvent<PeriodRecord>(client.eventsUrl, 'period', (p) =>
    periods.setData((d) => {
      const items = d?.items ?? [];
      return { items: [p, ...items.filter((x) => x.id !== p.id)].slice(0, PERIODS) };
    }),
  );
  useLiveEvent<PaymentOutcome>(client.eventsUrl, 'payment', (o) =>
    periods.setData((d) => (d ? { items: applyOutcome(d.items, o) } : d)),
  );
  useResync(client.eventsUrl, () => {
    status.reload();
    periods.reload();
  });

  const snapshot = status.data;
  const powerUW = lastSample ? lastSample.powerUW : snapshot?.powerUW;
  const readings = lastSample?.readings ?? snapshot?.lastSample?.readings ?? [];

  return (
    <section className="panel meter" aria-labelledby={headingId}>
      <div className="section-heading">
        <h2 id={headingId}>
          {endpoint.name}
          {snapshot && (
            <span className="muted">
              {' '}
              · {snapshot.meterId} ({snapshot.role})
            </span>
          )}
        </h2>
        <LiveBadge status={live} source={endpoint.name} />
      </div>
      {!snapshot ? (
        status.loading ? (
          <Loading what={`${endpoint.name} status`} />
        ) : (
          <ErrorMessage error={status.error} what={`${endpoint.name} status`} retry={status.reload} />
        )
      ) : (
        <>
          {!snapshot.running && (
            <div className="banner banner-warn" role="alert">
              The agent reports that it is not running.
            </div>
          )}
          <div className="meter-grid">
            <div>
              <p className="big" data-testid="power-now">
                {formatPowerUW(powerUW)}
              </p>
              <p className="muted">power now{lastSample ? ` · ${formatTime(lastSample.tMs)}` : ''}</p>
              <Suspense fallback={<Loading what="chart" />}>
                <PowerChart
                  points={points}
                  windowMs={WINDOW_MS}
                  label={`Power of ${endpoint.name} over the last 5 minutes`}
                />
              </Suspense>
              {readings.length > 0 && <Readings readings={readings} />}
            </div>
            <CurrentPeriod snapshot={snapshot} token={token} />
          </div>
        </>
      )}
      <h3>Period history</h3>
      <PeriodsTable
        periods={periods.data?.items}
        loading={periods.loading}
        error={periods.error}
        retry={periods.reload}
        token={token}
        label={endpoint.name}
      />
    </section>
  );
}

function Readings({ readings }: { readings: SampleEvent['readings'] }) {
  return (
    <ul className="readings" aria-label="Latest sensor readings">
      {readings.map((r) => (
        <li key={r.sensor}>
          <strong>{r.sensor}</strong>{' '}
          {'error' in r ? (
            <span className="badge badge-conflicting">read error: {r.error}</span>
          ) : (
            <>
              {formatPowerUW(r.powerUW)} · {formatVoltageMV(r.busVoltageMV)} · {formatCurrentUA(r.currentUA)}
              {r.overflow && <span className="badge badge-submitted">overflow</span>}
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

function CurrentPeriod({
  snapshot,
  token,
}: {
  snapshot: AgentSnapshot;
  token: { decimals: number; ticker: string } | undefined;
}) {
  const now = useNow(1000);
  const { period } = snapshot;
  const total = period.endMs - period.startMs;
  const elapsed = Math.min(total, Math.max(0, now - period.startMs));
  const amount = formatAmount(period.amountSoFar, token);
  const purchase = snapshot.purchase;
  return (
    <div className="current-period">
      <h3>This period</h3>
      <dl>
        <dt>Period</dt>
        <dd>
          #{period.seq}: <time dateTime={isoTime(period.startMs)}>{formatTime(period.startMs)}</time> –{' '}
          <time dateTime={isoTime(period.endMs)}>{formatTime(period.endMs)}</time>
          <progress max={total} value={elapsed} aria-label="Period elapsed" className="block" />
          <span className="muted">{formatDuration(Math.max(0, period.endMs - now))} left</span>
        </dd>
        <dt>Energy so far</dt>
        <dd aria-live="polite" data-testid="period-energy">
          {formatEnergyMWs(period.energyMWs)}
        </dd>
        <dt>Amount so far</dt>
        <dd>
          {amount.tokens} <span className="muted">({amount.units})</span>
        </dd>
        <dt>Samples</dt>
        <dd>
          {period.quality.samples}
          {period.quality.readErrors ? `, ${period.quality.readErrors} read errors` : ''}
          {period.quality.gapCount ? `, ${period.quality.gapCount} gaps` : ''}
        </dd>
        <dt>Relay</dt>
        <dd>
          {snapshot.relay ? (
            <span className={`badge ${snapshot.relay.on ? 'badge-included' : 'badge-conflicting'}`}>
              <span aria-hidden="true">{snapshot.relay.on ? '● ' : '○ '}</span>
              {snapshot.relay.on ? 'on' : 'off'}
            </span>
          ) : (
            <span className="muted">none</span>
          )}
          {snapshot.relay && <span className="muted"> {snapshot.relay.description}</span>}
        </dd>
        <dt>Prepaid</dt>
        <dd>
          {purchase ? (
            <>
              {formatEnergyMWs(purchase.deliveredMWs)} of {formatEnergyMWs(purchase.energyMWs)} delivered
              <progress
                className="block"
                max={Number(purchase.energyMWs) || 1}
                value={Math.min(Number(purchase.deliveredMWs), Number(purchase.energyMWs))}
                aria-label="Prepaid energy delivered"
              />
            </>
          ) : (
            <span className="muted">no prepaid budget</span>
          )}
        </dd>
        <dt>Parties</dt>
        <dd>
          pays{' '}
          <a href={explorerHref(snapshot.producer)} title={snapshot.producer}>
            <code>{shortAddress(snapshot.producer)}</code>
          </a>{' '}
          from{' '}
          <a href={explorerHref(snapshot.consumer)} title={snapshot.consumer}>
            <code>{shortAddress(snapshot.consumer)}</code>
          </a>
        </dd>
        {snapshot.outbox && snapshot.outbox.queued.length > 0 && (
          <>
            <dt>Waiting to pay</dt>
            <dd>
              {snapshot.outbox.queued.length} period(s)
              {snapshot.outbox.queued[0]?.lastError && (
                <span className="muted block">{snapshot.outbox.queued[0].lastError}</span>
              )}
            </dd>
          </>
        )}
      </dl>
      {snapshot.errors && snapshot.errors.length > 0 && (
        <details>
          <summary>Recent errors ({snapshot.errors.length})</summary>
          <ul>
            {snapshot.errors.slice(-5).map((e) => (
              <li key={`${e.atMs}-${e.message}`}>
                {formatDateTime(e.atMs)}: {e.message}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

function PeriodsTable({
  periods,
  loading,
  error,
  retry,
  token,
  label,
}: {
  periods: PeriodRecord[] | undefined;
  loading: boolean;
  error: unknown;
  retry: () => void;
  token: { decimals: number; ticker: string } | undefined;
  label: string;
}) {
  const power = useCallback((uW: number | null) => formatPowerUW(uW), []);
  if (!periods) {
    if (loading) return <Loading what="periods" />;
    return <ErrorMessage error={error} what="periods" retry={retry} />;
  }
  if (periods.length === 0) return <Empty>No period has closed yet.</Empty>;
  return (
    <ScrollRegion label={`Periods of ${label}, scrollable`}>
      <table>
        <caption className="visually-hidden">Closed periods of {label}, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Period</th>
            <th scope="col">Energy</th>
            <th scope="col">Price</th>
            <th scope="col">Amount</th>
            <th scope="col">Quality</th>
            <th scope="col">Power min / mean / max</th>
            <th scope="col">Payment</th>
          </tr>
        </thead>
        <tbody>
          {periods.map((p) => {
            const a = formatAmount(p.amount, token);
            const q = p.quality;
            return (
              <tr key={p.id}>
                <th scope="row" title={p.id}>
                  #{p.seq}{' '}
                  <span className="muted block">
                    {formatTime(p.startMs)} – {formatTime(p.endMs)}
                  </span>
                </th>
                <td className="num">{formatEnergyMWs(p.energyMWs)}</td>
                <td>{formatPricePerWh(priceToUnitsPerWh(p.price), token)}</td>
                <td className="num">
                  {a.tokens}
                  <span className="muted block">({a.units})</span>
                </td>
                <td>
                  {q.samples} samples
                  <span className="muted block">
                    {q.gapCount ?? 0} gaps{q.gapMs ? ` (${formatDuration(q.gapMs)})` : ''}, {q.overflows}{' '}
                    overflows, {q.readErrors} read errors
                    {q.missedTicks ? `, ${q.missedTicks} missed ticks` : ''}
                  </span>
                </td>
                <td className="num">
                  {power(q.minPowerUW)} / {power(q.meanPowerUW)} / {power(q.maxPowerUW)}
                </td>
                <td>
                  <StateBadge state={periodPaymentState(p)} />
                  {p.outcome?.reason && <span className="muted block">{p.outcome.reason}</span>}
                  {p.payment.state === 'due' && (
                    <span className="block">
                      <a href="#/payments">see payments</a>
                    </span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
