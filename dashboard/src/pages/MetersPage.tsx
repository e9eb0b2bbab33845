import { lazy, Suspense, useEffect, useState } from 'react';
import type { Endpoint } from '../api/config';
import type { AgentSnapshot, MeterClient, PaymentOutcome, PeriodRecord, SampleEvent } from '../api/meter';
import { applyOutcome, periodPaymentState } from '../api/meter';
import { DataTable } from '../components/DataTable';
import { AddressLink } from '../components/IdLink';
import { LiveBadge } from '../components/LiveBadge';
import type { PowerPoint } from '../components/PowerChart';
import { StateBadge } from '../components/StateBadge';
import { Empty, ErrorMessage, Loading, NotLoaded } from '../components/states';
import { Term } from '../components/Term';
import { useServices } from '../context';
import { formatAmount, formatPricePerWh, priceToUnitsPerWh } from '../format/amount';
import { formatCurrentUA, formatEnergyMWs, formatPowerUW, formatVoltageMV } from '../format/energy';
import { formatDateTime, formatDuration, formatTime, isoTime } from '../format/time';
import { useProtocol } from '../hooks/useProtocol';
import { useNow, useResource } from '../hooks/useResource';
import { useLiveEvent, useLiveStatus, useResync } from '../live/hooks';
import { Registers, TariffSoFar } from './meters/tariff';
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
            <div>
              <CurrentPeriod snapshot={snapshot} token={token} />
              <TariffSoFar period={snapshot.period} token={token} label={endpoint.name} />
              {snapshot.registers && <Registers registers={snapshot.registers} label={endpoint.name} />}
            </div>
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

function Relay({ relay }: { relay: AgentSnapshot['relay'] }) {
  if (!relay) return <span className="muted">none</span>;
  return (
    <>
      <span className={`badge ${relay.on ? 'badge-included' : 'badge-conflicting'}`}>
        <span aria-hidden="true">{relay.on ? '● ' : '○ '}</span>
        {relay.on ? 'on' : 'off'}
      </span>
      <span className="muted"> {relay.description}</span>
    </>
  );
}

function Prepaid({ purchase }: { purchase: AgentSnapshot['purchase'] }) {
  if (!purchase) return <span className="muted">no prepaid budget</span>;
  return (
    <>
      {formatEnergyMWs(purchase.deliveredMWs)} of {formatEnergyMWs(purchase.energyMWs)} delivered
      <progress
        className="block"
        max={Number(purchase.energyMWs) || 1}
        value={Math.min(Number(purchase.deliveredMWs), Number(purchase.energyMWs))}
        aria-label="Prepaid energy delivered"
      />
    </>
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
  return (
    <div className="current-period">
      <h3>This period</h3>
      <dl>
        <Term name="Period">
          #{period.seq}: <time dateTime={isoTime(period.startMs)}>{formatTime(period.startMs)}</time> –{' '}
          <time dateTime={isoTime(period.endMs)}>{formatTime(period.endMs)}</time>
          <progress max={total} value={elapsed} aria-label="Period elapsed" className="block" />
          <span className="muted">{formatDuration(Math.max(0, period.endMs - now))} left</span>
        </Term>
        <Term name="Energy so far" aria-live="polite" data-testid="period-energy">
          {formatEnergyMWs(period.energyMWs)}
        </Term>
        <Term name="Amount so far">
          {amount.tokens} <span className="muted">({amount.units})</span>
        </Term>
        <Term name="Samples">
          {period.quality.samples}
          {period.quality.readErrors ? `, ${period.quality.readErrors} read errors` : ''}
          {period.quality.gapCount ? `, ${period.quality.gapCount} gaps` : ''}
        </Term>
        <Term name="Relay">
          <Relay relay={snapshot.relay} />
        </Term>
        <Term name="Prepaid">
          <Prepaid purchase={snapshot.purchase} />
        </Term>
        <Term name="Parties">
          pays <AddressLink address={snapshot.producer} /> from <AddressLink address={snapshot.consumer} />
        </Term>
        {snapshot.outbox && snapshot.outbox.queued.length > 0 && (
          <Term name="Waiting to pay">
            {snapshot.outbox.queued.length} period(s)
            {snapshot.outbox.queued[0]?.lastError && (
              <span className="muted block">{snapshot.outbox.queued[0].lastError}</span>
            )}
          </Term>
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
  if (!periods) return <NotLoaded loading={loading} error={error} what="periods" retry={retry} />;
  if (periods.length === 0) return <Empty>No period has closed yet.</Empty>;
  return (
    <DataTable
      scrollLabel={`Periods of ${label}, scrollable`}
      caption={`Closed periods of ${label}, newest first`}
      rows={periods}
      rowKey={(p) => p.id}
      columns={[
        {
          header: 'Period',
          attrs: (p) => ({ title: p.id }),
          cell: (p) => (
            <>
              #{p.seq}{' '}
              <span className="muted block">
                {formatTime(p.startMs)} – {formatTime(p.endMs)}
              </span>
            </>
          ),
        },
        { header: 'Energy', attrs: { className: 'num' }, cell: (p) => formatEnergyMWs(p.energyMWs) },
        { header: 'Price', cell: (p) => formatPricePerWh(priceToUnitsPerWh(p.price), token) },
        {
          header: 'Amount',
          attrs: { className: 'num' },
          cell: (p) => {
            const a = formatAmount(p.amount, token);
            return (
              <>
                {a.tokens}
                <span className="muted block">({a.units})</span>
              </>
            );
          },
        },
        { header: 'Quality', cell: (p) => <Quality quality={p.quality} /> },
        {
          header: 'Power min / mean / max',
          attrs: { className: 'num' },
          cell: ({ quality: q }) =>
            `${formatPowerUW(q.minPowerUW)} / ${formatPowerUW(q.meanPowerUW)} / ${formatPowerUW(q.maxPowerUW)}`,
        },
        {
          header: 'Payment',
          cell: (p) => (
            <>
              <StateBadge state={periodPaymentState(p)} />
              {p.outcome?.reason && <span className="muted block">{p.outcome.reason}</span>}
              {p.payment.state === 'due' && (
                <span className="block">
                  <a href="#/payments">see payments</a>
                </span>
              )}
            </>
          ),
        },
      ]}
    />
  );
}

function Quality({ quality: q }: { quality: PeriodRecord['quality'] }) {
  return (
    <>
      {q.samples} samples
      <span className="muted block">
        {q.gapCount ?? 0} gaps{q.gapMs ? ` (${formatDuration(q.gapMs)})` : ''}, {q.overflows} overflows,{' '}
        {q.readErrors} read errors
        {q.missedTicks ? `, ${q.missedTicks} missed ticks` : ''}
      </span>
    </>
  );
}
